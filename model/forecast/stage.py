"""The forecast stage of the annual study: weekly probabilistic forecasts for every SKU.

Publishes ``forecast`` (the contract table, series_id = sku_id, horizon = scenario.horizon_weeks) and
``forecast_metrics`` (model × segment × metric from the rolling-origin backtest). Fitted models are
cached (``forecast.cache_dir``) so an unchanged re-run does not retrain; ``forecast.time_budget_s``, when
set, caps the backtest (at the price of reproducibility across machines).
"""
from __future__ import annotations

from model.forecast.commands import forecast_store, metrics_frame, summarize
from model.stage import StageContext, StageResult, Timer


def run(con, ctx: StageContext) -> StageResult:
    cfg = ctx.scenario.forecast
    h = ctx.scenario.horizon_weeks
    with Timer() as t:
        result = forecast_store(con, cfg, "W", h, cfg.models, cfg.backtest_folds, ctx.seed_for("forecast"),
                                ctx.progress)
    tables = {"forecast": result.forecast, "forecast_metrics": metrics_frame(result)}
    return StageResult("forecast", tables, summarize(result), [], t.seconds)
