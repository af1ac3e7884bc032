"""Accuracy and calibration of probabilistic forecasts against actuals.

On a scored frame (forecast rows joined with actual demand ``y`` and the series' MASE scale ``scale``),
with rows r, point forecast ŷ_r = mean, quantile forecasts q̂_{r,α} for α ∈ QUANTILES:
  WAPE       = Σ_r |y_r − ŷ_r| / Σ_r |y_r|
  MASE       = mean_r |y_r − ŷ_r| / scale_r, scale = in-sample mean |y_t − y_{t−m}| (m = season length where
               the training history has > m periods, else 1); rows with scale 0 are left out
  pinball    = mean_α 2·Σ_r ρ_α(y_r − q̂_{r,α}) / Σ_r |y_r|, ρ_α(u) = u·(α − 1[u<0]) (weighted quantile loss)
  coverage80 = share of rows with q̂_0.1 ≤ y ≤ q̂_0.9
  bias       = Σ_r (ŷ_r − y_r) / Σ_r |y_r|   (> 0: over-forecast)
All are unitless ratios.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import QCOLS, QUANTILES

METRICS = ("wape", "mase", "pinball", "coverage80", "bias")


def mase_scale(y: np.ndarray, m: int) -> float:
    """Mean absolute seasonal difference of a training history (NaN periods skipped)."""
    lag = m if np.sum(~np.isnan(y)) > m else 1
    d = np.abs(y[lag:] - y[:-lag]) if len(y) > lag else np.array([np.nan])
    return float(np.nanmean(d)) if np.isfinite(d).any() else np.nan


def score(scored: pd.DataFrame) -> dict[str, float]:
    """The five metrics of one scored frame (columns y, scale, mean, q*)."""
    y, yhat = scored["y"].to_numpy(float), scored["mean"].to_numpy(float)
    denom = max(np.abs(y).sum(), 1e-12)
    q = scored[list(QCOLS)].to_numpy(float)
    u = y[:, None] - q
    rho = u * (np.asarray(QUANTILES)[None, :] - (u < 0))
    scale = scored["scale"].to_numpy(float)
    ok = np.isfinite(scale) & (scale > 0)
    return {
        "wape": float(np.abs(y - yhat).sum() / denom),
        "mase": float(np.mean(np.abs(y - yhat)[ok] / scale[ok])) if ok.any() else float("nan"),
        "pinball": float(np.mean(2 * rho.sum(axis=0) / denom)),
        "coverage80": float(np.mean((q[:, 0] <= y) & (y <= q[:, -1]))),
        "bias": float((yhat - y).sum() / denom),
    }


def metrics_table(scored: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Tidy metrics: one row per group of ``by`` (e.g. model, segment) × metric, with ``n`` rows scored."""
    rows = []
    for key, g in scored.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        for metric, value in score(g).items():
            rows.append({**dict(zip(by, key)), "metric": metric, "value": value, "n": len(g)})
    return pd.DataFrame(rows)
