"""The pricing stage of the annual study: the forecast's mean at current prices is the baseline demand."""
from __future__ import annotations

import pandas as pd

from model.pricing.planner import price_plan
from model.stage import StageContext, StageResult, Timer


def forecast_baseline(ctx: StageContext, horizon: int) -> pd.DataFrame:
    """``sku_id, week_start, base_units`` from ``forecast`` (series_id = sku_id, weekly, ``mean``)."""
    f = ctx.table("forecast", "forecast")
    f = f[f["horizon"] <= horizon]
    return pd.DataFrame({"sku_id": f["series_id"].astype(str), "week_start": pd.to_datetime(f["period_start"]),
                         "base_units": f["mean"].astype(float)})


def run(con, ctx: StageContext) -> StageResult:
    cfg = ctx.scenario.pricing
    with Timer() as t:
        ctx.progress("pricing: estimating price response and planning prices")
        out = price_plan(con, cfg, baseline=forecast_baseline(ctx, cfg.horizon_weeks),
                         workers=ctx.scenario.engine.workers, seed=ctx.seed_for("pricing"))
    solve = {"status": "optimal" if out.solve["gap"] <= cfg.mip_rel_gap else "feasible", "gap": out.solve["gap"],
             "objective": out.solve["objective"], "bound": out.solve["bound"],
             "wall_s": out.solve["seconds_max_partition"], "n_vars": int(out.solve["binaries"]),
             "solver": "dp+lagrangian+highs", "message": f"{int(out.solve['units_polished'])} price units "
                                                          f"re-solved with HiGHS"}
    return StageResult("pricing", {"plan_prices": out.plan, "price_elasticities": out.elasticities},
                       out.summary, [solve], t.seconds)
