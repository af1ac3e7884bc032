"""``run.py forecast``: probabilistic forecasts from the SSOT's sales history into its ``forecast`` table.

Also the shared entry :func:`forecast_store` that the study stage calls.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from model.forecast.cache import ModelCache
from model.forecast.inputs import future_covariates, history_from_ssot
from model.forecast.metrics import METRICS
from model.forecast.models import build_models
from model.forecast.pipeline import PipelineResult, PipelineSettings, run_pipeline
from model.forecast.select import ensemble_name
from scenarios.schema import ForecastConfig, Scenario


def forecast_store(con, cfg: ForecastConfig, freq: str, h: int, models: list[str], folds: int, seed: int,
                   progress: Callable[[str], None] = lambda msg: None) -> PipelineResult:
    """Read demand from the SSOT, backtest ``models`` over ``folds`` folds, choose, fit, forecast h periods."""
    history, spec = history_from_ssot(con, freq=freq, level=cfg.level)
    future = future_covariates(con, history, spec, h)
    settings = PipelineSettings(h=h, folds=folds, step=cfg.backtest_step,
                                backtest_h=min(cfg.backtest_horizon or h, h), metric=cfg.selection_metric,
                                outlier_k=cfg.outlier_mad_k, min_periods=cfg.min_history_periods,
                                slow_units=cfg.slow_units, budget_s=cfg.time_budget_s or float("inf"))
    cache = ModelCache(cfg.cache_dir)
    return run_pipeline(history, spec, build_models(models, cfg, seed), settings, future, cache, progress)


def metrics_frame(result: PipelineResult) -> pd.DataFrame:
    """``forecast_metrics``: model × segment × metric (backtest) plus fit_seconds per model."""
    fit = pd.DataFrame([{"model": m, "segment": "all", "metric": "fit_seconds", "value": s, "n": 0}
                        for m, s in result.fit_seconds.items()])
    return pd.concat([result.metrics, fit], ignore_index=True)


def summarize(result: PipelineResult) -> dict:
    """JSON summary: per-model overall metrics and fit seconds, the choice per segment, segment sizes."""
    models = {}
    overall = result.metrics[result.metrics["segment"] == "all"] if len(result.metrics) else result.metrics
    for name in sorted(set(result.fit_seconds) | set(overall.get("model", []))):
        vals = overall[overall["model"] == name].set_index("metric")["value"] if len(overall) else {}
        models[name] = {m: (round(float(vals[m]), 4) if m in vals else None) for m in METRICS}
        models[name]["fit_seconds"] = round(result.fit_seconds.get(name, 0.0), 2)
    fc = result.forecast
    return {"models": models,
            "selected": {seg: ensemble_name(ms) for seg, ms in sorted(result.selected.items())},
            "segments": result.segments.value_counts().to_dict(), "skipped": result.skipped,
            "series": int(fc["series_id"].nunique()), "rows": len(fc),
            "cold_start_series": int(fc.loc[fc["model"] == "cold_start", "series_id"].nunique()),
            "quantile_scales": result.scales, "cache": result.cache}


def render(summary: dict) -> str:
    lines = [f"forecast {summary['run_id']}: {summary['series']} series x {summary['horizon']} periods "
             f"({summary['freq']}), {summary['rows']} rows in table 'forecast'"]
    lines.append("  selected: " + ", ".join(f"{k} -> {v}" for k, v in summary["selected"].items()))
    lines.append(f"  {'model':<16}" + "".join(f"{m:>12}" for m in (*METRICS, "fit_seconds")))
    for name, vals in summary["models"].items():
        cells = "".join(f"{'-' if vals[m] is None else format(vals[m], '.3f'):>12}" for m in (*METRICS, "fit_seconds"))
        lines.append(f"  {name:<16}{cells}")
    if summary["skipped"]:
        lines.append(f"  dropped for the time budget: {', '.join(summary['skipped'])}")
    return "\n".join(lines)


def _progress() -> Callable[[str], None]:
    """Progress lines on stderr when it is a terminal (silent in pipes, CI and --json consumers)."""
    if not sys.stderr.isatty():
        return lambda msg: None
    from rich.console import Console
    console = Console(stderr=True)
    return lambda msg: console.log(msg)


def forecast_command(db: Path, freq: str = "W", horizon: int = 13, models: list[str] | None = None,
                     backtest: bool = False, scenario_path: Path | None = None) -> tuple[dict, str]:
    """Forecast every series in the SSOT at ``db``; writes ``forecast`` (and ``forecast_metrics`` with
    ``backtest``) under a new run id."""
    import scenarios
    from model.ssot.store import open_store, recorded_run, write_output
    if freq not in ("D", "W", "M"):
        raise ValueError(f"--freq must be D, W or M, got {freq!r}")
    if horizon < 1:
        raise ValueError(f"--horizon must be >= 1, got {horizon}")
    scn = scenarios.load(scenario_path) if scenario_path else Scenario()
    cfg = scn.forecast
    con = open_store(db, create=False)
    try:
        with recorded_run(con, "forecast", scn.name, "forecast", scn.seed) as (run_id, provenance):
            t0 = time.perf_counter()
            folds = max(cfg.backtest_folds, 1) if backtest else 0
            result = forecast_store(con, cfg, freq, horizon, models or cfg.models, folds, scn.seed, _progress())
            write_output(con, "forecast", result.forecast, run_id, scn.name)
            if backtest:
                write_output(con, "forecast_metrics", metrics_frame(result), run_id, scn.name)
            summary = {"run_id": run_id, "scenario": scn.name, "freq": freq, "horizon": horizon,
                       "seconds": round(time.perf_counter() - t0, 2), **summarize(result)}
            provenance["forecast"] = summary
    finally:
        con.close()
    return summary, render(summary)
