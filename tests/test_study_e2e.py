"""The whole chain on the CI miniature: SSOT → forecast → pricing → inventory → workforce → simulation → report,
its outputs, its provenance, the run in the SSOT, and reproducibility (same scenario and seed, same numbers)."""
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import scenarios
from model.ssot.store import open_store
from model.study import STAGES, StageFailed, run_study

TINY = Path(scenarios.__file__).resolve().parent / "tiny" / "tiny.yaml"
PLAN_TABLES = ("forecast", "plan_prices", "plan_orders", "plan_inventory", "plan_cash", "plan_coverage")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run_study(scenarios.load(TINY), out, quiet=True), out


def test_every_stage_ran_and_wrote_its_tables(study):
    r, out = study
    assert list(r.stages) == list(STAGES)
    tables = {p.stem for p in (r.out_dir / "tables").glob("*.parquet")}
    assert set(PLAN_TABLES) <= tables and {"sim_stations", "sim_sweep"} <= tables
    assert {p.stem for p in (r.out_dir / "tables").glob("*.csv")} == tables
    f = pd.read_parquet(r.out_dir / "tables" / "forecast.parquet")
    assert f["horizon"].max() == 13 and (f["q0.1"] <= f["q0.5"]).all() and (f["q0.5"] <= f["q0.9"]).all()


def test_outputs_provenance_and_merged_scenario(study):
    r, _ = study
    prov = json.loads((r.out_dir / "provenance.json").read_text())
    assert prov["status"] == "ok" and prov["seed"] == 1 and len(prov["data_fingerprint"]) == 16
    assert set(STAGES) | {"ssot", "report"} <= set(prov["stage_seconds"])
    assert prov["versions"]["duckdb"] and prov["stage_seeds"]["forecast"] != prov["stage_seeds"]["pricing"]
    merged = scenarios.Scenario.model_validate(
        __import__("ruamel.yaml", fromlist=["YAML"]).YAML(typ="safe").load(r.out_dir / "scenario.yaml"))
    assert merged == r.scenario


def test_the_run_lands_in_the_ssot(study):
    r, out = study
    con = open_store(out / "tiny" / "ssot.duckdb", read_only=True)
    try:
        run = con.execute("SELECT status, scenario, data_fingerprint FROM runs WHERE run_id = ?", [r.run_id]).fetchone()
        assert run == ("ok", "tiny", r.provenance["data_fingerprint"])
        n = con.execute("SELECT count(*) FROM plan_orders WHERE run_id = ?", [r.run_id]).fetchone()[0]
        assert n == len(pd.read_parquet(r.out_dir / "tables" / "plan_orders.parquet"))
        q = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        assert q == sum(row["rows"] for row in r.data_quality["quarantine"]) > 0  # the demo's dirty rows
    finally:
        con.close()


def test_report_html_and_pdf(study):
    r, _ = study
    html = Path(r.report["html"]).read_text(encoding="utf-8")
    for section in ("Executive summary", "Demand", "Inventory", "Pricing", "Workforce", "Capacity",
                    "Annual milestone plan", "Data quality", "Provenance"):
        assert section in html, section
    assert r.run_id in html and "cdn.jsdelivr" not in html
    pdf = Path(r.report["pdf"])
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 5
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Executive summary" in text and r.provenance["data_fingerprint"] in text


def test_same_scenario_and_seed_reproduce_the_numbers(study, tmp_path):
    r, out = study
    shutil.copytree(out / "_demo", tmp_path / "_demo")  # same raw exports, fresh store
    again = run_study(scenarios.load(TINY), tmp_path, quiet=True, render=False)
    assert again.provenance["data_fingerprint"] == r.provenance["data_fingerprint"]
    for name in PLAN_TABLES + ("sim_stations",):
        a = pd.read_parquet(r.out_dir / "tables" / f"{name}.parquet")
        b = pd.read_parquet(again.out_dir / "tables" / f"{name}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, obj=name)


def test_a_failing_stage_is_named(tmp_path, monkeypatch):
    shutil.copytree(Path(TINY).parent, tmp_path / "scn")
    import model.forecast.stage as forecast_stage

    def boom(con, ctx):
        raise RuntimeError("no sales history")
    monkeypatch.setattr(forecast_stage, "run", boom)
    with pytest.raises(StageFailed, match="stage 'forecast' failed: RuntimeError: no sales history"):
        run_study(scenarios.load(tmp_path / "scn" / "tiny.yaml"), tmp_path / "out", quiet=True, render=False)
