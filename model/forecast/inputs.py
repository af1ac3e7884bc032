"""From the SSOT to the forecaster's history frame and known-future covariates.

Reads ``model.ssot.derived.demand_history`` (any sales history ingested through the canonical ``sales``
kind) and the ``sku`` / ``calendar`` dimensions. Per series i and period t:
  y           = units sold (negative net returns → 0); NaN where ``censored`` (stock-out cut the sales)
  price       = average realised price (currency/unit), carried forward, else the SKU's list price
  price_ratio = price / mean competitor price (1 where no competitor was observed)
  promo_share = share of units sold on promotion (0..1)
  holidays    = number of calendar events in the period (national or the series' location)
Static: category (sku.category, "unknown" when missing), location ("all" at level sku).
Future periods: price and price_ratio carried forward from the last period, promo_share 0 (no
promotion planned), holidays from the calendar.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import FrameSpec, future_index

KNOWN = ("price", "price_ratio", "promo_share", "holidays")
STATIC = ("category", "location")


def _holidays(con, periods: pd.DatetimeIndex, freq: str) -> pd.DataFrame:
    """Events per (scope, period_start)."""
    cal = con.execute("SELECT date, scope FROM calendar").df()
    if cal.empty:
        return pd.DataFrame({"scope": pd.Series(dtype=object), "period_start": pd.Series(dtype="datetime64[ns]"),
                             "holidays": pd.Series(dtype=float)})
    d = pd.to_datetime(cal["date"])
    idx = periods.searchsorted(d, side="right") - 1
    ok = (idx >= 0) & (d < periods[-1] + pd.tseries.frequencies.to_offset(freq)).to_numpy()
    cal = cal.loc[ok].assign(period_start=periods[idx[ok]])
    return cal.groupby(["scope", "period_start"]).size().rename("holidays").reset_index()


def _add_holidays(frame: pd.DataFrame, hol: pd.DataFrame) -> pd.DataFrame:
    nat = hol[hol["scope"] == "national"].drop(columns="scope").rename(columns={"holidays": "h_nat"})
    loc = hol.rename(columns={"scope": "location", "holidays": "h_loc"})
    out = frame.merge(nat, on="period_start", how="left").merge(loc, on=["location", "period_start"], how="left")
    out["holidays"] = out["h_nat"].fillna(0.0) + out["h_loc"].fillna(0.0)
    return out.drop(columns=["h_nat", "h_loc"])


def history_from_ssot(con, freq: str = "W", level: str = "sku") -> tuple[pd.DataFrame, FrameSpec]:
    """The history frame and its FrameSpec from the SSOT; raises ValueError when there is no sales history."""
    from model.ssot.derived import demand_history, sku_master
    d = demand_history(con, freq=freq, level=level)
    if d.empty:
        raise ValueError("the store has no sales history: ingest sales (kind 'sales') before forecasting")
    spec = FrameSpec.for_freq(freq, known=KNOWN, static=STATIC)
    sku = sku_master(con).set_index("sku_id")
    list_price = d["sku_id"].map(sku["list_price"])
    price = d["avg_price"].fillna(list_price).astype(float)
    price = price.fillna(price.groupby(d["series_id"]).transform("mean")).fillna(1.0)
    ratio = (price / d["competitor_price"]).replace([np.inf, -np.inf], np.nan).fillna(1.0)
    frame = pd.DataFrame({
        "series_id": d["series_id"].astype(str), "period_start": pd.to_datetime(d["period_start"]),
        "y": d["units"].astype(float).clip(lower=0.0).where(~d["censored"].astype(bool)),
        "censored": d["censored"].astype(bool), "price": price, "price_ratio": ratio.astype(float),
        "promo_share": d["promo_share"].astype(float).fillna(0.0),
        "category": d["sku_id"].map(sku["category"]).fillna("unknown").astype(str),
        "location": d["location_id"].fillna("all").astype(str),
    })
    periods = pd.DatetimeIndex(sorted(frame["period_start"].unique()))
    return _add_holidays(frame, _holidays(con, periods, spec.freq)), spec


def future_covariates(con, history: pd.DataFrame, spec: FrameSpec, h: int) -> pd.DataFrame:
    """Known covariates for the h periods after each series' last period (see module docstring)."""
    fut = future_index(history, h, spec.freq).drop(columns="horizon")
    last = history.sort_values("period_start").groupby("series_id")[["price", "price_ratio", "location"]].last()
    fut = fut.join(last, on="series_id").assign(promo_share=0.0)
    periods = pd.DatetimeIndex(sorted(set(history["period_start"]) | set(fut["period_start"])))
    hol = _holidays(con, periods, spec.freq)
    return _add_holidays(fut, hol).drop(columns="location")

