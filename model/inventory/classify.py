"""Classification of SKUs: ABC by value, XYZ by forecast variability, slow movers, dead stock, actions.

Per SKU i (weeks w of the last year of history, forecast horizons h)::

    annual value  V_i   = Σ_w units_iw · unit_cost_i            (currency, last 52 weeks)
    ABC                 A while the cumulative share of V (largest first) ≤ a, B while ≤ b, else C
    forecast CV   cv_i  = mean_h [(q0.9 - q0.1) / (2 · 1.2816)] / mean_h mean_ih   (normal-equivalent sd)
    XYZ                 X if cv ≤ x, Y if cv ≤ y, else Z (no forecast demand → Z)
    weeks of cover      on_hand_i / mean_h mean_ih               (inf without forecast demand)
    days since sale     as_of − last week with units > 0 (+ 6 days to the end of that week)
    sell-through        units of the last 13 weeks / (those units + on hand)
    slow mover          weeks of cover > cover limit (and stock on hand)
    dead stock          stock on hand and no sale for more than the dead-stock limit
    stock value         on_hand_i · unit_cost_i (cash tied up)

Recommended action: dead stock → ``markdown_candidate`` (hand to pricing); slow mover of class C →
``stop_reordering``; other slow movers → ``reduce``; everything else → ``reorder``.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

Z90 = 1.2815515655446004  # standard normal 0.9 quantile


def abc_classes(value: pd.Series, shares: tuple[float, float]) -> pd.Series:
    """A/B/C by cumulative share of ``value`` (largest first); the SKU crossing a boundary stays in the
    class it opens into, so A is never empty when there is value."""
    v = value.fillna(0).clip(lower=0).sort_values(ascending=False, kind="stable")
    total = v.sum()
    before = (v.cumsum() - v) / total if total > 0 else pd.Series(1.0, index=v.index)
    cls = np.where(before < shares[0], "A", np.where(before < shares[1], "B", "C"))
    return pd.Series(cls, index=v.index).reindex(value.index)


def xyz_classes(cv: pd.Series, limits: tuple[float, float]) -> pd.Series:
    return pd.Series(np.where(cv <= limits[0], "X", np.where(cv <= limits[1], "Y", "Z")), index=cv.index)


def forecast_stats(forecast: pd.DataFrame) -> pd.DataFrame:
    """Mean weekly demand and normal-equivalent CV per series from the forecast contract."""
    f = forecast.assign(sd=(forecast["q0.9"] - forecast["q0.1"]) / (2 * Z90))
    g = f.groupby("series_id").agg(mean_weekly=("mean", "mean"), sd_weekly=("sd", "mean"))
    g["cv"] = np.where(g["mean_weekly"] > 0, g["sd_weekly"] / g["mean_weekly"].where(g["mean_weekly"] > 0), np.inf)
    return g


def classify(skus: pd.DataFrame, stock: pd.DataFrame, history: pd.DataFrame, forecast: pd.DataFrame,
             as_of: dt.date, *, abc_shares=(0.8, 0.95), xyz_cv=(0.5, 1.0), slow_cover_weeks=26.0,
             dead_days=180) -> pd.DataFrame:
    """One row per SKU of ``skus`` (``sku_id, unit_cost``): ``abc, xyz, annual_value, cv, weeks_of_cover,
    days_since_sale, sell_through, slow_mover, dead_stock, on_hand, stock_value, action``.

    ``stock``: ``sku_id, on_hand`` (summed over locations); ``history``: weekly ``sku_id, period_start,
    units``; ``forecast``: the forecast contract with ``series_id`` = sku_id.
    """
    for name, frame, cols in (("skus", skus, ("sku_id", "unit_cost")), ("stock", stock, ("sku_id", "on_hand")),
                              ("history", history, ("sku_id", "period_start", "units")),
                              ("forecast", forecast, ("series_id", "mean", "q0.1", "q0.9"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"classify: {name} is missing columns {missing}")
    out = skus[["sku_id", "unit_cost"]].drop_duplicates("sku_id").set_index("sku_id")
    out["on_hand"] = stock.groupby("sku_id")["on_hand"].sum().reindex(out.index).fillna(0.0)
    h = history.assign(period_start=pd.to_datetime(history["period_start"]))
    as_of_ts = pd.Timestamp(as_of)
    year = h[h["period_start"] > as_of_ts - pd.Timedelta(weeks=52)]
    out["annual_value"] = year.groupby("sku_id")["units"].sum().reindex(out.index).fillna(0) * out["unit_cost"]
    recent = h[h["period_start"] > as_of_ts - pd.Timedelta(weeks=13)].groupby("sku_id")["units"].sum()
    recent = recent.reindex(out.index).fillna(0).clip(lower=0)
    out["sell_through"] = (recent / (recent + out["on_hand"])).where(recent + out["on_hand"] > 0, 0.0)
    last = h[h["units"] > 0].groupby("sku_id")["period_start"].max().reindex(out.index)
    out["days_since_sale"] = ((as_of_ts - (last + pd.Timedelta(days=6))).dt.days.clip(lower=0)
                              .fillna(10_000).astype(int))
    fs = forecast_stats(forecast).reindex(out.index)
    out["cv"] = fs["cv"].fillna(np.inf)
    mean_w = fs["mean_weekly"].fillna(0.0)
    out["weeks_of_cover"] = np.where(mean_w > 0, out["on_hand"] / mean_w.where(mean_w > 0, 1), np.inf)
    out.loc[out["on_hand"] <= 0, "weeks_of_cover"] = 0.0
    out["abc"] = abc_classes(out["annual_value"], abc_shares)
    out["xyz"] = xyz_classes(out["cv"], xyz_cv)
    out["stock_value"] = out["on_hand"] * out["unit_cost"]
    out["slow_mover"] = (out["weeks_of_cover"] > slow_cover_weeks) & (out["on_hand"] > 0)
    out["dead_stock"] = (out["days_since_sale"] > dead_days) & (out["on_hand"] > 0)
    out["action"] = np.select(
        [out["dead_stock"], out["slow_mover"] & (out["abc"] == "C"), out["slow_mover"]],
        ["markdown_candidate", "stop_reordering", "reduce"], "reorder")
    return out.reset_index()


def cash_by_class(classes: pd.DataFrame) -> pd.DataFrame:
    """Stock value (cash tied up) and SKU count per ABC × XYZ class and per action."""
    by_class = classes.groupby(["abc", "xyz"], as_index=False).agg(
        skus=("sku_id", "size"), stock_value=("stock_value", "sum"), annual_value=("annual_value", "sum"))
    by_action = classes.groupby("action", as_index=False).agg(skus=("sku_id", "size"),
                                                              stock_value=("stock_value", "sum"))
    return pd.concat([by_class.assign(kind="class"), by_action.assign(kind="action")], ignore_index=True)
