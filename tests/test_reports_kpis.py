"""KPI tables, number formatting and milestone rules on small hand-computed instances."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reports import fmt, kpis, milestones
from reports.data import MissingInput, StageOutput, StudyReport, require
from reports.headline import comparison_kpis, headline_kpis, weak_link
from fixtures_reports import make_report

pytestmark = pytest.mark.filterwarnings("error::reports.blocks.ReportWarning")

W = pd.date_range("2027-01-04", periods=4, freq="W-MON")


def test_forecast_total_sums_mean_and_quantiles_per_week():
    fc = pd.DataFrame({"series_id": ["a", "a", "b", "b"], "period_start": [W[0], W[1], W[0], W[1]],
                       "mean": [1.0, 2.0, 10.0, 20.0], "q0.1": [0.5, 1.0, 8.0, 15.0], "q0.5": [1, 2, 10, 20],
                       "q0.9": [2.0, 3.0, 12.0, 25.0]})
    tot = kpis.forecast_total(fc)
    assert tot["mean"].tolist() == [11.0, 22.0]
    assert tot["q0.1"].tolist() == [8.5, 16.0] and tot["q0.9"].tolist() == [14.0, 28.0]
    assert kpis.top_series(fc, 1).series_id.astype(str).unique().tolist() == ["b"]


def test_planned_service_is_one_minus_lost_units_over_demand():
    inv = pd.DataFrame({"demand": [10.0, 10.0, 20.0, 0.0], "shortfall": [0.0, 2.0, 2.0, 0.0]})
    row = kpis.planned_service(inv).iloc[0]
    assert row.fill_rate == pytest.approx(1 - 4 / 40)
    assert row.weeks_short == pytest.approx(0.5)
    lost = kpis.planned_service(inv.assign(lost_sales=[0.0, 1.0, 0.0, 0.0])).iloc[0]  # shortfall = below safety
    assert lost.fill_rate == pytest.approx(1 - 1 / 40) and lost.weeks_short == pytest.approx(0.5)


def test_headline_accuracy_prefers_the_selected_mix_on_all_series():
    acc = pd.DataFrame({"model": ["ets", "ets", "selected", "tsb"], "segment": ["all", "fast", "all", "slow"],
                        "value": [0.30, 0.20, 0.27, 0.50]})
    assert kpis.headline_accuracy(acc, {"fast": "ets"}) == ("selected", 0.27, "all series")
    assert kpis.headline_accuracy(acc, "ets") == ("ets", 0.30, "all series")
    no_all = acc[acc.segment != "all"]
    assert kpis.headline_accuracy(no_all, None) == ("ets", 0.20, "mean over segments")


def test_scaling_cliff_is_the_first_failing_level():
    sweep = pd.DataFrame({"level": [2.0, 1.0, 1.5], "on_time_rate": [0.91, 0.99, 0.97], "bottleneck": ["x", "y", "z"],
                          "rate_per_hour": [800.0, 400.0, 600.0]})
    c = kpis.scaling_cliff(sweep, 0.95).iloc[0]
    assert (c.last_ok, c.cliff_load, c.bottleneck, c.cliff_rate) == (1.5, 2.0, "x", 800.0)
    assert c.reason == "on-time rate below the SLA 95%"


def test_scaling_cliff_follows_the_sweeps_own_verdict():
    """A level may fail on an unbounded backlog while its on-time rate still meets the SLA; unsimulated
    levels (beyond the capacity bound) have no on-time rate."""
    sweep = pd.DataFrame({"level": [1.0, 1.5, 2.0], "on_time_rate": [0.99, 0.97, np.nan],
                          "fails": [None, "backlog grows without bound", "above 1.1 × λ_max"]})
    c = kpis.scaling_cliff(sweep, None).iloc[0]
    assert (c.last_ok, c.cliff_load, c.reason) == (1.0, 1.5, "backlog grows without bound")
    with pytest.raises(ValueError, match="no SLA"):
        kpis.scaling_cliff(sweep.drop(columns="fails"), None)
    assert kpis.scaling_cliff(sweep.drop(columns="fails"), 0.95).iloc[0].cliff_load == 2.0  # NaN counts as failing


def test_scaling_cliff_beyond_the_sweep_and_at_its_first_level():
    sweep = pd.DataFrame({"level": [1.0, 2.0], "on_time_rate": [0.99, 0.97]})
    none = kpis.scaling_cliff(sweep, 0.95).iloc[0]
    assert math.isnan(none.cliff_load) and none.beyond == 2.0
    first = kpis.scaling_cliff(sweep, 0.995).iloc[0]
    assert first.cliff_load == 1.0 and math.isnan(first.last_ok)


@pytest.mark.parametrize("lo, hi, ident, label", [(-2.0, -1.2, True, "high"), (-2.5, -1.0, True, "medium"),
                                                  (-4.0, -1.0, True, "low"), (-2.0, -1.9, False, "not identifiable"),
                                                  (np.nan, np.nan, True, "not identifiable")])
def test_confidence_label_by_interval_width(lo, hi, ident, label):
    assert kpis.confidence_label(lo, hi, ident) == label


def test_price_changes_per_sku():
    p = pd.DataFrame({"sku_id": ["a", "a", "b", "b"], "week_start": [W[1], W[0], W[0], W[1]],
                      "price": [11.0, 10.0, 5.0, 5.0], "current_price": [10.0, 10.0, 5.0, 5.0],
                      "expected_units": [1.0, 2.0, 3.0, 4.0], "revenue": [11.0, 20.0, 15.0, 20.0],
                      "margin": [5.0, 8.0, 1.0, 1.0], "base_margin": [4.0, 4.0, 1.0, 1.5],
                      "binding": ["none", "margin_floor", "", "none"], "confidence": ["high", "high", "held", "held"]})
    ch = kpis.price_changes(p).set_index("sku_id")
    assert ch.at["a", "price"] == 10.0 and ch.at["a", "change_pct"] == pytest.approx(0.0)  # first week's price
    assert ch.at["a", "margin_delta"] == pytest.approx(5.0) and ch.at["b", "margin_delta"] == pytest.approx(-0.5)
    assert ch.at["a", "binding"] == "margin_floor" and ch.at["b", "binding"] == ""
    assert list(ch.index) == ["a", "b"]  # largest |margin delta| first
    el = pd.DataFrame({"sku_id": ["a", "b"], "elasticity": [-2.0, -1.5], "lo80": [-2.4, -3.0], "hi80": [-1.6, 0.2],
                       "identifiable": [True, False]})
    conf = kpis.price_changes(p, el).set_index("sku_id")
    assert conf.confidence.tolist() == ["high", "held"] and conf.level.tolist() == [80, 80]  # the plan's labels
    own = kpis.elasticity_confidence(el).set_index("sku_id").confidence
    assert own.tolist() == ["high", "not identifiable"]
    impact = kpis.margin_impact(p).iloc[0]
    assert impact.margin_delta_pct == pytest.approx(15.0 / 10.5 - 1)


def test_coverage_sums_days_and_treats_zero_requirement_as_covered():
    cov = pd.DataFrame({"role": ["pick"] * 3 + ["pack"], "day": [0, 1, 0, 0], "hour": [8, 8, 9, 8],
                        "required": [4, 6, 0, 2], "scheduled": [4, 3, 1, 2], "shortfall": [0, 3, 0, 0]})
    g = kpis.coverage_by_role_hour(cov).set_index(["role", "hour"])
    assert g.at[("pick", 8), "coverage"] == pytest.approx(0.7)
    assert g.at[("pick", 9), "coverage"] == 1.0
    total = kpis.coverage_summary(cov).set_index("role").loc["all roles"]
    assert total.required == 12 and total.coverage == pytest.approx(1 - 3 / 12)


def test_cash_budget_storage_ladder_and_solves():
    cash = pd.DataFrame({"week_start": W[:3], "cash_tied_up": [90.0, 110.0, 100.0], "budget": 100.0,
                         "storage_used_m3": [50.0, 80.0, 100.0], "capacity_m3": 100.0})
    assert kpis.cash_vs_budget(cash).over_budget.tolist() == [False, True, False]
    assert kpis.storage_vs_capacity(cash).utilization.tolist() == [0.5, 0.8, 1.0]
    raw = pd.DataFrame({"step": [2, 0, 1], "relieved": ["b", None, "a"], "servers_added": [1, 0, 2],
                        "step_cost": [30.0, 0.0, 10.0], "cliff_level": [np.nan, 1.2, 1.5],
                        "bottleneck_at_cliff": [None, "a", "b"]})
    lad = kpis.bottleneck_ladder(raw)
    assert lad.resource.tolist() == ["a", "b"] and lad.action.tolist() == ["+2\u00a0a", "+1\u00a0b"]
    assert lad.cumulative_cost.tolist() == [10.0, 40.0] and lad.cliff_before.tolist() == [1.2, 1.5]
    assert lad.gain.iloc[0] == pytest.approx(0.25) and math.isnan(lad.cliff_after.iloc[1])  # no cliff left
    assert lad.next_bottleneck.tolist() == ["b", None] and kpis.current_state(raw).bottleneck_at_cliff == "a"
    s = kpis.solve_summary({"inventory": [{"status": "optimal", "gap": 0.001, "wall_s": 1.5},
                                          {"status": "time_limit", "gap": 0.02, "wall_s": 3.0}], "forecast": []})
    assert s.iloc[0].to_dict() == {"stage": "inventory", "solves": 2, "statuses": "optimal: 1, time_limit: 1",
                                   "max_gap": 0.02, "solve_seconds": 4.5}


def test_formatting_for_people():
    assert fmt.number(1234567.8) == "1,234,568" and fmt.number(None) == fmt.DASH
    assert fmt.money(-1200, "€") == "−€1,200" and fmt.money(12_345_678, "$") == "$12.3 M"
    assert fmt.pct(0.0421) == "4.2%" and fmt.pct(0.0421, signed=True) == "+4.2%" and fmt.pct(np.nan) == fmt.DASH
    assert fmt.ratio(1.6) == "1.60×" and fmt.month("2027-03-01") == "Mar 2027"
    assert fmt.number(-2.024, 2) == "−2.02" and fmt.pct(-0.05, signed=True) == "−5.0%"
    assert fmt.label("margin_floor") == "margin floor"


def test_demand_peaks_finds_runs_above_threshold():
    weeks = pd.date_range("2027-01-04", periods=10, freq="W-MON")
    total = pd.DataFrame({"period_start": weeks, "mean": [100, 100, 130, 150, 100, 100, 100, 125, 100, 100.0]})
    p = milestones.demand_peaks(total, peak_threshold=0.2)
    assert p.start.tolist() == [weeks[2], weeks[7]] and p.end.tolist() == [weeks[3], weeks[7]]
    assert p.load.tolist() == pytest.approx([1.5, 1.25])
    assert milestones.demand_peaks(total, reference=200.0).empty


def test_capacity_steps_take_the_ladder_until_the_peak_fits():
    peaks = pd.DataFrame({"start": [pd.Timestamp("2027-11-01")], "end": [pd.Timestamp("2027-12-27")],
                          "peak_week": [pd.Timestamp("2027-11-29")], "load": [1.6]})
    ladder = pd.DataFrame({"step": [1, 2, 3], "resource": ["pack", "dock", "pick"], "action": ["+2 pack", "+1 dock", "+4 pick"],
                           "cost": [1.0, 2.0, 3.0], "cliff_after": [1.5, 1.8, 2.2], "lead_time_weeks": [4, 12, 6]})
    m = milestones.capacity_steps(peaks, ladder, base_cliff=1.3)
    assert m.milestone.tolist() == ["+2 pack (pack)", "+1 dock (dock)"]
    assert m.deadline.tolist() == [pd.Timestamp("2027-10-04"), pd.Timestamp("2027-08-09")]
    assert milestones.capacity_steps(peaks, ladder, base_cliff=1.7).empty
    short = milestones.capacity_steps(peaks.assign(load=2.5), ladder, base_cliff=1.3)
    assert short.milestone.iloc[-1] == "ladder exhausted before the peak of 01 Nov"
    today = milestones.capacity_steps(peaks, ladder, base_cliff=0.9, horizon_start=pd.Timestamp("2027-01-04"))
    assert today.milestone.tolist() == ["+2 pack (pack)", "+1 dock (dock)"]  # each step once, earliest need
    assert today.deadline.iat[0] == pd.Timestamp("2026-12-07") and "the reference load" in today.detail.iat[0]
    flat = milestones.capacity_steps(peaks.iloc[0:0], ladder, base_cliff=0.9, horizon_start=pd.Timestamp("2027-01-04"))
    assert flat.milestone.tolist() == ["+2 pack (pack)"]  # no peak: only what today's load needs
    no_lead = milestones.capacity_steps(peaks, ladder.drop(columns="lead_time_weeks").assign(
        cliff_after=[np.nan, 1.8, 2.2]), base_cliff=1.3)
    assert no_lead.deadline.tolist() == [peaks.start.iat[0]] and "beyond the swept range" in no_lead.detail.iat[0]


def test_staff_stock_and_cash_rules():
    months = pd.date_range("2027-08-01", periods=4, freq="MS")
    head = pd.DataFrame({"month": months, "core": 40, "temps": [0, 4, 18, 15], "flex_hours": 0})
    own = milestones.staff_hires(head.assign(hire_by=months - pd.Timedelta(days=10)), hiring_lead_weeks=None)
    assert own.deadline.tolist() == [pd.Timestamp("2027-08-22"), pd.Timestamp("2027-09-21")]
    with pytest.raises(ValueError, match="hire_by"):
        milestones.staff_hires(head, hiring_lead_weeks=None)
    hires = milestones.staff_hires(head, hiring_lead_weeks=6)
    assert hires.deadline.tolist() == [pd.Timestamp("2027-07-21"), pd.Timestamp("2027-08-20")]  # month − 42 days
    assert hires.milestone.tolist() == ["hire 4 people for Sep 2027", "hire 14 people for Oct 2027"]
    peaks = pd.DataFrame({"start": [pd.Timestamp("2027-11-01")], "end": [pd.Timestamp("2027-11-29")],
                          "peak_week": [pd.Timestamp("2027-11-15")], "load": [1.4]})
    orders = pd.DataFrame({"sku_id": ["a", "b", "c"], "week_start": pd.to_datetime(["2027-09-20", "2027-10-04", "2027-06-07"]),
                           "order_units": [10, 20, 30], "arrival_week": pd.to_datetime(["2027-10-11", "2027-11-08", "2027-06-21"]),
                           "cost": [100.0, 200.0, 300.0]})
    build = milestones.stock_build(peaks, orders, None, build_weeks=4, currency="€")
    assert build.deadline.tolist() == [pd.Timestamp("2027-09-20")] and "cost €300" in build.detail.iat[0]
    cash = pd.DataFrame({"week_start": W, "cash_tied_up": [90.0, 120.0, 150.0, 80.0], "budget": 100.0})
    gap = milestones.cash_gap(cash, "€")
    assert gap.deadline.tolist() == [W[1]] and gap.milestone.iat[0] == "secure €50 extra budget"


def test_require_names_missing_stage_table_and_columns():
    r = StudyReport("x", stages={"inventory": StageOutput("inventory", {"plan_cash": pd.DataFrame({"week_start": []})})})
    with pytest.raises(MissingInput, match="forecast stage did not run"):
        require(r, "forecast", "forecast")
    with pytest.raises(MissingInput, match="no table 'plan_orders'"):
        require(r, "inventory", "plan_orders")
    with pytest.raises(MissingInput, match="lacks column.*cash_tied_up"):
        require(r, "inventory", "plan_cash")


def test_headline_and_comparison_deltas():
    base, grow = make_report("baseline"), make_report("growth", growth=2.0, seed=1)
    k = headline_kpis(base).set_index("key")
    assert k.at["demand_units", "value"] == pytest.approx(base.stages["forecast"].tables["forecast"]["mean"].sum())
    assert k.at["weak_link", "value"] == "pack" and weak_link(grow).resource == "dispatch"
    cmp = comparison_kpis([base, grow]).set_index(["scenario", "key"])
    d = cmp.at[("growth", "demand_units"), "delta"]
    assert d == pytest.approx(cmp.at[("growth", "demand_units"), "value"] - k.at["demand_units", "value"])
    assert math.isnan(cmp.at[("growth", "weak_link"), "delta"])
    assert headline_kpis(make_report(skip=("simulation", "pricing"))).key.isin(["weak_link", "margin"]).sum() == 0


def test_weak_link_sentence_when_the_sweep_starts_below_the_sla():
    from reports.sections import weak_link_text

    r = make_report("overloaded")
    sweep = r.stages["simulation"].tables["sim_sweep"]
    r.stages["simulation"].tables["sim_sweep"] = sweep.assign(fails="on-time rate below the SLA target 95%")
    text = weak_link_text(r)
    assert "service fails already at the lowest simulated load, 0.75× (300 orders per hour)" in text
    assert headline_kpis(r).set_index("key").at["cliff_load", "note"] == "fails at the lowest load simulated"


def test_cliff_from_the_ladder_when_no_sweep_was_published():
    r = make_report("ladder_only")
    del r.stages["simulation"].tables["sim_sweep"]
    link = weak_link(r)
    rung0 = r.stages["simulation"].tables["sim_ladder"].iloc[0]
    assert link.cliff.cliff_load == rung0.cliff_level and link.resource == rung0.bottleneck_at_cliff == "pack"
    assert link.next_step["action"] == "+2\u00a0pack" and link.next_step["cost"] == 48_000.0
    del r.stages["simulation"].tables["sim_ladder"]
    with pytest.raises(MissingInput, match="neither a growth sweep"):
        weak_link(r)


def test_assumptions_show_what_differs_from_the_schema_defaults():
    import scenarios
    from reports.appendix import assumptions

    r = make_report("growth_2x")
    r.scenario = scenarios.load(Path(__file__).resolve().parents[1] / "scenarios" / "growth_2x.yaml").model_dump(mode="json")
    changed, *groups = assumptions(r).blocks
    assert [row[0] for row in changed.data.rows if row[0] == "growth_by_month"] == ["growth_by_month"]
    assert all(row[1] != row[2] for row in changed.data.rows)
    n_settings = sum(len(g.data.rows) for g in groups)
    assert n_settings > 50 and {g.title for g in groups} >= {"general", "inventory", "pricing"}


def test_capped_numbers():
    assert fmt.capped(1_024_001, cap=999) == "> 999" and fmt.capped(32.4, cap=999) == "32"
    assert fmt.rate(0.64) == "0.6" and fmt.rate(1234.5) == "1,234"
    assert fmt.number(float("inf")) == "∞" and fmt.capped(None, cap=999) == fmt.DASH


def test_comparison_timings_per_stage_and_scenario():
    from reports.comparison import timings

    a, b = make_report("a"), make_report("b", skip=("simulation",))
    t = timings([a, b]).set_index("stage")
    assert t.at["forecast", "a"] == 41.2 and math.isnan(t.at["simulation", "b"])
    assert t.at["total", "a"] == pytest.approx(sum(a.provenance["stage_seconds"].values()))
