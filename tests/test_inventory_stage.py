"""End to end on a small demo business: `plan --only inventory` and the study stage publish the contract tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from model.forecast.contract import QCOLS, QUANTILES
from model.stage import StageContext, StageResult

HORIZON = 13


def mean_forecast(con, horizon=HORIZON) -> pd.DataFrame:
    """A simple forecast honouring the contract: last-26-week mean with normal quantiles (sd 1.3 √mean)."""
    from model.ssot import derived
    h = derived.demand_history(con, "W", "sku")
    last = pd.to_datetime(h["period_start"]).max()
    mu = h[pd.to_datetime(h["period_start"]) > last - pd.Timedelta(weeks=26)].groupby("series_id")["units"].mean()
    weeks = pd.date_range(last + pd.Timedelta(weeks=1), periods=horizon, freq="W-MON")
    m = np.repeat(mu.to_numpy(), horizon)
    q = np.maximum(m[:, None] + np.maximum(1.3 * np.sqrt(m), 0.1)[:, None] * stats.norm.ppf(QUANTILES), 0)
    fc = pd.DataFrame({"series_id": np.repeat(mu.index.to_numpy(), horizon),
                       "period_start": np.tile(weeks.date, len(mu)),
                       "horizon": np.tile(np.arange(1, horizon + 1), len(mu)), "mean": m, "model": "mean26"})
    for j, c in enumerate(QCOLS):
        fc[c] = q[:, j]
    return fc


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from model.ssot.demo import generate
    from model.ssot.ingest import ingest_manifest
    from model.ssot.store import new_run_id, open_store, write_output
    root = tmp_path_factory.mktemp("inv")
    generate(root / "raw", skus=20, years=1.0, seed=11)
    con = open_store(root / "ssot.duckdb")
    ingest_manifest(con, root / "raw" / "sources.yaml")
    write_output(con, "forecast", mean_forecast(con), new_run_id("fc"), "base")
    con.close()
    scn = root / "scn.yaml"
    scn.write_text(f"name: invtest\nhorizon_weeks: {HORIZON}\ninventory:\n  budget_share_of_baseline: 1.5\n"
                   "  time_limit_s: 20\n  evaluation_samples: 40\n")
    return root / "ssot.duckdb", scn


def test_plan_command_writes_the_plan(demo_store):
    from model.inventory.commands import plan_command
    from model.ssot.store import open_store, read_output
    db, scn = demo_store
    summary, text = plan_command(db, scn)
    assert summary["skus"] == 20 and summary["weeks"] == HORIZON
    assert 0 <= summary["gap"] <= 0.05 and summary["bound"] <= summary["objective"] + 1e-6
    assert "certified gap" in text
    con = open_store(db, read_only=True)
    try:
        cash = read_output(con, "plan_cash", summary["run_id"])
        orders = read_output(con, "plan_orders", summary["run_id"])
        inv = read_output(con, "plan_inventory", summary["run_id"])
        classes = read_output(con, "inventory_classes", summary["run_id"])
    finally:
        con.close()
    assert (cash["cash_tied_up"] <= cash["budget"] * (1 + 1e-9)).all()       # never above the budget
    assert {"sku_id", "week_start", "order_units", "cases", "arrival_week", "cost"} <= set(orders.columns)
    assert (orders["order_units"] > 0).all() and np.allclose(orders["cases"], np.round(orders["cases"]))
    assert {"projected_on_hand", "safety_stock", "demand", "shortfall"} <= set(inv.columns)
    assert len(inv) == 20 * HORIZON and (inv["projected_on_hand"] >= 0).all()
    assert set(classes["abc"]) <= {"A", "B", "C"} and len(classes) == 20
    ev = summary["evaluation"]
    assert 0 < ev["as_planned"]["fill_rate"] <= 1
    assert summary["fill_rate_calibrated"] == pytest.approx(0.95, abs=0.01)   # policy shift tuned on samples


def test_stage_uses_planned_prices(demo_store):
    import duckdb

    from model.inventory import stage
    from scenarios import load
    db, scn = demo_store
    con = duckdb.connect(str(db), read_only=True)
    try:
        fc = mean_forecast(con)
        ctx = StageContext(scenario=load(scn), run_id="t", results={
            "forecast": StageResult("forecast", {"forecast": fc})})
        base = stage.run(con, ctx)
        prices = fc.rename(columns={"series_id": "sku_id", "period_start": "week_start"})[["sku_id", "week_start"]]
        prices["expected_units"] = fc["mean"].to_numpy() * 2.0
        ctx.results["pricing"] = StageResult("pricing", {"plan_prices": prices})
        doubled = stage.run(con, ctx)
    finally:
        con.close()
    for name in ("plan_orders", "plan_inventory", "plan_cash", "inventory_classes"):
        assert name in base.tables
    d0 = base.tables["plan_inventory"]["demand"].sum()
    assert doubled.tables["plan_inventory"]["demand"].sum() == pytest.approx(2 * d0)
    assert base.summary["gap"] <= 0.05 and base.solves[0]["solver"] == "dp+lagrangian+highs"
