"""Exponential smoothing (statsforecast AutoETS) with its analytic prediction intervals as quantiles.

AutoETS picks error/trend/season components per series by AICc (season m = spec.season_length, or
non-seasonal when a series has fewer than 2m periods); statsforecast returns the mean path and the
central (1−2α) intervals; q_α = lo-(100(1−2α)) for α < 0.5, q_0.5 = mean, q_α = hi-(100(2α−1)) for α > 0.5.
Unknown (NaN) demand is interpolated first; a series AutoETS cannot fit falls back to the naive method.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import QUANTILES, FrameSpec, check_history, finalize, future_index
from model.forecast.prepare import fill_masked

LEVELS = sorted({int(round(abs(200 * q - 100))) for q in QUANTILES if q != 0.5})


def _quantile_columns(fc: pd.DataFrame, point: str) -> np.ndarray:
    cols = []
    for q in QUANTILES:
        lvl = int(round(abs(200 * q - 100)))
        cols.append(fc[point] if lvl == 0 else fc[f"{point}-{'lo' if q < 0.5 else 'hi'}-{lvl}"])
    return np.column_stack(cols)


class AutoETSForecaster:
    """statsforecast AutoETS per series (local model), ``n_jobs`` processes."""

    def __init__(self, season_length: int | None = None, n_jobs: int = 1, name: str = "ets"):
        self.season_length, self.n_jobs, self.name = season_length, n_jobs, name

    def _season(self, n: int) -> int:
        m = self.season_length or self.spec_.season_length
        return m if n >= 2 * m else 1

    def fit(self, history: pd.DataFrame, spec: FrameSpec) -> "AutoETSForecaster":
        """Fit one StatsForecast per season length in use (series shorter than 2m are non-seasonal)."""
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS, Naive
        self.history_, self.spec_ = fill_masked(check_history(history, spec)), spec
        sizes = self.history_.groupby("series_id").size()
        self.fitted_ = []
        for m, ids in sizes.groupby(sizes.map(self._season)).groups.items():
            df = self.history_.loc[self.history_["series_id"].isin(ids), ["series_id", "period_start", "y"]]
            sf = StatsForecast(models=[AutoETS(season_length=m, alias="ets")], freq=spec.freq,
                               n_jobs=self.n_jobs, fallback_model=Naive())
            self.fitted_.append(sf.fit(df.rename(columns={"series_id": "unique_id", "period_start": "ds"})))
        return self

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        fc = pd.concat([sf.predict(h=h, level=LEVELS) for sf in self.fitted_])
        fc = fc.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        return finalize(future_index(self.history_, h, self.spec_.freq), fc["ets"], _quantile_columns(fc, "ets"),
                        self.name)
