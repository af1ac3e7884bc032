"""Quantile recalibration on backtest residuals (split-conformal style, per quantile level).

For level α with predicted quantile q̂_α and median q̂_0.5, let d = q̂_α − q̂_0.5 and r = (y − q̂_0.5)/d over
backtest rows with d ≠ 0. The recalibrated quantile is q̃_α = q̂_0.5 + c_α·d where c_α makes the empirical
share of y ≤ q̃_α equal α: for α > 0.5 (d > 0), y ≤ q̂_0.5 + c·d ⇔ r ≤ c, so c_α = Quantile_α(r); for
α < 0.5 (d < 0), y ≤ q̂_0.5 + c·d ⇔ r ≥ c, so c_α = Quantile_{1−α}(r). c_0.5 = 1. Quantiles are re-sorted
after scaling; the median and mean are unchanged. Units: c is dimensionless.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import QCOLS, QUANTILES

MIN_ROWS = 30  # fewer backtest rows than this: leave the quantiles as they are (c = 1)


def quantile_scales(scored: pd.DataFrame) -> np.ndarray:
    """c_α for each level in QUANTILES from a scored backtest frame (columns y, q*)."""
    y = scored["y"].to_numpy(float)
    med = scored["q0.5"].to_numpy(float)
    scales = np.ones(len(QUANTILES))
    for j, (a, col) in enumerate(zip(QUANTILES, QCOLS)):
        d = scored[col].to_numpy(float) - med
        ok = np.abs(d) > 1e-12
        if a == 0.5 or ok.sum() < MIN_ROWS:
            continue
        r = (y[ok] - med[ok]) / d[ok]
        scales[j] = max(float(np.quantile(r, a if a > 0.5 else 1 - a)), 0.0)
    return scales


def apply_scales(fc: pd.DataFrame, scales: np.ndarray) -> pd.DataFrame:
    """q̃_α = q̂_0.5 + c_α·(q̂_α − q̂_0.5), clipped at 0 and sorted along the level."""
    q = fc[list(QCOLS)].to_numpy(float)
    med = fc["q0.5"].to_numpy(float)[:, None]
    out = fc.copy()
    out[list(QCOLS)] = np.sort(np.clip(med + scales[None, :] * (q - med), 0.0, None), axis=1)
    return out
