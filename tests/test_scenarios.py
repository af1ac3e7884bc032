"""scenarios: extends-merge, validation errors naming file:line and field path, JSON schema."""
import json
from pathlib import Path

import pytest

import scenarios
from scenarios import ScenarioError, deep_merge

SCN = Path(scenarios.__file__).resolve().parent


def write(p: Path, text: str) -> Path:
    p.write_text(text, encoding="utf-8")
    return p


def test_extends_merges_and_overrides(tmp_path):
    write(tmp_path / "base.yaml", "seed: 5\nhorizon_weeks: 52\ndata:\n  demo: {skus: 100, seed: 9}\n")
    child = write(tmp_path / "child.yaml", "extends: base\nhorizon_weeks: 13\ndata:\n  demo: {skus: 50}\n")
    s = scenarios.load(child)
    assert s.name == "child" and s.seed == 5 and s.horizon_weeks == 13
    assert s.data.demo.skus == 50 and s.data.demo.seed == 9  # nested keys merge, not replace


def test_unknown_key_names_file_line_and_path(tmp_path):
    write(tmp_path / "base.yaml", "seed: 5\n")
    bad = write(tmp_path / "bad.yaml", "extends: base\ndata:\n  demo:\n    skus: 50\n    colour: red\n")
    with pytest.raises(ScenarioError) as e:
        scenarios.load(bad)
    msg = str(e.value)
    assert f"{bad.resolve()}:5" in msg and "data.demo.colour" in msg and "Extra inputs" in msg


def test_all_problems_reported_at_once(tmp_path):
    bad = write(tmp_path / "bad.yaml", "seed: x\nhorizon_weeks: 0\n")
    with pytest.raises(ScenarioError, match=r"2 problem") as e:
        scenarios.load(bad)
    assert "seed" in str(e.value) and "horizon_weeks" in str(e.value)


def test_circular_extends_and_missing_file(tmp_path):
    write(tmp_path / "a.yaml", "extends: b\n")
    write(tmp_path / "b.yaml", "extends: a\n")
    with pytest.raises(ScenarioError, match="circular"):
        scenarios.load(tmp_path / "a.yaml")
    with pytest.raises(ScenarioError, match="not found"):
        scenarios.load(tmp_path / "nope.yaml")


def test_duplicate_keys_and_bad_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="invalid YAML"):
        scenarios.load(write(tmp_path / "d.yaml", "seed: 1\nseed: 2\n"))
    with pytest.raises(ScenarioError, match="invalid YAML"):
        scenarios.load(write(tmp_path / "e.yaml", "seed: [1\n"))


def test_deep_merge_lists_replace():
    assert deep_merge({"a": {"b": 1, "c": [1, 2]}}, {"a": {"c": [3]}}) == {"a": {"b": 1, "c": [3]}}


@pytest.mark.parametrize("path", sorted(p for p in SCN.glob("*.yaml")) + sorted(SCN.glob("tiny/*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_scenarios_validate(path):
    s = scenarios.load(path)
    assert s.name == path.stem
    again = scenarios.Scenario.model_validate(json.loads(json.dumps(s.model_dump(mode="json"))))
    assert again == s  # the merged scenario round-trips through its dump


def test_json_schema_file_is_current():
    shipped = json.loads((SCN / "scenario.schema.json").read_text())
    assert shipped == scenarios.json_schema(), "regenerate: python -m scenarios.schema_file"
