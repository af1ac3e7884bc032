"""The forecaster contract: one input frame, one output table, one protocol every model honours.

Input (*history*): a long frame, one row per series × period,
``series_id`` (str), ``period_start`` (Timestamp, on the grid of ``spec.freq``), ``y`` (float demand in
units per period; NaN = unknown demand, e.g. a stock-out period), plus optional covariates: the columns in
``spec.known`` (real-valued, known for future periods: price, relative price, promotion share, holiday
flags) and ``spec.static`` (one categorical value per series: category, location).

Output (*forecast*): a long frame, one row per series × future period,
``series_id, period_start, horizon`` (1..H), ``mean``, ``q0.1 … q0.9`` (quantiles of demand in units per
period, non-decreasing in the level) and ``model``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

QUANTILES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
QCOLS: tuple[str, ...] = tuple(f"q{q:g}" for q in QUANTILES)
OUTPUT_COLUMNS: tuple[str, ...] = ("series_id", "period_start", "horizon", "mean", *QCOLS, "model")

FREQ_ALIASES = {"D": "D", "W": "W-MON", "M": "MS"}
SEASON_LENGTH = {"D": 7, "W": 52, "M": 12}


@dataclass(frozen=True)
class FrameSpec:
    """How to read a history frame: pandas offset alias of the period grid, season length m (periods per
    seasonal cycle), known-future real covariates and static categorical columns."""

    freq: str = "W-MON"
    season_length: int = 52
    known: tuple[str, ...] = ()
    static: tuple[str, ...] = ()

    @classmethod
    def for_freq(cls, freq: str, known=(), static=()) -> "FrameSpec":
        """``freq`` is D | W | M (the CLI's grains) or any pandas alias (e.g. ``W-FRI``)."""
        alias = FREQ_ALIASES.get(freq, freq)
        grain = pd.tseries.frequencies.to_offset(alias).rule_code[0]
        return cls(alias, SEASON_LENGTH.get(grain, 1), tuple(known), tuple(static))


class Forecaster(Protocol):
    """fit(history, spec) learns from a history frame; predict(h, future) returns the output table for
    the H periods after each series' last period. ``future`` holds known covariates for those periods
    (series_id, period_start, *spec.known); models without covariates ignore it."""

    name: str

    def fit(self, history: pd.DataFrame, spec: FrameSpec) -> "Forecaster": ...

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame: ...


def check_history(history: pd.DataFrame, spec: FrameSpec) -> pd.DataFrame:
    """Validate a history frame and return it sorted by series and period; errors name column and row."""
    need = ["series_id", "period_start", "y", *spec.known, *spec.static]
    missing = [c for c in need if c not in history.columns]
    if missing:
        raise ValueError(f"history frame lacks column(s) {missing}; expected {need}")
    if history.empty:
        raise ValueError("history frame is empty: no demand to learn from")
    dup = history.duplicated(["series_id", "period_start"])
    if dup.any():
        row = history.loc[dup].iloc[0]
        raise ValueError(f"history has duplicate period {row.period_start} for series {row.series_id!r}")
    y = pd.to_numeric(history["y"], errors="coerce")
    bad = (y < 0) | (y.isna() & history["y"].notna())
    if bad.any():
        i = bad.idxmax()
        raise ValueError(f"history row {i}: y must be a number >= 0 (NaN = unknown), got {history.at[i, 'y']!r}")
    for c in spec.known:
        if history[c].isna().any():
            i = history[c].isna().idxmax()
            raise ValueError(f"history row {i}: known covariate {c!r} is missing; fill it before forecasting")
    out = history.assign(y=y.astype(float), period_start=pd.to_datetime(history["period_start"]))
    return out.sort_values(["series_id", "period_start"], kind="stable").reset_index(drop=True)


def future_index(history: pd.DataFrame, h: int, freq: str) -> pd.DataFrame:
    """``series_id, period_start, horizon`` for the h periods after each series' last period."""
    last = history.groupby("series_id", sort=True)["period_start"].max()
    offset = pd.tseries.frequencies.to_offset(freq)
    steps = np.arange(1, h + 1)
    starts = [last_p + k * offset for last_p in last for k in steps]
    return pd.DataFrame({"series_id": np.repeat(last.index.to_numpy(), h),
                         "period_start": pd.DatetimeIndex(starts), "horizon": np.tile(steps, len(last))})


def finalize(index: pd.DataFrame, mean, quantiles, model: str) -> pd.DataFrame:
    """Assemble the output table from an index frame, means (n,) and quantiles (n, 9): demand is
    clipped at zero and quantiles are sorted along the level (monotone rearrangement, which never makes
    the pinball loss worse)."""
    q = np.sort(np.clip(np.asarray(quantiles, dtype=float), 0.0, None), axis=1)
    out = index[["series_id", "period_start", "horizon"]].reset_index(drop=True).copy()
    out["mean"] = np.clip(np.asarray(mean, dtype=float), 0.0, None)
    out[list(QCOLS)] = q
    out["model"] = model
    return out


def validate_forecast(fc: pd.DataFrame, h: int | None = None) -> pd.DataFrame:
    """Raise ValueError naming the column / row when ``fc`` breaks the output contract; return it."""
    missing = [c for c in OUTPUT_COLUMNS if c not in fc.columns]
    if missing:
        raise ValueError(f"forecast lacks column(s) {missing}; contract is {list(OUTPUT_COLUMNS)}")
    vals = fc[["mean", *QCOLS]].to_numpy(float)
    if not np.isfinite(vals).all():
        i = int(np.argwhere(~np.isfinite(vals))[0, 0])
        raise ValueError(f"forecast row {i} ({fc['series_id'].iat[i]}): mean/quantiles must be finite")
    if (vals < 0).any():
        raise ValueError(f"forecast row {int(np.argwhere(vals < 0)[0, 0])}: negative demand")
    crossing = np.diff(vals[:, 1:], axis=1) < -1e-9
    if crossing.any():
        i = int(np.argwhere(crossing)[0, 0])
        raise ValueError(f"forecast row {i} ({fc['series_id'].iat[i]}): quantiles cross")
    if h is not None and not fc["horizon"].between(1, h).all():
        raise ValueError(f"forecast horizon must lie in 1..{h}")
    if fc.duplicated(["series_id", "period_start", "model"]).any():
        raise ValueError("forecast has duplicate (series_id, period_start, model) rows")
    return fc
