"""Load a scenario: read YAML (with line numbers), resolve ``extends``, deep-merge, validate once.

Errors name the file, the field path and — where the YAML has it — the line:
``scenarios/peak.yaml:12: inventory.service_level: Input should be less than or equal to 1``.
"""
from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from scenarios.schema import Scenario

SCENARIO_DIR = Path(__file__).resolve().parent


class ScenarioError(ValueError):
    """A scenario file is unreadable or invalid; the message lists every problem."""


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{path}: not UTF-8 text ({e})") from None
    try:
        return _yaml().load(io.StringIO(text)) or {}
    except YAMLError as e:
        raise ScenarioError(f"{path}: invalid YAML: {e}") from None


def _plain(node: Any) -> Any:
    """ruamel's commented maps/sequences → plain dicts/lists (keeps values)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def deep_merge(base: dict, override: dict) -> dict:
    """Mappings merge key by key; lists and scalars in ``override`` replace those in ``base``."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _line_of(raw: Any, loc: tuple) -> int | None:
    node, line = raw, None
    for key in loc:
        try:
            if hasattr(node, "lc"):
                if isinstance(key, int) and isinstance(node, list):
                    line = node.lc.item(key)[0] + 1
                elif isinstance(node, dict) and key in node:
                    line = node.lc.key(key)[0] + 1
            node = node[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def resolve(path: str | Path, _seen: tuple = ()) -> tuple[dict, list[tuple[Path, Any]]]:
    """Merged plain dict of ``path`` and its ``extends`` chain; also the raw documents (for line numbers)."""
    path = Path(path).resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise ScenarioError(f"{path}: circular 'extends': {chain}")
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: a scenario must be a mapping of sections, got {type(raw).__name__}")
    doc = _plain(raw)
    parent_name = doc.pop("extends", None)
    docs = [(path, raw)]
    if parent_name:
        parent = Path(parent_name)
        if not parent.suffix:
            parent = parent.with_suffix(".yaml")
        if not parent.is_absolute():
            parent = path.parent / parent
        base, parent_docs = resolve(parent, (*_seen, path))
        doc = deep_merge(base, doc)
        docs = parent_docs + docs
    return doc, docs


def load(path: str | Path, overrides: dict | None = None) -> Scenario:
    """Merge and validate a scenario file. The scenario's ``name`` defaults to the file's stem."""
    path = Path(path)
    doc, docs = resolve(path)
    doc.setdefault("name", path.stem)
    if overrides:
        doc = deep_merge(doc, overrides)
    try:
        scn = Scenario.model_validate(doc)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            where = str(path)
            for f, raw in reversed(docs):  # the most specific file that mentions the field
                line = _line_of(raw, loc)
                if line is not None:
                    where = f"{f}:{line}"
                    break
            problems.append(f"{where}: {field}: {err['msg']}")
        raise ScenarioError(f"scenario {path} is invalid ({len(problems)} problem(s)):\n  " +
                            "\n  ".join(problems)) from None
    return scn


def dump(scn: Scenario) -> str:
    """The merged scenario as YAML (written beside every run's outputs)."""
    buf = io.StringIO()
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.dump(scn.model_dump(mode="json"), buf)
    return buf.getvalue()


def json_schema() -> dict:
    """JSON schema for editors, generated from the pydantic models."""
    return Scenario.model_json_schema()
