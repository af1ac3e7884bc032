"""Rolling-origin backtest: refit every model at K cutoffs and score its H-period forecasts.

Cutoffs c_k = T − H − k·step for k = 0..K−1 (T = the last period of the history); fold k trains on
periods ≤ c_k and is scored on the actual demand of the H periods after c_k. Periods with unknown (NaN)
demand are not scored. Known covariates of the test periods are passed as ``future`` (they are known in
advance by definition: planned prices, promotions, holidays).
With ``refit=False``, a model that offers ``refiltered(history)`` (AutoETS) is fitted once at the earliest
cutoff and re-filtered through the later folds' longer histories with the same parameters (statsforecast's
``cross_validation(refit=False)``); other models are refitted at every cutoff.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.forecast.cache import ModelCache
from model.forecast.contract import FrameSpec, Forecaster, check_history, validate_forecast
from model.forecast.metrics import mase_scale


@dataclass
class BacktestResult:
    scored: pd.DataFrame          # forecast rows + fold, cutoff, y (actual), scale (MASE denominator)
    fit_seconds: dict[str, float]  # wall seconds of fit + predict per model, summed over folds
    skipped: list[str]             # models dropped because the time budget ran out


def cutoffs(history: pd.DataFrame, spec: FrameSpec, h: int, folds: int, step: int | None = None) -> list:
    """The K cutoff periods, latest first; raises when the history is too short for them."""
    offset = pd.tseries.frequencies.to_offset(spec.freq)
    periods = pd.DatetimeIndex(sorted(history["period_start"].unique()))
    step = step or h
    need = h + (folds - 1) * step + 2
    if len(periods) < need:
        raise ValueError(f"backtest needs at least {need} periods of history for {folds} folds of horizon "
                         f"{h} (step {step}); the history has {len(periods)}")
    last = periods.max()
    return [last - (h + k * step) * offset for k in range(folds)]


def _scales(train: pd.DataFrame, m: int) -> pd.Series:
    return train.groupby("series_id")["y"].apply(lambda s: mase_scale(s.to_numpy(float), m))


Factory = Callable[[int], Forecaster]  # horizon → unfitted forecaster
CHEAP = ("naive", "seasonal_naive", "tsb")  # never dropped for the time budget (milliseconds per series)


def run_fold(history: pd.DataFrame, spec: FrameSpec, models: Mapping[str, Factory], cutoff, h: int,
             fit_seconds: dict[str, float], cache: ModelCache, deadline: float,
             earlier: dict[str, Forecaster] | None = None) -> list[pd.DataFrame]:
    """Fit each model on periods ≤ cutoff, predict h periods, join actuals; adds wall time to fit_seconds.
    Past ``deadline`` (perf_counter seconds) only CHEAP models are fitted; the caller drops the others.
    With ``earlier`` (name → model fitted at an earlier cutoff; updated here), a model that can be
    re-filtered is, instead of refitted."""
    train = history[history["period_start"] <= cutoff]
    test = history[(history["period_start"] > cutoff)]
    future = test[["series_id", "period_start", *spec.known]]
    actual = test[["series_id", "period_start", "y"]].dropna()
    scale = _scales(train, spec.season_length).rename("scale")
    out = []
    for name, make in models.items():
        t0 = time.perf_counter()
        if t0 > deadline and name not in CHEAP:
            continue
        if earlier is not None and hasattr(earlier.get(name), "refiltered"):
            model = earlier[name].refiltered(train)
        else:
            model = cache.fit(make(h), train, spec)
            if earlier is not None:
                earlier[name] = model
        fc = model.predict(h, future)
        fit_seconds[name] = fit_seconds.get(name, 0.0) + time.perf_counter() - t0
        validate_forecast(fc, h)
        fc = fc.assign(model=name).merge(actual, on=["series_id", "period_start"], how="inner")
        out.append(fc.join(scale, on="series_id").assign(cutoff=cutoff))
    return out


def backtest(history: pd.DataFrame, spec: FrameSpec, models: Mapping[str, Factory], h: int, folds: int = 2,
             step: int | None = None, progress: Callable[[str], None] = lambda msg: None,
             cache: ModelCache | None = None, budget_s: float = float("inf"), refit: bool = True) -> BacktestResult:
    """Rolling-origin backtest of every model factory in ``models`` (name → constructor taking the horizon).
    Models not fitted in every fold within ``budget_s`` wall seconds are dropped (listed in ``skipped``);
    folds run from the earliest cutoff; ``refit=False``: see the module docstring."""
    history = check_history(history, spec)
    fit_seconds: dict[str, float] = {}
    cache = cache or ModelCache(None)
    deadline = time.perf_counter() + budget_s
    parts = []
    earlier = None if refit else {}
    for k, c in reversed(list(enumerate(cutoffs(history, spec, h, folds, step)))):
        progress(f"backtest fold {folds - k}/{folds} (cutoff {c:%Y-%m-%d})")
        parts += [p.assign(fold=k) for p in run_fold(history, spec, models, c, h, fit_seconds, cache, deadline,
                                                      earlier)]
    scored = pd.concat(parts, ignore_index=True)
    done = scored.groupby("model")["fold"].nunique()
    skipped = [m for m in models if done.get(m, 0) < folds]
    scored = scored[np.isfinite(scored["y"]) & ~scored["model"].isin(skipped)]
    return BacktestResult(scored.reset_index(drop=True), fit_seconds, skipped)
