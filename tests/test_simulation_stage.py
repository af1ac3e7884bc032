"""The study stage: data-sized warehouse from SSOT shipments, the forecast, the roster and the orders plan."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from model.simulation import inputs, stage
from model.simulation.stage import run
from model.stage import StageContext, StageResult
from scenarios.schema import Scenario

START = pd.Timestamp("2024-01-01")  # a Monday


def shipments(rng, weeks=13, per_hour=20.0):
    """Poisson orders with a day/night profile (×1.5 from 08:00 to 20:00, ×0.25 at night)."""
    hours = pd.date_range(START, periods=weeks * 168, freq="h")
    rate = np.where((hours.hour >= 8) & (hours.hour < 20), 1.5 * per_hour, 0.25 * per_hour)
    n = rng.poisson(rate)
    created = np.repeat(hours.to_numpy(), n) + pd.to_timedelta(rng.random(n.sum()) * 3600, unit="s")
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(n.sum())], "created_at": created,
                         "lines": 1 + rng.poisson(1.0, n.sum()), "units": 2.0})


def context(with_plans=True):
    weeks = pd.date_range("2024-04-01", periods=8, freq="7D")
    fc = pd.DataFrame({"series_id": "s", "period_start": weeks, "horizon": range(1, 9),
                       "mean": [100.0] * 7 + [150.0], "q0.1": [80.0] * 7 + [120.0],
                       "q0.5": [100.0] * 7 + [150.0], "q0.9": [130.0] * 7 + [195.0], "model": "x"})
    results = {"forecast": StageResult("forecast", {"forecast": fc})}
    if with_plans:
        days = pd.date_range("2024-04-01", periods=7, freq="D")
        cov = pd.DataFrame([{"role": r, "day": d, "hour": h, "required": 0, "scheduled": (k if 6 <= h < 22 else 1),
                             "shortfall": 0} for r, k in (("pick", 5), ("pack", 4)) for d in days for h in range(24)])
        orders = pd.DataFrame({"sku_id": ["a", "b"], "week_start": weeks[-1], "order_units": [3000.0, 2000.0],
                               "cases": 1, "arrival_week": weeks[-1], "cost": 1.0})
        results["workforce"] = StageResult("workforce", {"plan_coverage": cov})
        results["inventory"] = StageResult("inventory", {"plan_orders": orders})
    return StageContext(scenario=Scenario(), run_id="t", results=results)


@pytest.fixture(autouse=True)
def short_sweeps(monkeypatch):
    """The demo warehouse at 40 orders/h with 3-day sweep runs and a one-rung ladder (test speed)."""
    full = stage.default_section()
    short = full.model_copy(update={
        "sweep": full.sweep.model_copy(update={"horizon_hours": 72.0, "warmup_hours": 12.0, "ladder_steps": 1}),
        "arrivals": full.arrivals.model_copy(update={"rate_per_hour": 40.0})})
    monkeypatch.setattr(stage, "default_section", lambda: short)
    monkeypatch.setattr(stage, "BUDGET_CPU_S", 5.0)


@pytest.fixture
def store_with_history(store):
    df = shipments(np.random.default_rng(0))
    store.register("hist", df)
    store.execute("INSERT INTO shipments BY NAME SELECT * FROM hist")
    return store, df


def test_stage_sizes_the_warehouse_from_data_and_plans(store_with_history):
    con, hist = store_with_history
    t0 = time.process_time()
    res = run(con, context())
    assert time.process_time() - t0 < 30                 # CPU-s: the machine is shared
    s = res.summary
    expected_rate = len(hist) / 13 / 168 * 150 / 106.25   # history × (peak week / mean forecast week)
    assert s["rate_per_hour"] == pytest.approx(expected_rate, rel=0.01)
    assert sorted(s["inputs"]["staff_from_roster"]) == ["pack←pack", "pick←pick"]
    assert s["inputs"]["inbound_units"] == pytest.approx(5000.0)
    assert set(res.tables) == {"sim_kpis", "sim_stations", "sim_sweep", "sim_ladder", "sim_bottleneck_hours"}
    st = res.tables["sim_stations"].set_index("station")
    assert st.loc["pick", "throughput_per_hour"] > 0 and st["is_bottleneck"].sum() <= 1
    assert s["lambda_max_per_hour"] > 0 and s["lambda_max_resource"] in st.index
    ladder = res.tables["sim_ladder"]
    assert ladder["step"].iloc[0] == 0 and (ladder["lambda_max_per_hour"].diff().dropna() > 0).all()
    assert s["sweep_replications"] == 2


def test_stage_without_ssot_or_plans_runs_the_default_warehouse():
    res = run(None, StageContext(scenario=Scenario(), run_id="t"))
    assert res.summary["rate_per_hour"] == pytest.approx(40.0)
    assert res.summary["cliff"] is not None


def test_intraday_profile_and_coverage_roster():
    prof = inputs.hour_of_week_profile(shipments(np.random.default_rng(1), weeks=4)["created_at"])
    assert len(prof) == 168 and np.mean(prof) == pytest.approx(1.0)
    assert prof[12] / prof[2] == pytest.approx(6.0, rel=0.2)          # day ×1.5 vs night ×0.25
    cov = context().results["workforce"].tables["plan_coverage"]
    roster = inputs.roster_from_coverage(cov)
    assert roster["pick"][:24] == [1] * 6 + [5] * 16 + [1] * 2
    with pytest.raises(ValueError, match="plan_coverage needs columns"):
        inputs.roster_from_coverage(cov.drop(columns="scheduled"))
