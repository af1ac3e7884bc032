"""The simulation stage of the annual study: stress-test the warehouse in the forecast's peak week.

The network is the scenario's ``simulation:`` section, or the demo warehouse (scenarios/sim_warehouse.yaml)
with packing times fitted from the shipments' picked → packed gaps where no roster staffs it (a rostered
station works at the roster's labour standard instead, see ``_labour_standards``), sized to the business's
volume: each station not staffed by the roster plan gets servers × f_i (rounded up) so that its design
utilization λ̄ / capacity_i equals the demo design's (``network.sized_like``). Arrivals, intraday profile, order profile and demand quantiles come from the SSOT
and the forecast, staff calendars from the workforce stage's ``plan_coverage`` (stations whose name or
role matches a planned role), inbound receipts and stock from the inventory stage (see ``inputs``).
Then: the peak week with replications, a growth sweep around λ_max and a bottleneck ladder, within a
CPU budget (replications of the sweep are reduced to fit ``BUDGET_CPU_S``, never below 2).
Publishes ``sim_kpis``, ``sim_stations``, ``sim_sweep``, ``sim_ladder`` and ``sim_bottleneck_hours``.
"""
from __future__ import annotations

import pandas as pd

import scenarios
from model.simulation import inputs
from model.simulation.commands import run_simulation
from model.simulation.network import build_network, capacity_bound, fit_service_times, sized_like
from model.simulation.replicate import RunSpec, one_replication
from model.simulation.sweep import DEFAULT_SHARES, LADDER_SHARES
from model.stage import StageContext, StageResult, Timer
from scenarios.loader import SCENARIO_DIR
from scenarios.schema.simulation import SimulationConfig

DEFAULT_NETWORK = SCENARIO_DIR / "sim_warehouse.yaml"
BUDGET_CPU_S = 40.0
PEAK_REPLICATIONS = 3
LADDER_GROWTH = 1.2   # rough λ_max gain per ladder rung, for the CPU estimate
PLUS_ONE_SLACK = 1.3  # allowance for +1-capacity tests at the cliffs
FITTED_STAGES = {"pack": "picked_to_packed"}   # default network: station → shipments stage of pure process time


def default_section() -> SimulationConfig:
    return scenarios.load(DEFAULT_NETWORK).simulation


def _matching_role(station, roles: dict) -> str | None:
    for role in roles:
        if role in (station.role, station.name) or station.name.startswith(role):
            return role
    return None


def _with_staff(sim: SimulationConfig, roster: dict[str, list[int]]) -> tuple[SimulationConfig, list[str]]:
    """Stations take the calendar of their matching planned role (when it has any staff)."""
    stations, used = [], []
    merged = dict(sim.roster or {})
    for st in sim.stations:
        role = _matching_role(st, roster)
        if role is not None and max(roster[role]) > 0 and st.servers != "inf":
            merged[role] = roster[role]
            st = st.model_copy(update={"role": role})
            used.append(f"{st.name}←{role}")
        stations.append(st)
    return sim.model_copy(update={"stations": stations, "roster": merged or None}), used


def _labour_standards(sim: SimulationConfig, roles: dict) -> tuple[SimulationConfig, list[str]]:
    """Roster-staffed, order-driven stations (pack) work at the labour standard the roster was sized with:
    ``60 / per_hour`` minutes per order, the variability of the station's own law kept. Gaps between
    shipment timestamps include queueing, so a law fitted from them would contradict the staffing plan and
    overload the station by construction."""
    stations, used = [], []
    for st in sim.stations:
        role = roles.get(st.role) if st.role else None
        if role is not None and role.driver == "orders":
            svc = st.service.model_copy(update={"fit_from": None, "mean_min": 60.0 / role.per_hour,
                                                "per_line_min": 0.0})
            st = st.model_copy(update={"service": svc})
            used.append(f"{st.name}: {role.per_hour:g} orders/h per person")
        stations.append(st)
    return sim.model_copy(update={"stations": stations}), used


def _arrivals(sim: SimulationConfig, con, hist: pd.DataFrame, ctx: StageContext, facts: dict) -> dict:
    """Arrival settings from the shipments history and the forecast's peak week (see ``inputs``)."""
    arrivals = sim.arrivals.model_dump()
    if hist.empty:
        return arrivals
    orders_week, ratio = len(hist) / inputs.RECENT_WEEKS, 1.0
    if "forecast" in ctx.results:
        peak = inputs.peak_week(ctx.table("forecast", "forecast"))
        ratio = peak["units"] / (inputs.sales_units_per_week(con) or peak["mean_week_units"])
        arrivals["rate_quantiles"] = peak["rate_quantiles"] or None
        facts.update(peak_week=peak["week_start"], peak_week_units=peak["units"])
    arrivals["rate_per_hour"] = orders_week * ratio / 168.0
    arrivals["hourly_profile"] = inputs.hour_of_week_profile(hist["created_at"]) or arrivals["hourly_profile"]
    if "lines" in hist and hist["lines"].notna().any():
        arrivals["lines"] = {"dist": "poisson", "mean": max(1.0, float(hist["lines"].mean()))}
    facts.update(history_orders_per_week=orders_week, peak_vs_history=ratio)
    return arrivals


def _fitted(st, fitted: dict):
    """The station with its law fitted from shipments when ``FITTED_STAGES`` names a stage with data."""
    stage = FITTED_STAGES.get(st.name)
    if stage not in fitted or st.service.fit_from is not None:
        return st
    return st.model_copy(update={"service": st.service.model_copy(update={"fit_from": stage, "per_line_min": 0.0})})


def adapt(sim: SimulationConfig, con, hist: pd.DataFrame, ctx: StageContext,
          fitted: dict) -> tuple[SimulationConfig, dict]:
    """The section with arrivals, fitted laws, staff and inbound from the data and plans (module docstring)."""
    facts: dict = {}
    arrivals = type(sim.arrivals).model_validate(_arrivals(sim, con, hist, ctx, facts))
    out = sim.model_copy(update={"arrivals": arrivals, "stations": [_fitted(st, fitted) for st in sim.stations]})
    if "workforce" in ctx.results and "plan_coverage" in ctx.results["workforce"].tables:
        out, facts["staff_from_roster"] = _with_staff(out, inputs.roster_from_coverage(
            ctx.table("workforce", "plan_coverage")))
        out, facts["labour_standard"] = _labour_standards(out, ctx.scenario.workforce.roles)
    if "inventory" in ctx.results and "plan_orders" in ctx.results["inventory"].tables and "peak_week" in facts:
        receipts = inputs.receipts_in_week(ctx.table("inventory", "plan_orders"), facts["peak_week"])
        if receipts and out.inbound.route:
            out = SimulationConfig.model_validate(
                {**out.model_dump(), "inbound": {"route": out.inbound.route, "receipts": receipts}})
            facts["inbound_units"] = sum(r["units"] for r in receipts)
    facts["fitted"] = sorted(st.name for st in out.stations if st.service.fit_from)
    if "peak_week" in facts:
        facts["peak_week"] = str(facts["peak_week"].date())
    return SimulationConfig.model_validate(out.model_dump()), facts


def run(con, ctx: StageContext) -> StageResult:
    """Peak-week stress test, growth sweep and ladder of the (data-sized) warehouse network."""
    with Timer() as t:
        default = ctx.scenario.simulation is None
        section = default_section() if default else ctx.scenario.simulation
        hist = inputs.shipments_history(con)
        fitted = fit_service_times(hist) if not hist.empty else {}
        sim, facts = adapt(section, con, hist, ctx, fitted if default else {})
        net = build_network(sim, fitted)
        if default:   # the demo design's utilization per station, at this volume and these service times
            staffed = tuple(x.split("←")[0] for x in facts.get("staff_from_roster", []))
            net = sized_like(net, build_network(section), keep=staffed)
        facts["network"] = "default warehouse" if default else "scenario"
        spec = RunSpec(ctx.seed_for("simulation"), PEAK_REPLICATIONS, sim.sweep.horizon_hours,
                       sim.sweep.warmup_hours)
        steps = sim.sweep.ladder_steps
        ctx.progress(f"simulation: peak week at {net.mean_rate:.1f} orders/h, λ_max "
                     f"{capacity_bound(net)[0]:.1f}/h; sweep + ladder {steps} steps")
        reps = _sweep_replications(net, sim, spec, steps)
        summary, tables = run_simulation(net, sim, spec, ladder=steps, sweep=True, sweep_replications=reps)
    summary.update(inputs=facts, sweep_replications=reps, rate_per_hour=net.mean_rate)
    return StageResult("simulation", tables, _brief(summary), [], t.seconds)


def _sweep_replications(net, sim: SimulationConfig, spec: RunSpec, steps: int) -> int:
    """Replications per sweep level that fit ``BUDGET_CPU_S``: a pilot replication's CPU time at the base
    rate, × the demand levels of the sweep and of each ladder rung (cost ∝ orders), × ``PLUS_ONE_SLACK``."""
    pilot = one_replication(net, spec, 0)["sim_cpu_s"]
    f_star = capacity_bound(net)[0] / net.mean_rate
    load = f_star * (sum(DEFAULT_SHARES) + steps * LADDER_GROWTH * sum(LADDER_SHARES))
    return max(2, min(sim.sweep.replications, int(BUDGET_CPU_S / max(pilot * load * PLUS_ONE_SLACK, 1e-9))))


def _brief(s: dict) -> dict:
    """The stage summary: headline KPIs, bottleneck, λ_max, cliff and ladder (JSON-able)."""
    keep = ("rate_per_hour", "throughput_per_hour", "cycle_time_min", "cycle_time_p95_min", "on_time_rate", "wip",
            "backlog_overnight", "stockouts_hit", "bottleneck", "lambda_max_per_hour", "lambda_max_resource",
            "replications", "sweep_replications", "events", "events_per_second", "inputs", "ladder")
    out = {k: s[k] for k in keep if k in s}
    out["cliff"] = s.get("sweep", {}).get("cliff")
    out["momentary_bottleneck_by_hour"] = s["bottleneck_views"]["momentary_by_hour_of_day"]
    return out
