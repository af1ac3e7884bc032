"""Headline figures of one study: the key KPIs, the structural weak link and its cliff, the top actions.

Each figure comes from a stage table through :mod:`reports.kpis` (the stage summary is used only for
figures a table cannot give: the selected forecast model, the evaluated fill rate, cash released, the SLA).
A figure whose stage did not run is simply absent.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from reports import kpis
from reports.blocks import attempt
from reports.data import MissingInput, StudyReport, get_path, optional, require
from reports.fmt import money

KPI_COLUMNS = ("key", "kpi", "value", "unit", "note")


def sla(report: StudyReport) -> float | None:
    """The on-time SLA: the simulation summary's ``sla`` / ``on_time_target``, else the scenario's
    ``simulation.sla.on_time_target``."""
    s = report.summary("simulation")
    scenario_sla = get_path(report.scenario, "simulation", "sla", "on_time_target")
    for value in (s.get("sla"), s.get("on_time_target"), scenario_sla):
        if isinstance(value, (int, float)):
            return float(value)
    return None


@dataclass(frozen=True)
class WeakLink:
    resource: str | None
    cliff: pd.Series          # one row of kpis.scaling_cliff
    next_step: dict | None    # first step of kpis.bottleneck_ladder, when a ladder was published


def weak_link(report: StudyReport) -> WeakLink:
    """The structural weak link: the bottleneck at the cliff (ladder rung 0, else the sweep's bottleneck at
    the cliff, else the simulation summary's bottleneck) and the first ladder step that relieves it. The
    cliff comes from the growth sweep, or from the ladder's rung 0 when no sweep was published."""
    if not report.ran("simulation"):
        raise MissingInput("The simulation stage did not run in this scenario.")
    sweep, raw = optional(report, "simulation", "sim_sweep"), optional(report, "simulation", "sim_ladder")
    try:
        if sweep is not None:
            cliff = kpis.scaling_cliff(sweep, sla(report)).iloc[0]
        elif raw is not None:
            cliff = kpis.ladder_cliff(raw, sla(report)).iloc[0]
        else:
            raise ValueError("the simulation published neither a growth sweep (sim_sweep) nor a ladder (sim_ladder)")
    except ValueError as e:
        raise MissingInput(f"No scaling cliff: {e}.") from None
    rung0 = None if raw is None else kpis.current_state(raw)
    candidates = (None if rung0 is None else rung0.bottleneck_at_cliff, cliff.bottleneck,
                  report.summary("simulation").get("bottleneck"))
    resource = next((c for c in candidates if isinstance(c, str) and c), None)
    steps = None if raw is None else kpis.bottleneck_ladder(raw)
    return WeakLink(resource, cliff, steps.iloc[0].to_dict() if steps is not None and len(steps) else None)


def _forecast_kpis(report: StudyReport) -> list[tuple]:
    fc = require(report, "forecast", "forecast")
    rows = [("demand_units", "Forecast demand over the horizon", fc["mean"].sum(), "count",
             f"{fc.series_id.nunique():,} series")]
    try:
        acc = kpis.forecast_accuracy(require(report, "forecast", "forecast_metrics"))
    except MissingInput:
        return rows
    pick = kpis.headline_accuracy(acc, report.summary("forecast").get("selected"))
    if pick is not None:
        model, value, scope = pick
        rows.append(("forecast_wape", "Forecast error (WAPE)", value, "pct", f"{model}, {scope} (backtest)"))
    return rows


def _inventory_kpis(report: StudyReport) -> list[tuple]:
    s = report.summary("inventory")
    inv = require(report, "inventory", "plan_inventory")
    fill = s.get("fill_rate", kpis.planned_service(inv).fill_rate.iat[0])
    target = s.get("service_target")
    rows = [("fill_rate", "Fill rate", fill, "pct", f"target {target:.1%}" if target is not None else "planned")]
    if s.get("cash_released") is not None:
        rows.append(("cash_released", "Cash released", s["cash_released"], "money", "vs min/max baseline"))
    try:
        cash = kpis.cash_vs_budget(require(report, "inventory", "plan_cash"))
        top = cash.loc[cash.cash_tied_up.idxmax()]
        budget = (f"budget {money(top.budget, report.currency)}; {int(cash.over_budget.sum())} weeks over"
                  if pd.notna(top.budget) else "no cash budget set")
        rows.append(("peak_cash", "Peak cash tied up", top.cash_tied_up, "money", budget))
    except MissingInput:
        pass
    return rows


def _pricing_kpis(report: StudyReport) -> list[tuple]:
    impact = kpis.margin_impact(require(report, "pricing", "plan_prices")).iloc[0]
    change = impact.get("margin_delta_pct", report.summary("pricing").get("margin_change"))
    rows = [("margin", "Planned gross margin", impact.margin, "money", "over the horizon")]
    if change is not None and pd.notna(change):
        rows.append(("margin_change", "Margin change from pricing", change, "pct", "vs current prices"))
    return rows


def _workforce_kpis(report: StudyReport) -> list[tuple]:
    total = kpis.coverage_summary(require(report, "workforce", "plan_coverage")).iloc[-1]
    return [("coverage", "Labour coverage", total.coverage, "pct", f"{total.shortfall:,.0f} staff-hours short/week")]


def _simulation_kpis(report: StudyReport) -> list[tuple]:
    link = weak_link(report)
    rows = []
    k = optional(report, "simulation", "sim_kpis")
    on_time = None if k is None else kpis.sim_kpi(k, "on_time_rate")
    if on_time is not None:
        target = sla(report)
        rows.append(("on_time", "On-time rate (reference load)", on_time, "pct",
                     f"SLA {target:.0%}" if target is not None else "simulated"))
    cliff = link.cliff
    if pd.notna(cliff.cliff_load):
        where = "fails at the lowest load simulated" if cliff.at_lowest else "first load level that fails"
        rows.append(("cliff_load", "Scaling cliff", cliff.cliff_load, "ratio", where))
    else:
        rows.append(("cliff_load", "Scaling cliff", np.nan, "ratio", "none in the swept range"))
    rows.append(("weak_link", "Structural weak link", link.resource or "–", "text", "bottleneck at the cliff"))
    return rows


def headline_kpis(report: StudyReport) -> pd.DataFrame:
    """``key, kpi, value, unit, note`` for every headline figure whose stage ran (unit ∈ count, pct, money,
    ratio, text)."""
    rows: list[tuple] = []
    for part in (_forecast_kpis, _inventory_kpis, _pricing_kpis, _workforce_kpis, _simulation_kpis):
        result, _ = attempt(partial(part, report))
        rows += result or []
    return pd.DataFrame(rows, columns=list(KPI_COLUMNS))


def comparison_kpis(reports: list[StudyReport]) -> pd.DataFrame:
    """Long table ``scenario, key, kpi, value, unit, delta``: headline KPIs per scenario with
    ``delta = value − value of the first scenario`` (numeric KPIs present in both)."""
    frames = [headline_kpis(r).assign(scenario=r.scenario_name) for r in reports]
    df = pd.concat(frames, ignore_index=True)
    first = frames[0].set_index("key").value
    numeric = df.unit != "text"
    ref = df.key.map(first)
    df["delta"] = np.where(numeric & ref.notna(), pd.to_numeric(df.value.where(numeric), errors="coerce")
                           - pd.to_numeric(ref.where(numeric), errors="coerce"), np.nan)
    return df
