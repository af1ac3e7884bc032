"""`run.py forecast` and the study stage on a small SSOT built through the canonical tables."""
import json

import numpy as np
import pandas as pd
import pytest

from model.forecast.commands import forecast_command
from model.forecast.contract import validate_forecast
from model.ssot.store import read_output
from model.stage import StageContext
from scenarios.schema import Scenario

MODELS = ["seasonal_naive", "ets", "tsb", "boosting"]


@pytest.fixture
def db(store, tmp_path):
    """6 SKUs × 70 weeks of daily-stamped sales in two categories, one SKU launched 3 weeks ago."""
    rng = np.random.default_rng(11)
    con = store
    con.execute("INSERT INTO supplier VALUES ('S1', 'Sup', 10, 2, 0)")
    con.execute("INSERT INTO location VALUES ('WEB', 'Web', 'web', NULL, NULL, NULL, NULL)")
    skus = [f"K{i}" for i in range(6)] + ["NEW"]
    for i, s in enumerate(skus):
        con.execute("INSERT INTO sku (sku_id, category, unit_cost, list_price, supplier_id) VALUES (?, ?, 5, 10, 'S1')",
                    [s, f"c{i % 2}"])
    weeks = pd.date_range("2023-01-02", periods=70, freq="W-MON")
    rows = []
    for i, s in enumerate(skus):
        for w, week in enumerate(weeks if s != "NEW" else weeks[-3:]):
            units = rng.poisson(10 + 3 * i + 4 * np.sin(2 * np.pi * w / 13))
            if units:
                rows.append((f"o{s}{w}", 0, week + pd.Timedelta(hours=10), s, "WEB", float(units), 10.0,
                             bool(w % 9 == 0), None))
    sales = pd.DataFrame(rows, columns=["order_id", "line_no", "ts", "sku_id", "location_id", "units",
                                        "unit_price", "promo", "customer_id"])
    con.register("s", sales)
    con.execute("INSERT INTO sales SELECT * FROM s")
    con.unregister("s")
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    con.close()
    return path


@pytest.fixture
def scenario(tmp_path):
    p = tmp_path / "scn.yaml"
    p.write_text(f"name: fc\nforecast:\n  models: {json.dumps(MODELS)}\n  cache_dir: {tmp_path / 'cache'}\n"
                 f"  boosting: {{max_iter: 20}}\n", encoding="utf-8")
    return p


def test_forecast_command_writes_forecast_and_metrics(db, scenario):
    summary, text = forecast_command(db, "W", 4, None, True, scenario)
    assert set(summary["models"]) == {*MODELS, "selected"}
    for m in summary["models"].values():
        assert set(m) == {"wape", "mase", "pinball", "coverage80", "bias", "fit_seconds"}
    assert summary["series"] == 7 and summary["rows"] == 28 and summary["cold_start_series"] == 1
    assert set(summary["selected"]) <= {"fast", "slow", "intermittent"}
    json.dumps(summary, allow_nan=False)
    assert "selected" in text and summary["run_id"] in text
    from model.ssot.store import open_store
    con = open_store(db, read_only=True)
    try:
        fc = read_output(con, "forecast", summary["run_id"])
        validate_forecast(fc.drop(columns=["run_id", "scenario"]), 4)
        assert set(fc["series_id"]) == {f"K{i}" for i in range(6)} | {"NEW"}
        assert len(read_output(con, "forecast_metrics", summary["run_id"])) > 0
        assert con.execute("SELECT status FROM runs WHERE run_id = ?", [summary["run_id"]]).fetchone()[0] == "ok"
    finally:
        con.close()
    again, _ = forecast_command(db, "W", 4, None, True, scenario)
    assert again["cache"]["misses"] == 0  # unchanged data and settings: nothing retrained


def test_forecast_command_rejects_bad_input(db, tmp_path):
    with pytest.raises(ValueError, match="--freq"):
        forecast_command(db, "Q", 4)
    with pytest.raises(ValueError, match="unknown forecast model"):
        forecast_command(db, "W", 4, ["prophet"])
    from model.ssot.store import StoreError
    with pytest.raises(StoreError, match="does not exist"):
        forecast_command(tmp_path / "missing.duckdb", "W", 4)


def test_stage_publishes_weekly_forecast_for_the_scenario_horizon(db, tmp_path):
    from model.forecast import stage
    from model.ssot.store import open_store
    scn = Scenario(horizon_weeks=6, forecast={"models": ["seasonal_naive", "tsb"], "cache_dir": None,
                                              "backtest_horizon": 4})
    con = open_store(db)
    try:
        res = stage.run(con, StageContext(scenario=scn, run_id="r1"))
    finally:
        con.close()
    fc = res.tables["forecast"]
    validate_forecast(fc, 6)
    assert fc["horizon"].max() == 6 and fc["series_id"].nunique() == 7
    assert pd.to_datetime(fc["period_start"]).dt.dayofweek.eq(0).all()  # weeks start on Monday
    assert {"model", "segment", "metric", "value"} <= set(res.tables["forecast_metrics"].columns)
