"""KPI tables: one function per table, each a pure function of tidy stage tables returning a tidy DataFrame.

Index sets used below: s ∈ S series (SKUs), t ∈ T weeks, r ∈ R roles, h ∈ 0..23 hours, d days, k stations,
ℓ sweep load levels (multipliers of the simulated reference demand). Money is in the scenario's currency,
volumes in m³, times in minutes. Charts and sections only draw and format these frames.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

CONFIDENCE_BANDS = ((1.0, "high"), (2.0, "medium"))  # width of the 90% elasticity interval → label


def forecast_total(forecast: pd.DataFrame) -> pd.DataFrame:
    """Total demand per week: ``mean_t = Σ_s mean_{s,t}`` and ``q_t = Σ_s q_{s,t}`` for each quantile column.

    Summing quantiles assumes perfectly correlated series (comonotone), so the band is the widest the total
    can have — a conservative planning band, not the quantile of the sum. Columns: ``period_start, mean,
    q0.1, …`` (every ``q*`` column present)."""
    qcols = [c for c in forecast.columns if c.startswith("q")]
    return (forecast.groupby("period_start", as_index=False)[["mean", *qcols]].sum()
            .sort_values("period_start", ignore_index=True))


def top_series(forecast: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` series with the largest total mean demand over the horizon, all their rows, largest first."""
    order = forecast.groupby("series_id")["mean"].sum().nlargest(n).index
    top = forecast[forecast.series_id.isin(order)].copy()
    top["series_id"] = pd.Categorical(top.series_id, categories=list(order), ordered=True)
    return top.sort_values(["series_id", "period_start"], ignore_index=True)


def forecast_accuracy(metrics: pd.DataFrame, metric: str = "wape") -> pd.DataFrame:
    """``model, segment, value`` for one backtest metric (e.g. WAPE = Σ|y − ŷ| / Σ y), best model first."""
    df = metrics[metrics.metric.str.lower() == metric][["model", "segment", "value"]]
    order = df.groupby("model")["value"].mean().sort_values().index
    return df.set_index("model").loc[order].reset_index()


def headline_accuracy(acc: pd.DataFrame, selected: object = None) -> tuple[str, float, str] | None:
    """The WAPE a planner should quote: the ``selected`` model (a name, or the forecast stage's model
    ``"selected"`` when selection is per segment) on segment ``all``; else the best model on ``all``; else
    the best model's mean over segments. Returns ``(model, value, scope)`` or None."""
    if acc.empty:
        return None
    every = acc[acc.segment == "all"]
    name = selected if isinstance(selected, str) else "selected"
    for frame, scope in ((every[every.model == name], "all series"), (every, "all series")):
        if len(frame):
            best = frame.sort_values("value").iloc[0]
            return str(best.model), float(best.value), scope
    model = acc.model.iloc[0]
    return str(model), float(acc[acc.model == model].value.mean()), "mean over segments"


def slow_movers(classes: pd.DataFrame) -> pd.DataFrame:
    """SKUs flagged slow-moving or dead stock, most cash tied up first (``stock_value`` in currency)."""
    flagged = classes[classes.slow_mover.astype(bool) | classes.dead_stock.astype(bool)]
    return flagged.sort_values("stock_value", ascending=False, ignore_index=True)


def cash_in_classes(classes: pd.DataFrame) -> pd.DataFrame:
    """Stock value per recommended action: ``action, skus, stock_value, share`` (share of total stock value)."""
    g = classes.groupby("action", as_index=False).agg(skus=("sku_id", "count"), stock_value=("stock_value", "sum"))
    g["share"] = g.stock_value / g.stock_value.sum()
    return g.sort_values("stock_value", ascending=False, ignore_index=True)


def planned_service(plan_inventory: pd.DataFrame) -> pd.DataFrame:
    """Service the plan achieves on forecast demand (one row).

    ``fill_rate = 1 − Σ_{s,t} lost_{s,t} / Σ_{s,t} demand_{s,t}`` (units), with lost = ``lost_sales`` when
    published, else ``shortfall``; ``weeks_short`` = share of SKU-weeks with shortfall > 0 (below the safety
    stock target when ``lost_sales`` is published separately)."""
    demand = plan_inventory.demand.sum()
    lost = (plan_inventory.lost_sales if "lost_sales" in plan_inventory.columns else plan_inventory.shortfall).sum()
    return pd.DataFrame({"demand_units": [demand], "lost_units": [lost],
                         "fill_rate": [1 - lost / demand if demand > 0 else np.nan],
                         "weeks_short": [(plan_inventory.shortfall > 0).mean()]})


def cash_vs_budget(plan_cash: pd.DataFrame) -> pd.DataFrame:
    """Per week: ``cash_tied_up, budget, headroom = budget − cash_tied_up, over_budget = headroom < 0``."""
    df = plan_cash[["week_start", "cash_tied_up", "budget"]].sort_values("week_start", ignore_index=True)
    df["headroom"] = df.budget - df.cash_tied_up
    df["over_budget"] = df.headroom < -1e-6 * df.budget.abs()
    return df


def storage_vs_capacity(plan_cash: pd.DataFrame) -> pd.DataFrame:
    """Per week: ``storage_used_m3, capacity_m3, utilization = used / capacity``."""
    df = plan_cash[["week_start", "storage_used_m3", "capacity_m3"]].sort_values("week_start", ignore_index=True)
    df["utilization"] = df.storage_used_m3 / df.capacity_m3
    return df


def interval_columns(elasticities: pd.DataFrame) -> tuple[str, str, int] | None:
    """The interval columns of an elasticity table (``lo90``/``hi90``, or another level) and the level."""
    for c in elasticities.columns:
        m = re.fullmatch(r"lo(\d+)", str(c))
        if m and f"hi{m.group(1)}" in elasticities.columns:
            return c, f"hi{m.group(1)}", int(m.group(1))
    return None


def confidence_label(lo: float, hi: float, identifiable: bool) -> str:
    """"high" / "medium" / "low" by the width of the elasticity interval (≤ 1, ≤ 2, wider)."""
    if not identifiable or pd.isna(lo) or pd.isna(hi):
        return "not identifiable"
    width = hi - lo
    return next((label for limit, label in CONFIDENCE_BANDS if width <= limit), "low")


def elasticity_confidence(elasticities: pd.DataFrame, labels: pd.Series | None = None) -> pd.DataFrame:
    """``sku_id, elasticity, lo, hi, level, confidence`` per SKU. ``labels`` (sku_id → label, e.g. the
    pricing plan's own ``confidence``) win; else :func:`confidence_label` of the interval."""
    cols = interval_columns(elasticities)
    lo, hi, level = cols if cols else (None, None, None)
    df = pd.DataFrame({"sku_id": elasticities.sku_id, "elasticity": elasticities.elasticity,
                       "lo": elasticities[lo] if lo else np.nan, "hi": elasticities[hi] if hi else np.nan,
                       "level": level, "identifiable": elasticities.identifiable.astype(bool)})
    own = [confidence_label(a, b, i) for a, b, i in zip(df.lo, df.hi, df.identifiable)]
    df["confidence"] = df.sku_id.map(labels).fillna(pd.Series(own, index=df.index)) if labels is not None else own
    return df.drop(columns="identifiable")


def sku_confidence(plan_prices: pd.DataFrame) -> pd.Series | None:
    """The pricing plan's own confidence label per SKU (first week), when it publishes one."""
    if "confidence" not in plan_prices.columns:
        return None
    return plan_prices.sort_values("week_start").groupby("sku_id").confidence.first()


def _binding(plan_prices: pd.DataFrame) -> pd.Series:
    """The most frequent binding rule per SKU over its weeks ("" when nothing binds: empty or ``none``)."""
    b = plan_prices[["sku_id"]].assign(binding=plan_prices.binding.fillna("").astype(str))
    b = b[~b.binding.isin(["", "none"])]
    return b.groupby("sku_id").binding.agg(lambda s: s.mode().iat[0])


def price_changes(plan_prices: pd.DataFrame, elasticities: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per SKU: the first planned week's price vs ``current_price`` (when published), the horizon's
    expected units, revenue and margin (Σ_t), ``margin_delta = Σ_t (margin − base_margin)`` when
    ``base_margin`` (margin at current prices) is published, the most frequent binding rule and the
    elasticity with its interval and confidence. Sorted by |margin delta| (or margin) descending."""
    p = plan_prices.sort_values("week_start")
    agg = {"price": ("price", "first"), "expected_units": ("expected_units", "sum"),
           "revenue": ("revenue", "sum"), "margin": ("margin", "sum")}
    for col, how in (("current_price", "first"), ("base_margin", "sum")):
        if col in p.columns:
            agg[col] = (col, how)
    df = p.groupby("sku_id", as_index=False).agg(**agg)
    if "binding" in p.columns:
        df["binding"] = df.sku_id.map(_binding(p)).fillna("")
    if "current_price" in df.columns:
        df["change_pct"] = df.price / df.current_price - 1
    if "base_margin" in df.columns:
        df["margin_delta"] = df.margin - df.base_margin
    if elasticities is not None:
        df = df.merge(elasticity_confidence(elasticities, sku_confidence(p)), on="sku_id", how="left")
    key = df["margin_delta"].abs() if "margin_delta" in df.columns else df["margin"]
    return df.loc[key.sort_values(ascending=False).index].reset_index(drop=True)


def margin_impact(plan_prices: pd.DataFrame) -> pd.DataFrame:
    """Horizon totals (one row): ``revenue, margin`` and, when ``base_margin`` is published,
    ``base_margin, margin_delta, margin_delta_pct = Σ margin / Σ base_margin − 1``."""
    out = {"revenue": plan_prices.revenue.sum(), "margin": plan_prices.margin.sum()}
    if "base_margin" in plan_prices.columns:
        base = plan_prices.base_margin.sum()
        out |= {"base_margin": base, "margin_delta": out["margin"] - base,
                "margin_delta_pct": out["margin"] / base - 1 if base else np.nan}
    return pd.DataFrame([out])


def coverage_by_role_hour(plan_coverage: pd.DataFrame) -> pd.DataFrame:
    """Per role r and hour h, summed over days d: ``required, scheduled, shortfall`` (staff-hours) and
    ``coverage = 1 − shortfall / required`` (1 where nothing is required)."""
    g = plan_coverage.groupby(["role", "hour"], as_index=False)[["required", "scheduled", "shortfall"]].sum()
    g["coverage"] = np.where(g.required > 0, 1 - g.shortfall / g.required.where(g.required > 0, 1), 1.0)
    return g


def coverage_summary(plan_coverage: pd.DataFrame) -> pd.DataFrame:
    """Per role and in total: required, scheduled and short staff-hours and the coverage share."""
    g = plan_coverage.groupby("role", as_index=False)[["required", "scheduled", "shortfall"]].sum()
    total = g[["required", "scheduled", "shortfall"]].sum().to_frame().T.assign(role="all roles")
    g = pd.concat([g, total], ignore_index=True)
    g["coverage"] = 1 - g.shortfall / g.required.where(g.required > 0)
    return g


def headcount_plan(plan_headcount: pd.DataFrame) -> pd.DataFrame:
    """``month, core, temps, flex_hours, heads = core + temps`` (and ``hire_by`` when published) sorted by
    month (month as a Timestamp)."""
    df = plan_headcount[[c for c in ("month", "core", "temps", "flex_hours", "hire_by") if c in plan_headcount]].copy()
    df["month"] = pd.to_datetime(df.month.astype(str))
    if "hire_by" in df.columns:
        df["hire_by"] = pd.to_datetime(df.hire_by)
    df["heads"] = df.core + df.temps
    return df.sort_values("month", ignore_index=True)


def base_case(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of the ``base`` case when the table has a ``case`` column (else its first case, else all)."""
    if "case" not in df.columns or df.empty:
        return df
    case = "base" if (df.case == "base").any() else df.case.iloc[0]
    return df[df.case == case]


def station_utilization(sim_stations: pd.DataFrame) -> pd.DataFrame:
    """Stations k of the base case by utilisation ρ_k (busy server-time / available server-time), highest
    first."""
    return base_case(sim_stations).sort_values("utilization", ascending=False, ignore_index=True)


def sim_kpi(sim_kpis: pd.DataFrame, kpi: str) -> float | None:
    """The base case's value of one system KPI (``kpi, value`` rows), or None when not published."""
    rows = base_case(sim_kpis)
    rows = rows[rows.kpi == kpi]
    return None if rows.empty or pd.isna(rows.value.iloc[0]) else float(rows.value.iloc[0])


def base_sweep(sim_sweep: pd.DataFrame) -> pd.DataFrame:
    """The sweep of the operation as it is: rows of ladder step 0 when the table stacks every rung's sweep
    (``step`` column), else all rows."""
    return sim_sweep[sim_sweep.step == sim_sweep.step.min()] if "step" in sim_sweep.columns else sim_sweep


def scaling_cliff(sim_sweep: pd.DataFrame, sla: float | None) -> pd.DataFrame:
    """The scaling cliff of a growth sweep (one row), as issue 7 defines it: the first level ℓ (multiplier of
    the reference arrival rate) that fails — the sweep's ``fails`` reason when published, else on-time rate
    o_ℓ < ``sla`` or not simulated (unstable by the capacity bound).

    Columns: ``cliff_load`` = that level, ``last_ok`` = the level before it, ``at_lowest`` (the lowest
    level already fails), ``reason``, ``bottleneck`` (the sweep's at the cliff), ``cliff_rate`` (orders/hour, when
    ``rate_per_hour`` is published), ``sla``; no failing level → ``cliff_load`` NaN and ``beyond`` = the
    largest level simulated."""
    s = base_sweep(sim_sweep).sort_values("level", ignore_index=True)
    if "fails" in s.columns:
        failing = s.fails.notna() & (s.fails.astype(str) != "")
        reasons = s.fails
    elif sla is not None:
        failing = s.on_time_rate.isna() | (s.on_time_rate < sla)
        reasons = pd.Series(f"on-time rate below the SLA {sla:.0%}", index=s.index)
    else:
        raise ValueError("the sweep publishes no 'fails' column and no SLA was given to judge on-time rates")
    row = {"sla": sla, "last_ok": np.nan, "cliff_load": np.nan, "beyond": np.nan, "at_lowest": False,
           "reason": None, "bottleneck": None, "cliff_rate": np.nan}
    if not failing.any():
        return pd.DataFrame([row | {"last_ok": s.level.max(), "beyond": s.level.max()}])
    i = int(failing.to_numpy().argmax())
    first = s.loc[i]
    return pd.DataFrame([row | {"last_ok": s.level.iloc[i - 1] if i > 0 else np.nan, "cliff_load": first.level,
                                "at_lowest": i == 0, "reason": reasons.iloc[i], "bottleneck": first.get("bottleneck"),
                                "cliff_rate": first.get("rate_per_hour", np.nan)}])


def ladder_cliff(sim_ladder: pd.DataFrame, sla: float | None) -> pd.DataFrame:
    """The scaling cliff as the ladder's rung 0 reports it (for a simulation that published no sweep):
    the same columns as :func:`scaling_cliff`, without the bracket (``last_ok`` NaN)."""
    rung = current_state(sim_ladder)
    if rung is None:
        raise ValueError("the ladder has no rung 0 (the operation as it is)")
    found = pd.notna(rung.cliff_level)
    return pd.DataFrame([{"sla": sla, "last_ok": np.nan, "cliff_load": rung.cliff_level if found else np.nan,
                          "beyond": np.nan, "at_lowest": False,
                          "reason": "first failing level of the ladder's own sweep" if found else None,
                          "bottleneck": rung.bottleneck_at_cliff,
                          "cliff_rate": rung.get("cliff_rate_per_hour", np.nan)}])


def bottleneck_ladder(sim_ladder: pd.DataFrame) -> pd.DataFrame:
    """The ladder's rungs as steps: rung 0 is the operation as it is; rung k ≥ 1 relieves ``relieved`` by
    ``servers_added`` at ``step_cost``. Per step: ``resource, action, cost, cumulative_cost = Σ cost,
    cliff_before`` (the previous rung's cliff level), ``cliff_after`` (this rung's; NaN = no cliff in the
    swept range), ``next_bottleneck`` (the bottleneck at the new cliff) and ``gain = cliff_after /
    cliff_before − 1``; ``lambda_max_per_hour`` and ``lead_time_weeks`` are kept when published."""
    lad = sim_ladder.sort_values("step", ignore_index=True)
    out = pd.DataFrame({"step": lad.step, "resource": lad.relieved, "cost": lad.step_cost.fillna(0.0),
                        "cliff_before": lad.cliff_level.shift(), "cliff_after": lad.cliff_level,
                        "next_bottleneck": lad.bottleneck_at_cliff})
    added = lad.servers_added if "servers_added" in lad.columns else pd.Series(np.nan, index=lad.index)
    out["action"] = [f"+{int(n)}\u00a0{r}" if pd.notna(n) and r else (r or "as is") for n, r in zip(added, lad.relieved)]
    out["cumulative_cost"] = out.cost.cumsum()
    out["gain"] = out.cliff_after / out.cliff_before - 1
    for col in ("lambda_max_per_hour", "lead_time_weeks"):
        if col in lad.columns:
            out[col] = lad[col]
    return out[out.step >= 1].reset_index(drop=True) if (out.step >= 1).any() else out.iloc[0:0]


def current_state(sim_ladder: pd.DataFrame) -> pd.Series | None:
    """Rung 0 of the ladder (the operation as it is), or None when the ladder has no rung 0."""
    rung = sim_ladder[sim_ladder.step == 0]
    return None if rung.empty else rung.iloc[0]


def solve_summary(solves_by_stage: dict[str, list[dict]]) -> pd.DataFrame:
    """Per stage with solves: ``solves`` (count), ``statuses`` ("optimal: 61, time_limit: 2"), ``max_gap``
    (worst relative gap reported) and ``solve_seconds`` (Σ wall_s), from ``SolveResult.as_dict()`` rows."""
    rows = []
    for stage, solves in solves_by_stage.items():
        if not solves:
            continue
        df = pd.DataFrame(solves)
        counts = df.get("status", pd.Series(["unknown"] * len(df))).value_counts()
        gap = pd.to_numeric(df.get("gap", pd.Series(dtype=float)), errors="coerce")
        rows.append({"stage": stage, "solves": len(df), "statuses": ", ".join(f"{k}: {v}" for k, v in counts.items()),
                     "max_gap": gap.max() if gap.notna().any() else np.nan,
                     "solve_seconds": pd.to_numeric(df.get("wall_s", pd.Series(dtype=float)), errors="coerce").sum()})
    return pd.DataFrame(rows, columns=["stage", "solves", "statuses", "max_gap", "solve_seconds"])
