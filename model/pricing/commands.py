"""``run.py plan --only pricing``: price recommendations for the next weeks, written to the SSOT."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from model.pricing.planner import PricingOutcome, price_plan
from model.ssot.store import open_store, read_output, recorded_run, table_exists, write_output
from scenarios.schema import Scenario

TOP = 15


def stored_forecast(con, horizon: int) -> pd.DataFrame | None:
    """Baseline from the latest stored forecast (``mean`` per SKU series and week), if there is one."""
    if not table_exists(con, "forecast"):
        return None
    f = read_output(con, "forecast")
    if f.empty or "mean" not in f.columns:
        return None
    f = f[f["horizon"] <= horizon]
    return pd.DataFrame({"sku_id": f["series_id"].astype(str), "week_start": pd.to_datetime(f["period_start"]),
                         "base_units": f["mean"].astype(float)})


def plan_command(db: Path, scenario_path: Path | None = None) -> tuple[dict, str]:
    """Estimate price response, plan prices, store ``plan_prices`` and ``price_elasticities``; summarise."""
    import scenarios
    scn = scenarios.load(scenario_path) if scenario_path else Scenario()
    cfg = scn.pricing
    con = open_store(db, create=False)
    try:
        with recorded_run(con, "plan-pricing", scn.name, "plan", scn.seed) as (run_id, provenance):
            baseline = stored_forecast(con, cfg.horizon_weeks)
            out = price_plan(con, cfg, baseline=baseline, workers=scn.engine.workers, seed=scn.seed)
            write_output(con, "plan_prices", out.plan, run_id, scn.name)
            write_output(con, "price_elasticities", out.elasticities, run_id, scn.name)
            provenance["pricing"] = out.solve
    finally:
        con.close()
    summary = {"run_id": run_id, "scenario": scn.name, "baseline": "forecast" if baseline is not None else
               "recent mean", **out.summary, "recommendations": recommendations(out).to_dict("records")}
    return summary, render(summary, out)


def recommendations(out: PricingOutcome, top: int = TOP) -> pd.DataFrame:
    """Per SKU over the horizon: week-1 price vs current, expected units / revenue / margin change, the
    binding constraint of week 1 and the confidence of the elasticity; largest margin gains first."""
    p = out.plan.sort_values(["sku_id", "week_start"])
    g = p.groupby("sku_id")
    rec = pd.DataFrame({
        "price_week1": g["price"].first(), "current_price": g["current_price"].first(),
        "units_change": g["expected_units"].sum() - g["base_units"].sum(),
        "revenue_change": g["revenue"].sum() - g["base_revenue"].sum(),
        "margin_change": g["margin"].sum() - g["base_margin"].sum(),
        "binding": g["binding"].first(), "elasticity": g["elasticity"].first(), "se": g["se"].first(),
        "confidence": g["confidence"].first(),
    }).reset_index()
    rec = rec.sort_values("margin_change", ascending=False).head(top).round(4)
    return rec.astype(object).where(rec.notna(), None)  # JSON: null, not NaN


def render(summary: dict, out: PricingOutcome) -> str:
    pct = lambda v: "n/a" if v is None else f"{100 * v:+.1f}%"
    share = lambda v: "n/a" if v is None else f"{100 * v:.0f}%"
    lines = [
        f"pricing plan {summary['run_id']} ({summary['skus']} SKUs × {summary['weeks']} weeks, baseline: "
        f"{summary['baseline']})",
        f"  elasticity identifiable for {summary['identifiable']} SKUs; {summary['held']} held at current price",
        f"  expected margin {pct(summary['margin_change'])} (90% {pct(summary['margin_change_lo90'])} … "
        f"{pct(summary['margin_change_hi90'])}), revenue {pct(summary['revenue_change'])}, "
        f"units {pct(summary['units_change'])}",
        f"  binding (week 1): {summary['binding_skus']}",
        f"  flagged for clearance: {summary['markdown_skus']} SKUs ({summary['slow_mover_skus']} slow movers or end "
        f"of life, expected {share(summary['slow_mover_cleared_share'])} of their stock sold by the target week; "
        f"{summary['excess_skus']} with over a year of supply, {share(summary['excess_cleared_share'])})",
        f"  marked down: {summary['markdown_clear_skus']} (expected {share(summary['markdown_clear_share'])} of their "
        f"stock sold by the target week); liquidation candidates: {summary['liquidation_skus']} "
        f"({summary['liquidation_units']:.0f} units unsold by the target, {summary['liquidation_value_at_cost']:.0f} "
        f"at cost)",
        f"  solve: gap {summary['gap']:.2e}, {summary['solve_seconds']:.1f}s, {int(summary['infeasible_units'])} "
        f"infeasible price units",
        "", "  top recommendations (margin change over the horizon):",
    ]
    rec = pd.DataFrame(summary["recommendations"])
    if len(rec):
        lines.append(rec[["sku_id", "current_price", "price_week1", "units_change", "margin_change", "binding",
                          "elasticity", "confidence"]].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return "\n".join(lines)
