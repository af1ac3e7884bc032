"""Naive and seasonal-naive forecasters with normal prediction quantiles from their own residuals.

Naive: ŷ[i,T+k] = y[i,T], σ_k = σ_i·√k with σ_i the sd of one-step changes y[t] − y[t−1].
Seasonal naive (season m): ŷ[i,T+k] = y[i,T−m+1+((k−1) mod m)], σ_k = σ_i·√(⌊(k−1)/m⌋+1) with σ_i the sd of
y[t] − y[t−m]; series shorter than m+2 periods fall back to naive. Quantile q: ŷ + z_q·σ_k (units per period),
clipped at 0. Unknown (NaN) demand is interpolated first.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from model.forecast.contract import QUANTILES, FrameSpec, check_history, finalize, future_index
from model.forecast.prepare import fill_masked

Z = norm.ppf(QUANTILES)


def _series_values(history: pd.DataFrame) -> list[np.ndarray]:
    """y per series, in series_id order (the order of future_index)."""
    return [g.to_numpy(float) for _, g in history.groupby("series_id", sort=True)["y"]]


def _seasonal_point(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts and σ_k for k = 1..h of the seasonal naive method with season m (m=1: naive)."""
    k = np.arange(1, h + 1)
    if m > 1 and len(y) >= m + 2:
        point = y[len(y) - m + (k - 1) % m]
        resid = y[m:] - y[:-m]
        return point, np.std(resid, ddof=1) * np.sqrt((k - 1) // m + 1)
    resid = np.diff(y)
    sigma = np.std(resid, ddof=1) if len(resid) > 1 else 0.0
    return np.full(h, y[-1]), sigma * np.sqrt(k)


class SeasonalNaive:
    """Seasonal naive forecaster; ``season_length=1`` (or :class:`Naive`) is the naive method."""

    def __init__(self, season_length: int | None = None, name: str = "seasonal_naive"):
        self.season_length, self.name = season_length, name

    def fit(self, history: pd.DataFrame, spec: FrameSpec) -> "SeasonalNaive":
        self.history_ = fill_masked(check_history(history, spec))
        self.spec_ = spec
        return self

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        m = self.season_length or self.spec_.season_length
        pts, sds = zip(*(_seasonal_point(y, m, h) for y in _series_values(self.history_)))
        point, sd = np.concatenate(pts), np.concatenate(sds)
        return finalize(future_index(self.history_, h, self.spec_.freq), point,
                        point[:, None] + sd[:, None] * Z[None, :], self.name)


class Naive(SeasonalNaive):
    """Naive forecaster: last value carried forward, random-walk intervals."""

    def __init__(self, name: str = "naive"):
        super().__init__(season_length=1, name=name)
