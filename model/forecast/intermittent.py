"""TSB (Teunter–Syntetos–Babai 2011) for intermittent demand, with quantiles of a zero-inflated demand.

Per series, over known periods t (NaN periods are skipped): demand probability p and size z evolve as
  p ← p + β·(1[y_t>0] − p)                 every period,
  z ← z + α·(y_t − z)                      only when y_t > 0,
started at p₀ = share of non-zero periods, z₀ = mean non-zero size. Forecast per period: mean = p·z (units).
Distribution per period: D = B·S with B ~ Bernoulli(p) and S the empirical non-zero sizes rescaled to
mean z, so q_α = 0 for α ≤ 1 − p and q_α = Quantile_S((α − (1 − p))/p) otherwise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import QUANTILES, FrameSpec, check_history, finalize, future_index


def tsb_state(y: np.ndarray, alpha: float, beta: float) -> tuple[float, float]:
    """Final (p, z) of the TSB recursions on one series (NaN = skipped period)."""
    known = y[~np.isnan(y)]
    nz = known[known > 0]
    if nz.size == 0:
        return 0.0, 0.0
    p, z = nz.size / known.size, float(nz.mean())
    for v in known:
        p += beta * ((v > 0) - p)
        if v > 0:
            z += alpha * (v - z)
    return p, z


def zero_inflated_quantiles(p: float, sizes: np.ndarray, z: float) -> np.ndarray:
    """Quantiles at QUANTILES of B·S, B ~ Bernoulli(p), S = sizes·z/mean(sizes)."""
    if p <= 0 or sizes.size == 0:
        return np.zeros(len(QUANTILES))
    s = sizes * (z / sizes.mean())
    lv = np.asarray(QUANTILES)
    out = np.zeros(len(lv))
    pos = lv > 1 - p
    out[pos] = np.quantile(s, np.clip((lv[pos] - (1 - p)) / p, 0, 1))
    return out


class TSB:
    """TSB forecaster for slow and intermittent series (local model, constant over the horizon)."""

    def __init__(self, alpha: float = 0.1, beta: float = 0.1, name: str = "tsb"):
        if not (0 < alpha <= 1 and 0 < beta <= 1):
            raise ValueError(f"TSB smoothing constants must lie in (0, 1], got alpha={alpha}, beta={beta}")
        self.alpha, self.beta, self.name = alpha, beta, name

    def fit(self, history: pd.DataFrame, spec: FrameSpec) -> "TSB":
        self.history_ = check_history(history, spec)
        self.spec_ = spec
        rows = []
        for _, g in self.history_.groupby("series_id", sort=True)["y"]:
            y = g.to_numpy(float)
            p, z = tsb_state(y, self.alpha, self.beta)
            rows.append((p * z, zero_inflated_quantiles(p, y[y > 0], z)))
        self.mean_ = np.array([r[0] for r in rows])
        self.quantiles_ = np.vstack([r[1] for r in rows])
        return self

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        idx = future_index(self.history_, h, self.spec_.freq)
        return finalize(idx, np.repeat(self.mean_, h), np.repeat(self.quantiles_, h, axis=0), self.name)
