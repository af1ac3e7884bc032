"""Synthetic but realistic stage tables for the report tests (shapes as in docs/CONTRACTS.md).

``make_report(name, growth, seed)`` builds a :class:`reports.data.StudyReport` for a 52-week year with a
Q4 peak: 30 SKUs, forecasts with quantiles, prices, orders, coverage, headcount and a simulation sweep
whose cliff moves with ``growth``. Same seed, same tables.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from reports.data import StageOutput, StudyReport

START = pd.Timestamp("2027-01-04")
WEEKS = pd.date_range(START, periods=52, freq="W-MON")
SKUS = [f"SKU{i:04d}" for i in range(30)]
Q = [round(0.1 * k, 1) for k in range(1, 10)]


def _season(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Demand multiplier per week: flat with a November–December peak (×1.6 at its top)."""
    woy = np.asarray(weeks.isocalendar().week, dtype=float)
    return 1.0 + 0.6 * np.exp(-0.5 * ((woy - 48) / 3.0) ** 2)


def forecast_stage(rng: np.random.Generator, growth: float) -> StageOutput:
    base = rng.lognormal(3.5, 0.8, len(SKUS))
    rows = []
    season = _season(WEEKS)
    for sku, b in zip(SKUS, base):
        mean = b * growth * season
        sd = 0.3 * mean
        z = np.array([-1.2816, -0.8416, -0.5244, -0.2533, 0.0, 0.2533, 0.5244, 0.8416, 1.2816])
        for h, (w, m, s) in enumerate(zip(WEEKS, mean, sd), start=1):
            qs = np.maximum(m + z * s, 0.0)
            rows.append({"series_id": sku, "period_start": w, "horizon": h, "mean": m, "model": "ets",
                         **{f"q{q}": v for q, v in zip(Q, qs)}})
    metrics = [{"model": m, "segment": seg, "metric": met, "value": v, "n": 100}
               for m, off in (("naive", 0.12), ("ets", 0.0), ("tft", 0.05), ("selected", -0.01))
               for seg, sv in (("all", 0.3), ("fast", 0.18), ("slow", 0.35), ("intermittent", 0.62))
               for met, v in (("wape", sv + off), ("coverage80", 0.8 - off))]
    return StageOutput("forecast", {"forecast": pd.DataFrame(rows), "forecast_metrics": pd.DataFrame(metrics)},
                       {"selected": {"fast": "ensemble(ets+tft)", "intermittent": "tsb", "slow": "ets"},
                        "series": len(SKUS)}, seconds=41.2)


def pricing_stage(rng: np.random.Generator, fc: pd.DataFrame) -> StageOutput:
    list_price = dict(zip(SKUS, np.round(rng.uniform(5, 80, len(SKUS)), 2)))
    cost = {s: p * 0.55 for s, p in list_price.items()}
    change = dict(zip(SKUS, rng.choice([-0.05, 0.0, 0.0, 0.05, 0.1, 0.15], len(SKUS))))
    df = fc[["series_id", "period_start", "mean"]].rename(columns={"series_id": "sku_id", "period_start": "week_start"})
    df["current_price"] = df.sku_id.map(list_price)
    df["price"] = (df.current_price * (1 + df.sku_id.map(change))).round(2)
    df["expected_units"] = df["mean"] * (df.price / df.current_price) ** -1.8
    df["revenue"] = df.price * df.expected_units
    df["margin"] = (df.price - df.sku_id.map(cost)) * df.expected_units
    df["base_margin"] = (df.current_price - df.sku_id.map(cost)) * df["mean"]
    df["binding"] = np.where(df.sku_id.map(change) < 0, "margin_floor", "none")
    el = rng.normal(-1.8, 0.5, len(SKUS))
    se = rng.uniform(0.1, 0.9, len(SKUS))
    ident = rng.uniform(size=len(SKUS)) > 0.15
    elast = pd.DataFrame({"sku_id": SKUS, "elasticity": np.where(ident, el, np.nan), "se": se,
                          "lo90": el - 1.645 * se, "hi90": el + 1.645 * se, "identifiable": ident})
    return StageOutput("pricing", {"plan_prices": df.drop(columns="mean"), "price_elasticities": elast},
                       {"margin_change": 0.011, "margin_change_lo90": 0.004, "margin_change_hi90": 0.019,
                        "markdown_cleared_share": 0.43, "markdown_skus": 4, "markdown_clear_share": 0.93,
                        "markdown_clear_skus": 2, "liquidation_skus": 2, "liquidation_units": 120.0,
                        "slow_mover_skus": 2, "slow_mover_cleared_share": 0.91, "excess_skus": 2,
                        "excess_cleared_share": 0.05, "excess_stock_share": 0.55,
                        "liquidation_value_at_cost": 2345.0}, seconds=12.5)


def inventory_stage(rng: np.random.Generator, fc: pd.DataFrame, budget: float) -> StageOutput:
    unit_cost = dict(zip(SKUS, rng.uniform(3, 45, len(SKUS))))
    d = fc[["series_id", "period_start", "mean"]].rename(
        columns={"series_id": "sku_id", "period_start": "week_start", "mean": "demand"})
    d["safety_stock"] = 0.5 * d.demand
    d["projected_on_hand"] = d.demand * rng.uniform(0.8, 2.0, len(d))
    d["shortfall"] = np.where(rng.uniform(size=len(d)) < 0.03, 0.2 * d.demand, 0.0)
    d["lost_sales"] = 0.25 * d.shortfall
    orders = d[d.week_start.dt.isocalendar().week % 2 == 0][["sku_id", "week_start"]].copy()
    orders["order_units"] = np.ceil(rng.uniform(50, 400, len(orders)) / 12) * 12
    orders["cases"] = orders.order_units / 12
    orders["arrival_week"] = orders.week_start + pd.Timedelta(weeks=2)
    orders["cost"] = orders.order_units * orders.sku_id.map(unit_cost)
    season = _season(WEEKS)
    cash = pd.DataFrame({"week_start": WEEKS, "cash_tied_up": 0.8 * budget * season / season.max() * 1.05,
                         "budget": budget, "storage_used_m3": 900 * season, "capacity_m3": 1400.0})
    classes = pd.DataFrame({"sku_id": SKUS, "abc": rng.choice(list("ABC"), len(SKUS)),
                            "xyz": rng.choice(list("XYZ"), len(SKUS)),
                            "slow_mover": rng.uniform(size=len(SKUS)) < 0.3,
                            "dead_stock": rng.uniform(size=len(SKUS)) < 0.1,
                            "weeks_of_cover": rng.uniform(1, 60, len(SKUS)),
                            "stock_value": rng.uniform(500, 40000, len(SKUS))})
    classes["action"] = np.select([classes.dead_stock, classes.slow_mover], ["stop reordering", "markdown"],
                                  "reorder normally")
    return StageOutput("inventory", {"plan_orders": orders, "plan_inventory": d, "plan_cash": cash,
                                     "inventory_classes": classes},
                       {"fill_rate": 0.951, "service_target": 0.95, "cash_released": 183_250.0, "gap": 0.004},
                       seconds=35.0)


def workforce_stage(rng: np.random.Generator, growth: float) -> StageOutput:
    rows = []
    for role in ("receive", "pick", "pack"):
        for day in range(7):
            for hour in range(6, 22):
                req = int(round(growth * {"receive": 3, "pick": 9, "pack": 5}[role]
                                * (1 + 0.5 * np.sin((hour - 6) / 16 * np.pi))))
                sched = max(req + int(rng.integers(-2, 2)), 0)
                rows.append({"role": role, "day": day, "hour": hour, "required": req, "scheduled": sched,
                             "shortfall": max(req - sched, 0)})
            rows += [{"role": role, "day": day, "hour": h, "required": 0, "scheduled": 0, "shortfall": 0}
                     for h in (22, 23)]  # nothing required at night
    months = pd.date_range("2027-01-01", periods=12, freq="MS")
    season = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1.15, 1.6, 1.5])
    head = pd.DataFrame({"month": months, "core": int(40 * growth),
                         "flex_hours": np.round(600 * growth * (season - 0.9)),
                         "temps": np.round(30 * growth * (season - 1.0)).astype(int)})
    head["hire_by"] = (head.month - pd.Timedelta(weeks=6)).dt.date
    head["month"] = head.month.dt.strftime("%Y-%m")
    return StageOutput("workforce", {"plan_coverage": pd.DataFrame(rows), "plan_headcount": head},
                       {"labour_cost": 41_200.0 * growth, "saving_vs_rule": 0.087, "shortfall_hours": 257.0,
                        "violations": 0, "gap": 0.012, "roster_week": "2027-11-29"}, seconds=20.0)


def simulation_stage(growth: float) -> StageOutput:
    """Tables in the shapes of model.simulation (sweep.py, tables.py): the cliff sits at 1.6 / growth."""
    levels = np.round(np.arange(0.75, 2.51, 0.25), 2)
    cliff_at = 1.6 / growth
    on_time = np.clip(0.99 - 0.9 / (1 + np.exp(-(levels - cliff_at - np.log(21.5) / 8) * 8)), 0, 1)  # 0.95 at cliff_at
    weak = "pack" if growth < 1.5 else "dispatch"
    sweep = pd.DataFrame({"level": levels, "rate_per_hour": levels * 400 * growth, "simulated": True,
                          "on_time_rate": on_time, "on_time_lo": on_time - 0.01, "on_time_hi": np.minimum(on_time + 0.01, 1),
                          "cycle_time_min": 45 + 400 * (1 - on_time), "unstable_share": 0.0,
                          "bottleneck": np.where(levels < 2.0, weak, "dispatch"),
                          "fails": [None if o >= 0.95 else "on-time rate below the SLA target 95%" for o in on_time]})
    stations = pd.DataFrame({"case": "base", "station": ["receive", "putaway", "pick", "pack", "dispatch"],
                             "utilization": np.minimum(np.array([0.52, 0.48, 0.71, 0.88, 0.79]) * growth, 0.99),
                             "mean_wait_min": [1.2, 0.8, 4.5, 17.3, 9.8], "mean_queue_len": [0.4, 0.2, 3.1, 9.2, 4.4],
                             "throughput_per_hour": 400.0 * growth})
    stations["is_bottleneck"] = stations.station == weak
    base_sweep = sweep.copy()
    order = ["pack", "dispatch", "pick"] if growth < 1.5 else ["dispatch", "pack", "pick"]
    cost = {"pack": 48_000.0, "dispatch": 120_000.0, "pick": 150_000.0}
    added = {"pack": 2, "dispatch": 1, "pick": 4}
    first_fail = float(levels[on_time < 0.95][0])
    cliffs = [first_fail * f for f in (1.0, 1.2, 1.45, 1.7)]
    ladder = pd.DataFrame({"step": [0, 1, 2, 3], "relieved": [None, *order],
                           "servers_added": [0, *(added[r] for r in order)],
                           "step_cost": [0.0, *(cost[r] for r in order)],
                           "lambda_max_per_hour": [c * 400 * growth * 1.1 for c in cliffs], "cliff_level": cliffs,
                           "bottleneck_at_cliff": [*order, "receive"]})
    ladder["cumulative_cost"] = ladder.step_cost.cumsum()
    after = [base_sweep.assign(step=k, level=base_sweep.level * cliffs[k] / cliffs[0]) for k in (1, 2, 3)]
    sweep = pd.concat([sweep.assign(step=0), *after], ignore_index=True)
    hours = pd.DataFrame({"case": "base", "hour": range(24),
                          "momentary_bottleneck": [None] * 6 + ["pick"] * 4 + [weak] * 10 + ["dispatch"] * 2 + [None] * 2})
    kpis = pd.DataFrame({"case": "base", "kpi": ["on_time_rate", "cycle_time_min", "cycle_time_p95_min",
                                                 "throughput_per_hour"],
                         "value": [float(on_time[1]), 62.0, 140.0, 410.0 * growth],
                         "ci95_lo": [float(on_time[1]) - 0.01, 58.0, 131.0, 398.0 * growth],
                         "ci95_hi": [float(on_time[1]) + 0.01, 66.0, 149.0, 422.0 * growth]})
    return StageOutput("simulation", {"sim_kpis": kpis, "sim_stations": stations, "sim_sweep": sweep,
                                      "sim_ladder": ladder, "sim_bottleneck_hours": hours},
                       {"bottleneck": weak, "on_time_target": 0.95, "lambda_max_per_hour": 655.0 / growth,
                        "lambda_max_resource": weak}, seconds=48.0)


def make_report(name: str = "baseline", growth: float = 1.0, seed: int = 0, skip: tuple[str, ...] = ()) -> StudyReport:
    rng = np.random.default_rng(seed)
    fc = forecast_stage(rng, growth)
    stages = {"forecast": fc, "pricing": pricing_stage(rng, fc.tables["forecast"]),
              "inventory": inventory_stage(rng, fc.tables["forecast"], budget=250_000.0),
              "workforce": workforce_stage(rng, growth), "simulation": simulation_stage(growth)}
    stages = {k: v for k, v in stages.items() if k not in skip}
    quarantine = pd.DataFrame({"kind": ["sales", "sales", "inventory"],
                               "reason": ["price out of range", "unknown sku_id", "duplicate key"],
                               "rows": [1_234, 56, 7]})
    lineage = pd.DataFrame({"kind": ["sku", "sales", "inventory"], "source": ["sku.csv", "pos.csv.gz", "inv.parquet"],
                            "rows_read": [500, 1_250_000, 36_500], "accepted": [500, 1_248_710, 36_493],
                            "quarantined": [0, 1_290, 7], "unchanged": [0, 0, 0], "status": "loaded"})
    if "inventory" in stages:
        stages["inventory"].solves = [{"status": "optimal", "gap": 0.0, "wall_s": 0.4}] * 61 + \
            [{"status": "time_limit", "gap": 0.004, "wall_s": 20.0}] * 2
    provenance = {"scenario": name, "run_id": "r-20270101-abc", "data_fingerprint": "9f3c2a1b7d6e5f40", "seed": 42,
                  "stage_seeds": {s: 1000 + i for i, s in enumerate(stages)},
                  "solver_statuses": {k: v.solves for k, v in stages.items() if v.solves},
                  "stage_seconds": {s: v.seconds for s, v in stages.items()},
                  "versions": {"python": "3.12.3", "pyomo": "6.10.0", "highspy": "1.16.0", "simpy": "4.1.1"},
                  "status": "ok"}
    scenario = {"name": name, "description": f"{name} scenario", "seed": 42, "horizon_weeks": 52,
                "growth_by_month": [growth] * 12, "inventory": {"service_level": 0.95, "budget_per_week": 250_000},
                "workforce": {"hiring_lead_weeks": 6}, "simulation": {"sla": {"on_time_target": 0.95}}}
    quality = {"lineage": lineage.to_dict(orient="records"), "quarantine": quarantine.to_dict(orient="records"),
               "table_rows": {"sku": 500, "sales": 1_248_710, "inventory": 36_493}, "fingerprint": "9f3c2a1b7d6e5f40"}
    return StudyReport(name, scenario, provenance, quality, stages)
