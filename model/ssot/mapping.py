"""Mapping and sources-manifest files: how a source export becomes one canonical SSOT table.

A **mapping** (YAML file or inline dict) turns one source file into one canonical table of
:mod:`model.ssot.schema`. Canonical column ``c`` takes its value from exactly one of

* ``columns: {c: source_column}``  — a rename,
* ``derive: {c: 'SQL expression'}`` — a DuckDB expression over the source columns (double-quoted names),
* ``constants: {c: value}``        — the same value on every row,
* a source column already named ``c`` (identity),

and is then parsed (``parse: {c: strptime format}``) or cast to the canonical type, and converted
(``convert: {c: {multiply: m, add: a}}``: ``value * m + a``, e.g. grams → kg with ``m = 0.001``).

A **sources manifest** lists files (or ``sql:`` queries over the manifest's ``views``) with their kind and
mapping; paths are relative to the manifest. See docs/ssot.md for the full format.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from model.ssot.schema import INGEST_KINDS, INGEST_ORDER, TABLES


class IngestError(ValueError):
    """A file (or mapping / manifest) is refused as a whole; the message names file, row, column and
    what was expected. ``result`` carries the partial :class:`ManifestResult` when a manifest stops."""

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


MAPPING_KEYS = {"kind", "format", "csv", "columns", "parse", "convert", "constants", "derive", "extra_columns"}
CSV_KEYS = {"delimiter", "header", "quote", "escape", "encoding", "skip"}
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "latin-1": "latin-1", "latin1": "latin-1",
             "iso-8859-1": "latin-1", "utf-16": "utf-16"}
FORMATS = ("csv", "parquet", "jsonl")


@dataclass(frozen=True)
class CsvOptions:
    """Reader options for delimited text. ``encoding`` is one DuckDB reads natively."""

    delimiter: str = ","
    header: bool = True
    quote: str = '"'
    escape: str = '"'
    encoding: str = "utf-8"
    skip: int = 0


@dataclass(frozen=True)
class Mapping:
    """A validated mapping. ``origin`` names where it came from (for messages)."""

    origin: str = "(no mapping)"
    kind: str | None = None
    format: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    columns: dict[str, str] = field(default_factory=dict)
    parse: dict[str, list[str]] = field(default_factory=dict)
    convert: dict[str, tuple[float, float]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    extra_columns: str = "error"
    digest: str | None = None  # sha256 of the mapping's canonical JSON; None without a mapping

    def source_of(self, column: str) -> str:
        """Which mapping section provides canonical ``column`` ('columns', 'derive', 'constants' or '')."""
        for section in ("columns", "derive", "constants"):
            if column in getattr(self, section):
                return section
        return ""


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file; errors name the file (and line, from ruamel)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IngestError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as e:
        raise IngestError(f"{path}: {what} is not UTF-8 text ({e})") from None
    try:
        y = YAML(typ="safe", pure=True)
        y.allow_duplicate_keys = False
        return y.load(io.StringIO(text))
    except YAMLError as e:
        raise IngestError(f"{path}: invalid YAML in {what}: {e}") from None


def _need_dict(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise IngestError(f"{where}: expected a mapping of canonical column -> value, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _check_columns(names, table: str, where: str) -> None:
    unknown = sorted(set(names) - set(TABLES[table].column_names))
    if unknown:
        raise IngestError(f"{where}: {', '.join(unknown)} not column(s) of canonical table {table!r} "
                          f"(columns: {', '.join(TABLES[table].column_names)})")


def _csv_options(raw: Any, where: str) -> CsvOptions:
    opts = _need_dict(raw, f"{where}: csv")
    unknown = sorted(set(opts) - CSV_KEYS)
    if unknown:
        raise IngestError(f"{where}: csv: unknown option(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(CSV_KEYS))}")
    enc = str(opts.get("encoding", "utf-8")).lower()
    if enc not in ENCODINGS:
        raise IngestError(f"{where}: csv.encoding {enc!r} not supported; use one of {', '.join(sorted(ENCODINGS))}")
    opts["encoding"] = ENCODINGS[enc]
    for key in ("delimiter", "quote", "escape"):
        if key in opts and (not isinstance(opts[key], str) or len(opts[key]) > 1):
            raise IngestError(f"{where}: csv.{key} must be one character, got {opts[key]!r}")
    return CsvOptions(**opts)


def _format(fmt: Any, where: str) -> str | None:
    if fmt is not None and fmt not in FORMATS:
        raise IngestError(f"{where}: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt


def _convert(raw: Any, where: str) -> dict[str, tuple[float, float]]:
    out = {}
    for col, spec in _need_dict(raw, f"{where}: convert").items():
        spec = _need_dict(spec, f"{where}: convert.{col}")
        if not spec or set(spec) - {"multiply", "add"}:
            raise IngestError(f"{where}: convert.{col} needs multiply and/or add, got {sorted(spec)}")
        try:
            out[col] = (float(spec.get("multiply", 1.0)), float(spec.get("add", 0.0)))
        except (TypeError, ValueError):
            raise IngestError(f"{where}: convert.{col}: multiply/add must be numbers, got {spec}") from None
    return out


def parse_mapping(raw: Any, kind: str, origin: str) -> Mapping:
    """Validate a mapping document for canonical table ``kind``; every error names ``origin`` and the key."""
    doc = _need_dict(raw, origin)
    unknown = sorted(set(doc) - MAPPING_KEYS)
    if unknown:
        raise IngestError(f"{origin}: unknown mapping key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(MAPPING_KEYS))}")
    if doc.get("kind") not in (None, kind):
        raise IngestError(f"{origin}: mapping is for kind {doc['kind']!r} but the file is ingested as {kind!r}")
    fmt = _format(doc.get("format"), origin)
    extra = doc.get("extra_columns", "error")
    if extra not in ("error", "ignore"):
        raise IngestError(f"{origin}: extra_columns must be 'error' or 'ignore', got {extra!r}")
    sections = {s: _need_dict(doc.get(s), f"{origin}: {s}") for s in ("columns", "constants", "derive", "parse")}
    convert = _convert(doc.get("convert"), origin)
    for name, sec in [*sections.items(), ("convert", convert)]:
        _check_columns(sec, kind, f"{origin}: {name}")
    seen: dict[str, str] = {}
    for name in ("columns", "derive", "constants"):
        for col in sections[name]:
            if col in seen:
                raise IngestError(f"{origin}: column {col!r} is given by both {seen[col]} and {name}; keep one")
            seen[col] = name
    parse = {c: [f] if isinstance(f, str) else [str(x) for x in f] for c, f in sections["parse"].items()}
    for col in parse:
        if TABLES[kind].column(col).type not in ("DATE", "TIMESTAMP"):
            raise IngestError(f"{origin}: parse.{col}: only DATE/TIMESTAMP columns take a strptime format")
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
    return Mapping(origin=origin, kind=kind, format=fmt, csv=_csv_options(doc.get("csv"), origin),
                   columns={c: str(s) for c, s in sections["columns"].items()}, parse=parse, convert=convert,
                   constants=sections["constants"], derive={c: str(e) for c, e in sections["derive"].items()},
                   extra_columns=extra, digest=digest)


def load_mapping(spec: str | Path | dict | Mapping | None, kind: str, base_dir: Path | None = None) -> Mapping:
    """A :class:`Mapping` from a YAML path, an inline dict, an existing Mapping or None (identity)."""
    if kind not in INGEST_KINDS:
        raise IngestError(f"unknown kind {kind!r}; expected one of {', '.join(INGEST_KINDS)}")
    if spec is None:
        return Mapping(kind=kind)
    if isinstance(spec, Mapping):
        if spec.kind not in (None, kind):
            raise IngestError(f"{spec.origin}: mapping is for kind {spec.kind!r} but the file is ingested as {kind!r}")
        return spec
    if isinstance(spec, dict):
        return parse_mapping(spec, kind, "inline mapping")
    path = Path(spec)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    return parse_mapping(read_yaml(path, "mapping"), kind, str(path))


# ------------------------------------------------------------------------------------------ manifests
ENTRY_KEYS = {"path", "sql", "name", "kind", "mapping"}
VIEW_KEYS = {"path", "format", "csv"}


@dataclass(frozen=True)
class ManifestEntry:
    """One item of a manifest: a file (``path``) or a query (``sql`` over the manifest's views)."""

    kind: str
    mapping: Mapping
    path: Path | None = None
    sql: str | None = None
    name: str = ""

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else f"sql:{self.name}"


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    entries: tuple[ManifestEntry, ...]
    views: dict[str, Mapping] = field(default_factory=dict)  # view name -> reader options (format, csv)
    view_paths: dict[str, Path] = field(default_factory=dict)


def _entry(raw: Any, i: int, base: Path, root: Path, origin: str) -> ManifestEntry:
    where = f"{origin}: files[{i}]"
    item = _need_dict(raw, where)
    unknown = sorted(set(item) - ENTRY_KEYS)
    if unknown:
        raise IngestError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(ENTRY_KEYS))}")
    if ("path" in item) == ("sql" in item):
        raise IngestError(f"{where}: give exactly one of 'path' (a file) or 'sql' (a query over views)")
    kind = item.get("kind")
    if kind not in INGEST_KINDS:
        raise IngestError(f"{where}: kind {kind!r} unknown; expected one of {', '.join(INGEST_KINDS)}")
    mapping = load_mapping(item.get("mapping"), kind, base)
    path = (root / item["path"]).resolve() if "path" in item else None
    name = str(item.get("name") or (item["path"] if path else f"{kind}_{i}"))
    return ManifestEntry(kind=kind, mapping=mapping, path=path, sql=item.get("sql"), name=name)


def _views(raw: Any, base: Path, origin: str) -> tuple[dict[str, Mapping], dict[str, Path]]:
    opts, paths = {}, {}
    for name, spec in _need_dict(raw, f"{origin}: views").items():
        if not name.isidentifier() or name in TABLES:
            raise IngestError(f"{origin}: views.{name}: view names must be identifiers and not canonical tables")
        spec = {"path": spec} if isinstance(spec, str) else _need_dict(spec, f"{origin}: views.{name}")
        if "path" not in spec or set(spec) - VIEW_KEYS:
            raise IngestError(f"{origin}: views.{name}: needs 'path' (+ optional format, csv), got {sorted(spec)}")
        paths[name] = (base / spec.pop("path")).resolve()
        where = f"{origin}: views.{name}"
        opts[name] = Mapping(origin=where, format=_format(spec.get("format"), where),
                             csv=_csv_options(spec.get("csv"), where), extra_columns="ignore")
    return opts, paths


def load_manifest(path: str | Path, root: str | Path | None = None) -> Manifest:
    """Read and validate a sources manifest; entries are returned in dependency order (INGEST_ORDER).

    Data files (``files[].path``, ``views``) are relative to ``root``: the argument, else the manifest's
    ``root:`` key (relative to the manifest), else the manifest's folder. Mapping files are relative to
    the manifest's folder."""
    path = Path(path)
    doc = _need_dict(read_yaml(path, "sources manifest"), str(path))
    unknown = sorted(set(doc) - {"name", "files", "views", "description", "root"})
    if unknown:
        raise IngestError(f"{path}: unknown manifest key(s) {', '.join(unknown)}; "
                          f"allowed: name, root, files, views, description")
    files = doc.get("files")
    if not isinstance(files, list) or not files:
        raise IngestError(f"{path}: 'files' must be a non-empty list of {{path|sql, kind, mapping}}")
    data_root = Path(root) if root is not None else path.parent / str(doc.get("root", "."))
    views, view_paths = _views(doc.get("views"), data_root, str(path))
    entries = [_entry(item, i, path.parent, data_root, str(path)) for i, item in enumerate(files)]
    entries.sort(key=lambda e: INGEST_ORDER.index(e.kind))  # stable: list order within a kind
    return Manifest(path=path, name=str(doc.get("name") or path.stem), entries=tuple(entries),
                    views=views, view_paths=view_paths)
