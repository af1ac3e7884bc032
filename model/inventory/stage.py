"""The inventory stage of the annual study: forecast (adjusted to planned prices) → inventory plan."""
from __future__ import annotations

from model.inventory.planner import inventory_plan
from model.stage import StageContext, StageResult, Timer


def run(con, ctx: StageContext) -> StageResult:
    """Publishes ``plan_orders``, ``plan_inventory``, ``plan_cash``, ``inventory_classes`` (docs/CONTRACTS.md)
    plus ``reorder_points`` and ``inventory_cash_by_class``; demand is the forecast scaled to the pricing
    stage's ``expected_units`` where that stage ran."""
    cfg = ctx.scenario.inventory
    prices = ctx.results["pricing"].tables.get("plan_prices") if "pricing" in ctx.results else None
    with Timer() as t:
        out = inventory_plan(con, cfg, ctx.table("forecast", "forecast"),
                             horizon=cfg.horizon_weeks or ctx.scenario.horizon_weeks,
                             workers=ctx.scenario.engine.workers, seed=ctx.seed_for("inventory"),
                             plan_prices=prices, progress=ctx.progress)
    return StageResult("inventory", out.tables, out.summary, out.solves, t.seconds)
