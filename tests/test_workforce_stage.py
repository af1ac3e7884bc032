"""model.workforce stage and CLI function on a tiny SSOT: contract tables, 0 violations, saving, headcount."""
import numpy as np
import pandas as pd
import pytest

from model.ssot.store import write_output
from model.workforce.commands import plan_command
from model.workforce.plan import site_history, workforce_plan
from scenarios.schema import WorkforceConfig

CFG = WorkforceConfig(open_hours=(8, 20), shift_starts=[8, 10, 12, 14, 16], shift_lengths_h=[4, 6, 8],
                      roles={"pick": {"driver": "lines", "per_hour": 20}, "pack": {"driver": "orders", "per_hour": 15}},
                      time_limit_s=30, mip_gap=0.0)


def insert(con, table, df):
    con.register("_df", df)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _df")
    con.unregister("_df")


def tiny_store(con, seed=11):
    """A warehouse with 6 staff serving a web shop whose orders arrive 08–20, busiest at noon."""
    rng = np.random.default_rng(seed)
    insert(con, "location", pd.DataFrame({"location_id": ["DC", "WEB"], "type": ["warehouse", "web"]}))
    insert(con, "sku", pd.DataFrame({"sku_id": ["A", "B"]}))
    insert(con, "staff", pd.DataFrame({
        "employee_id": [f"E{i}" for i in range(6)], "location_id": "DC",
        "skills": ["pick", "pick", "pick|pack", "pack", "pick|pack", "pick"],
        "contract_min_hours": [20.0, 20, 10, 10, 0, 0], "contract_max_hours": [40.0, 40, 30, 30, 20, 20],
        "hourly_cost": [20.0, 21, 24, 19, 26, 18]}))
    n = 6000
    day = rng.integers(0, 364, n)
    hour = np.clip(rng.normal(13, 2.5, n), 8, 19.99)
    ts = pd.Timestamp("2025-01-06") + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h")
    order = rng.integers(0, 4000, n)
    insert(con, "sales", pd.DataFrame({"order_id": [f"O{o}" for o in order], "line_no": np.arange(n), "ts": ts,
                                       "sku_id": rng.choice(["A", "B"], n), "location_id": "WEB",
                                       "units": rng.integers(1, 4, n).astype(float)}))
    weeks = pd.date_range("2026-01-05", periods=52, freq="W-MON")
    return pd.DataFrame({"series_id": "A", "period_start": weeks, "horizon": np.arange(1, 53),
                         "mean": 3000.0 * (1 + 0.5 * (weeks.month == 12)), "model": "test"})


def test_history_ratios(store):
    tiny_store(store)
    h = site_history(store, CFG)
    assert h.site == "DC" and h.share == pytest.approx(1.0)
    assert h.profiles["orders"].sum() == pytest.approx(1) and h.profiles["orders"][:, :8].sum() == 0
    assert 0 < h.orders_per_line <= 1 and 0 < h.lines_per_unit <= 1


def test_plan_tables_rules_and_saving(store):
    fc = tiny_store(store)
    out = workforce_plan(store, CFG, fc)
    s = out.summary
    assert s["violations"] == 0 and s["method"] == "monolithic"
    assert s["roster_week"] >= "2026-11-30"                   # the December peak is rostered
    roster, cov, hc = (out.tables[k] for k in ("plan_roster", "plan_coverage", "plan_headcount"))
    assert {"employee_id", "day", "start_hour", "end_hour", "role"} <= set(roster.columns)
    assert {"role", "day", "hour", "required", "scheduled", "shortfall"} <= set(cov.columns)
    assert {"month", "core", "flex_hours", "temps"} <= set(hc.columns) and len(hc) == 12
    assert cov["shortfall"].sum() == pytest.approx(s["shortfall_hours"])
    assert (roster["start_hour"] >= 8).all() and (roster["end_hour"] <= 20).all()
    # at equal coverage the optimized roster is cheaper than fixed 8-hour shifts staffed at their peak
    assert 0 < s["saving_vs_rule"] < 1 and s["labour_cost"] < s["rule_cost"]
    # December needs more hours than January; core covers the base
    by_month = hc.set_index("month")["required_hours"]
    assert by_month["2026-12"] > by_month["2026-01"]


def test_plan_command_writes_the_store(tmp_path):
    from model.ssot.store import open_store, read_output
    db = tmp_path / "s.duckdb"
    con = open_store(db)
    fc = tiny_store(con)
    con.close()
    with pytest.raises(ValueError, match="no forecast"):
        plan_command(db)
    con = open_store(db)
    write_output(con, "forecast", fc, "fc-1", "base")
    con.close()
    scn = tmp_path / "s.yaml"
    scn.write_text("name: t\nworkforce:\n  open_hours: [8, 20]\n  shift_starts: [8, 12, 16]\n"
                   "  shift_lengths_h: [4, 8]\n  time_limit_s: 20\n"
                   "  roles: {pick: {driver: lines, per_hour: 20}, pack: {driver: orders, per_hour: 15}}\n")
    summary, text = plan_command(db, scn)
    assert summary["violations"] == 0 and "workforce plan" in text
    con = open_store(db, read_only=True)
    assert len(read_output(con, "plan_roster")) > 0 and len(read_output(con, "plan_headcount")) == 12
    con.close()


def test_unknown_site_is_named(store):
    tiny_store(store)
    with pytest.raises(ValueError, match="XX"):
        site_history(store, CFG.model_copy(update={"location_id": "XX"}))
