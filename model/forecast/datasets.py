"""Loaders of the public benchmark datasets (../shared/data) into the history-frame contract.

Each returns ``(history, spec)``: series_id, period_start, y (units per period; NaN = unknown) plus
known-future covariates and static categoricals, and the FrameSpec naming them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from model.forecast.contract import FrameSpec

STALLION_HOLIDAYS = ("easter_day", "good_friday", "new_year", "christmas", "labor_day", "independence_day",
                     "revolution_day_memorial", "regional_games", "fifa_u_17_world_cup", "football_gold_cup",
                     "beer_capital", "music_fest")


def stallion(data_dir: Path) -> tuple[pd.DataFrame, FrameSpec]:
    """Monthly beverage volume (hectolitres) per agency × SKU, 350 series 2013-01..2017-12. Known future:
    actual price (months without sales carry the previous price), discount in percent (promotion depth), number of holidays/events in the month; static:
    agency (location) and sku (category-like product)."""
    d = pd.read_parquet(Path(data_dir) / "stallion" / "stallion.parquet")
    sid = d["agency"].astype(str) + "|" + d["sku"].astype(str)
    d = d.assign(price_actual=d["price_actual"].where(d["price_actual"] > 0).groupby(sid).transform(
        lambda s: s.ffill().bfill()).fillna(0.0))  # price 0 marks months without sales, not free beer
    out = pd.DataFrame({
        "series_id": sid,
        "period_start": pd.to_datetime(d["date"]).astype("datetime64[ns]"),
        "y": d["volume"].astype(float),
        "price": d["price_actual"].astype(float),
        "discount_pct": d["discount_in_percent"].astype(float),
        "events": d[list(STALLION_HOLIDAYS)].sum(axis=1).astype(float),
        "category": d["sku"].astype(str),
        "location": d["agency"].astype(str),
    })
    spec = FrameSpec.for_freq("M", known=("price", "discount_pct", "events"), static=("category", "location"))
    return out.sort_values(["series_id", "period_start"]).reset_index(drop=True), spec


def walmart(data_dir: Path, max_series: int | None = None) -> tuple[pd.DataFrame, FrameSpec]:
    """Weekly sales (USD) per store × department 2010-02-05..2012-10-26 (weeks start Friday). Missing weeks
    between a series' first and last week are zero sales; the few negative weeks (net returns) are set to
    0. Known future: holiday-week flag, markdowns present (promotion proxy); static: department
    (category), store (location). ``max_series`` keeps the first series in id order (for quick tests)."""
    base = Path(data_dir) / "walmart_recruiting"
    d = pd.read_csv(base / "train.csv.zip", parse_dates=["Date"])
    d["series_id"] = d["Store"].astype(str) + "_" + d["Dept"].astype(str)
    if max_series:
        keep = np.sort(d["series_id"].unique())[:max_series]
        d = d[d["series_id"].isin(keep)]
    weeks = pd.date_range(d["Date"].min(), d["Date"].max(), freq="W-FRI")
    span = d.groupby("series_id")["Date"].agg(["min", "max"])
    grid = pd.concat([pd.DataFrame({"series_id": sid, "Date": weeks[(weeks >= a) & (weeks <= b)]})
                      for sid, (a, b) in span.iterrows()], ignore_index=True)
    d = grid.merge(d, on=["series_id", "Date"], how="left")
    sd = d["series_id"].str.split("_", expand=True)
    feats = pd.read_csv(base / "features.csv", parse_dates=["Date"])
    markdown = feats.filter(like="MarkDown").fillna(0).gt(0).any(axis=1).astype(float)
    f = feats[["Store", "Date"]].assign(markdown=markdown, holiday=feats["IsHoliday"].astype(float))
    d = d.assign(Store=sd[0].astype(int)).merge(f, on=["Store", "Date"], how="left")
    out = pd.DataFrame({
        "series_id": d["series_id"], "period_start": d["Date"],
        "y": d["Weekly_Sales"].fillna(0.0).clip(lower=0.0),
        "holiday": d["holiday"].fillna(0.0), "markdown": d["markdown"].fillna(0.0),
        "category": sd[1].to_numpy(), "location": sd[0].to_numpy(),
    })
    spec = FrameSpec.for_freq("W-FRI", known=("holiday", "markdown"), static=("category", "location"))
    return out.sort_values(["series_id", "period_start"]).reset_index(drop=True), spec
