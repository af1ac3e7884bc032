"""Simulate one block of SKUs of the demo business: prices → demand → (s,S) stock → sales, and return
tidy frames in canonical units (days are indices on the time axis, EUR, units, m³)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.ssot import demo_demand as dd
from model.ssot.demo_catalog import CATEGORIES, TimeAxis
from model.ssot.demo_stock import StockSeries, simulate


@dataclass
class Business:
    """Master data and calendar effects shared by every block."""

    axis: TimeAxis
    sku: pd.DataFrame
    suppliers: pd.DataFrame
    locs: pd.DataFrame
    cal: pd.DataFrame
    ch: dd.Channels
    cal_eff: np.ndarray       # channel × day, log
    store_size: np.ndarray    # m² per store channel
    bf_days: list[int]        # Black Friday day indices


@dataclass
class BlockOut:
    inventory: pd.DataFrame   # day, sku, loc, on_hand, on_order   (sku: global row, loc: row of locs)
    demand: pd.DataFrame      # day, sku, loc, expected, demand, sales, stockout
    prices: pd.DataFrame      # day, sku, price, list_price, promo, post_promo, markdown, competitor_index
    sales: pd.DataFrame       # sku (global row), channel (index into Business.ch), day, units, price, promo
    orders: pd.DataFrame      # t_order, t_expected, qty, sku, loc, supplier, unit_cost
    receipts: pd.DataFrame    # t_order, t_received, qty, sku, loc, supplier, unit_cost
    feed: pd.DataFrame        # day, competitor (row of demo_demand.COMPETITORS), price, sku
    dc_volume: np.ndarray     # m³ on hand at the DC per day
    sku_extra: pd.DataFrame   # n_competitors, price_varies, stores_carrying


def run_block(biz: Business, rows: np.ndarray, rng: np.random.Generator) -> BlockOut:
    """Simulate the SKUs ``rows`` of ``biz.sku`` over the whole history."""
    sku = biz.sku.iloc[rows].reset_index(drop=True)
    axis, ch = biz.axis, biz.ch
    prices = dd.price_paths(rng, sku, axis, biz.bf_days)
    ci, feed, n_comp = dd.competitor_prices(rng, sku, axis)
    shares = dd.channel_shares(rng, sku, ch, biz.store_size)
    seas = dd.season(sku, axis, {c.name: c for c in CATEGORIES})
    lam = dd.expected_demand(sku, prices, ci, seas + dd.lifecycle(sku, axis.n_days), shares, ch, biz.cal_eff, axis)
    demand = dd.realise(rng, lam)
    ser, col1, d1, d2, mu = _series(biz, sku, shares, seas, demand)
    res = simulate(rng, ser, d1, d2, mu, axis.dates.dayofweek.to_numpy(), _receiving_days(biz))
    sales = np.zeros(demand.shape, dtype=np.int32)
    sales[ser.sku, col1] = res.sales1
    dc = ser.loc == "DC1"
    sales[ser.sku[dc], ch.types.index("marketplace")] = res.sales2[dc]
    loc_index = {x: k for k, x in enumerate(biz.locs["location_id"])}
    return BlockOut(
        inventory=_inventory(ser, res, rows, loc_index),
        demand=_truth_demand(rows, np.array([loc_index[c] for c in ch.ids], dtype=np.int16), lam, demand, sales),
        prices=_truth_prices(rows, prices, ci),
        sales=_sales(rows, sales, prices),
        orders=_po_frame(res.orders, ser, sku, rows, loc_index),
        receipts=_po_frame(res.receipts, ser, sku, rows, loc_index),
        feed=feed.assign(sku=rows[feed.pop("sku_idx").to_numpy()]),
        dc_volume=(res.on_hand[dc] * sku["volume_m3"].to_numpy()[ser.sku[dc], None]).sum(axis=0),
        sku_extra=pd.DataFrame({"n_competitors": n_comp,
                                "price_varies": _price_varies(prices.price, lam.sum(axis=1) > 0),
                                "stores_carrying": (shares[:, _store_cols(ch)] > 0).sum(axis=1)}),
    )


def _receiving_days(biz: Business, extra_days: int = 400) -> np.ndarray:
    """Goods are received Monday–Saturday except national holidays, over the history plus ``extra_days``."""
    dates = pd.date_range(biz.axis.start, periods=biz.axis.n_days + extra_days, freq="D")
    hol = biz.cal.loc[(biz.cal["event_type"] == "holiday") & (biz.cal["scope"] == "national"), "date"]
    return (dates.dayofweek != 6) & ~dates.isin(pd.to_datetime(hol))


def _price_varies(price: np.ndarray, selling: np.ndarray) -> np.ndarray:
    """Whether a SKU's price changes on the days it can sell (λ > 0 somewhere): only those identify it."""
    hi = np.where(selling, price, -np.inf).max(axis=1)
    lo = np.where(selling, price, np.inf).min(axis=1)
    return selling.any(axis=1) & (hi > lo + 1e-9)


def _store_cols(ch: dd.Channels) -> np.ndarray:
    return np.flatnonzero(np.array(ch.types) == "store")


def planner_rate(biz: Business, sku: pd.DataFrame, shares: np.ndarray, seas: np.ndarray) -> np.ndarray:
    """μ[i,c,t]: the planner's view of demand (units/day): base rate × share × estimation error ×
    growth × season, between launch and end of life; blind to prices, promotions, events and dying SKUs."""
    T = biz.axis.n_days
    t = np.arange(T)
    growth = np.array([dd.GROWTH_PER_YEAR[x] for x in biz.ch.types])[:, None] * t[None, :] / 365.25
    alive = (t[None, :] >= sku["launch_day"].to_numpy()[:, None]) & (t[None, :] < sku["eol_day"].to_numpy()[:, None])
    level = (sku["base_rate"] * sku["plan_error"]).to_numpy()[:, None, None] * shares[:, :, None]
    return level * np.exp(growth[None, :, :] + seas[:, None, :]) * alive[:, None, :]


def _series(biz: Business, sku: pd.DataFrame, shares: np.ndarray, seas: np.ndarray, demand: np.ndarray):
    """Stock series: the DC per SKU (first channel WEB, second MKT) and every store carrying the SKU.
    Returns (series, first channel per series, demand of the first / second channel, planner rate at t+L)."""
    ch, n, T = biz.ch, len(sku), biz.axis.n_days
    web, mkt = ch.types.index("web"), ch.types.index("marketplace")
    stores = _store_cols(ch)
    si, sc = np.nonzero(shares[:, stores] > 0)
    idx = np.r_[np.arange(n), si]
    col1 = np.r_[np.full(n, web), stores[sc]]
    mu_ch = planner_rate(biz, sku, shares, seas)
    mu = np.concatenate([mu_ch[:, web] + mu_ch[:, mkt], mu_ch[si, stores[sc]]])
    d2 = np.concatenate([demand[:, mkt], np.zeros((si.size, T), dtype=demand.dtype)])
    sup = biz.suppliers.iloc[sku["supplier_idx"].to_numpy()[idx]]
    ser = StockSeries(
        sku=idx, loc=np.r_[np.full(n, "DC1", dtype=object), np.array(ch.ids, dtype=object)[stores[sc]]],
        lead=sup["lead_time_days"].to_numpy(), lead_sd=sup["lead_time_sd_days"].to_numpy(),
        weekday=sup["order_weekday"].to_numpy(), case=sku["case_pack"].to_numpy()[idx],
        moq=sku["moq"].to_numpy()[idx], z=sku["safety_z"].to_numpy()[idx],
        cover=sku["cover_days"].to_numpy()[idx])
    ahead = np.minimum(np.arange(T)[None, :] + np.round(ser.lead).astype(int)[:, None], T - 1)
    return ser, col1, demand[idx, col1], d2, np.take_along_axis(mu, ahead, axis=1)


def _inventory(ser: StockSeries, res, rows: np.ndarray, loc_index: dict) -> pd.DataFrame:
    """End-of-day snapshots from the first day a series holds or awaits stock, ordered by day, series.
    ``sku`` is the global SKU row, ``loc`` the row in ``Business.locs``."""
    live = np.maximum.accumulate((res.on_hand + res.on_order) > 0, axis=1)
    day, s = np.nonzero(live.T)
    loc = np.array([loc_index[x] for x in ser.loc], dtype=np.int16)
    return pd.DataFrame({"day": day.astype(np.int32), "sku": rows[ser.sku[s]].astype(np.int32), "loc": loc[s],
                         "on_hand": res.on_hand[s, day], "on_order": res.on_order[s, day]})


def _truth_demand(rows: np.ndarray, ch_loc: np.ndarray, lam, demand, sales) -> pd.DataFrame:
    """Uncensored demand per SKU × channel × day where λ > 0 or something sold, ordered by day."""
    t, i, c = np.nonzero(((lam > 0) | (sales > 0)).transpose(2, 0, 1))
    return pd.DataFrame({"day": t.astype(np.int32), "sku": rows[i].astype(np.int32), "loc": ch_loc[c],
                         "expected": lam[i, c, t], "demand": demand[i, c, t], "sales": sales[i, c, t],
                         "stockout": demand[i, c, t] > sales[i, c, t]})


def _truth_prices(rows: np.ndarray, prices: dd.PricePaths, ci: np.ndarray) -> pd.DataFrame:
    n, T = prices.price.shape
    i, t = np.divmod(np.arange(n * T), T)
    return pd.DataFrame({"day": t.astype(np.int32), "sku": rows[i].astype(np.int32), "price": prices.price.ravel(),
                         "list_price": prices.list_price.ravel(), "promo": prices.promo.ravel(),
                         "post_promo": prices.post.ravel(), "markdown": prices.markdown.ravel(),
                         "competitor_index": ci.ravel()})


def _sales(rows: np.ndarray, sales: np.ndarray, prices: dd.PricePaths) -> pd.DataFrame:
    i, c, t = np.nonzero(sales)
    return pd.DataFrame({"sku": rows[i].astype(np.int32), "channel": c.astype(np.int8), "day": t.astype(np.int32),
                         "units": sales[i, c, t],
                         "price": prices.price[i, t], "promo": prices.promo[i, t]})


def _po_frame(df: pd.DataFrame, ser: StockSeries, sku: pd.DataFrame, rows: np.ndarray, loc_index: dict
              ) -> pd.DataFrame:
    """Order lines or receipts with integer codes: ``sku`` (global row), ``loc`` (row of locs),
    ``supplier`` (row of suppliers), plus the unit cost."""
    s = df["series"].to_numpy()
    i = ser.sku[s]
    loc = np.array([loc_index[x] for x in ser.loc], dtype=np.int16)
    return df.drop(columns="series").assign(
        sku=rows[i].astype(np.int32), loc=loc[s], supplier=sku["supplier_idx"].to_numpy()[i].astype(np.int32),
        unit_cost=sku["unit_cost"].to_numpy()[i])
