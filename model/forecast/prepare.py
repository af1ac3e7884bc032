"""Demand, not sales: mask censored periods, damp outliers, fill gaps for models that need them,
segment series (fast / slow / intermittent) and forecast new series from their category (cold start).

Index sets: series i, period t. y[i,t] is demand in units per period; NaN marks unknown demand.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import QCOLS, FrameSpec

MAD_TO_SD = 1.4826           # σ ≈ 1.4826·MAD for a normal distribution
INTERMITTENT_ADI = 1.32      # Syntetos–Boylan cut-off on the average demand interval


def mask_censored(history: pd.DataFrame, censored_col: str = "censored") -> pd.DataFrame:
    """Set y = NaN where ``censored`` is true: a stock-out period's sales are a lower bound on demand, not
    demand, so models must not learn them as low demand."""
    if censored_col not in history.columns:
        return history
    censored = history[censored_col].fillna(False).astype(bool)
    return history.assign(y=history["y"].where(~censored))


def damp_outliers(history: pd.DataFrame, k: float = 8.0) -> pd.DataFrame:
    """Cap y[i,t] at med_i + k·1.4826·MAD_i (per series over its known periods); series with MAD = 0 are
    left as they are (intermittent series have MAD 0 and their spikes are their demand). k ≤ 0 disables."""
    if k <= 0:
        return history
    g = history.groupby("series_id")["y"]
    med = g.transform("median")
    mad = (history["y"] - med).abs().groupby(history["series_id"]).transform("median")
    cap = med + k * MAD_TO_SD * mad
    y = history["y"].where((mad == 0) | history["y"].isna() | (history["y"] <= cap), cap)
    return history.assign(y=y)


def fill_masked(history: pd.DataFrame) -> pd.DataFrame:
    """Fill NaN demand by linear interpolation within each series (ends: nearest known value; a series
    with no known value gets 0) for models that cannot skip periods."""
    y = history.groupby("series_id")["y"].transform(
        lambda s: s.interpolate(limit_direction="both") if s.notna().any() else s.fillna(0.0))
    return history.assign(y=y.to_numpy())


def segments(history: pd.DataFrame, slow_units: float = 2.0) -> pd.Series:
    """Segment per series: ``intermittent`` when ADI = periods / non-zero periods > 1.32, else ``slow``
    when mean demand < ``slow_units`` units per period, else ``fast``. Indexed by series_id."""
    known = history.dropna(subset=["y"])
    g = known.groupby("series_id")["y"]
    n, nz, mean = g.size(), g.apply(lambda s: int((s > 0).sum())), g.mean()
    adi = n / nz.replace(0, np.nan)
    seg = np.where(adi.isna() | (adi > INTERMITTENT_ADI), "intermittent",
                   np.where(mean < slow_units, "slow", "fast"))
    out = pd.Series(seg, index=n.index, name="segment")
    missing = history["series_id"].unique()
    return out.reindex(missing, fill_value="intermittent")


def cold_series(history: pd.DataFrame, min_periods: int) -> list[str]:
    """Series with fewer than ``min_periods`` known demand periods: too new for their own model."""
    known = history.dropna(subset=["y"]).groupby("series_id").size()
    every = pd.Series(0, index=history["series_id"].unique()).add(known, fill_value=0)
    return sorted(every.index[every < min_periods])


def cold_start(warm_fc: pd.DataFrame, history: pd.DataFrame, cold_ids: list[str], spec: FrameSpec,
               h: int) -> pd.DataFrame:
    """Forecast new series from their category's profile.

    For category c: profile_c[k, ·] = mean over warm series i in c of (mean, q)[i,k] / L_i, with
    L_i = the series' mean forecast over the horizon. A cold series j gets L_j·profile_c, L_j = mean of its
    known demand, or the category's median L_i when it has none. Category = the first static column
    (``category`` when present); without one every series shares one profile.
    """
    if not cold_ids:
        return warm_fc.iloc[0:0]
    col = "category" if "category" in spec.static else (spec.static[0] if spec.static else None)
    cat = (history.groupby("series_id")[col].first() if col else
           pd.Series("all", index=history["series_id"].unique()))
    vals = ["mean", *QCOLS]
    level = warm_fc.groupby("series_id")["mean"].transform("mean").replace(0, np.nan)
    norm = warm_fc[vals].div(level, axis=0).assign(c=warm_fc["series_id"].map(cat), horizon=warm_fc["horizon"])
    profile = norm.dropna().groupby(["c", "horizon"])[vals].mean()
    overall = norm.dropna().groupby("horizon")[vals].mean()
    cat_level = level.groupby(warm_fc["series_id"].map(cat)).median()
    own = history.loc[history["series_id"].isin(cold_ids)].groupby("series_id")["y"].mean()
    rows = []
    last = history.groupby("series_id")["period_start"].max()
    offset = pd.tseries.frequencies.to_offset(spec.freq)
    for sid in cold_ids:
        c = cat.get(sid, "all")
        prof = profile.loc[c] if c in profile.index.get_level_values(0) else overall
        lvl = own.get(sid, np.nan)
        lvl = lvl if np.isfinite(lvl) else cat_level.get(c, float(np.nanmedian(cat_level)) if len(cat_level) else 0.0)
        block = (prof.reindex(range(1, h + 1)).ffill().fillna(0.0) * lvl).reset_index()
        block.insert(0, "series_id", sid)
        block.insert(1, "period_start", [last[sid] + k * offset for k in range(1, h + 1)])
        rows.append(block)
    out = pd.concat(rows, ignore_index=True)
    out[list(QCOLS)] = np.sort(out[list(QCOLS)].to_numpy(float), axis=1)
    return out.assign(model="cold_start")[list(warm_fc.columns)]
