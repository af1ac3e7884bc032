"""Prices, competitor prices and true demand of the demo business, for one block of SKUs.

Index sets: SKUs ``i`` of the block, channels ``c`` (``WEB``, ``MKT``, stores ``S01…``), days ``t``.

Own price path ``p[i,t]`` (EUR) = list price (step changes) × (1 − promo or markdown discount).
Competitor ``k`` carrying SKU ``i`` sells at ``pc[i,k,t] = p0_i · level_ik · exp(x_ik,w) · (1 − promo_ik,w)``
with ``x`` a weekly AR(1) (φ = 0.9, σ = 0.02); the competitor price index is
``ci[i,t] = mean_k log(pc/(p0·level))`` (0 for SKUs no competitor carries).

True demand, units/day (log-linear, then negative binomial with shape ``k = NB_SHAPE``):

    log λ[i,c,t] = log(r_i · share_ic) + g_c · τ_t + A_cat · cos(2π(doy_t − peak_cat)/365.25)
                   + X_cat · xmas_t + dow_c(t) + event_c(t)
                   + e_i · log(p[i,t]/p0_i) + x_i · ci[i,t] + u_i · promo[i,t] + d_i · post[i,t] + life_i(t)
    D[i,c,t] ~ Poisson(λ · G),  G ~ Gamma(k, 1/k)

``r`` base rate (units/day at the reference price ``p0``), ``g_c`` growth per year, ``τ`` years since
the start, ``e`` own-price elasticity, ``x`` cross-price elasticity, ``u`` promotion uplift, ``d``
post-promotion dip (7 days), ``life`` launch ramp (21-day time constant), −∞ after end of life and
log 0.02 after a SKU goes dead. Stores are closed (λ = 0) on Sundays and on holidays of their region.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.ssot.demo_catalog import TimeAxis

NB_SHAPE = 2.0
GROWTH_PER_YEAR = {"web": 0.25, "marketplace": 0.35, "store": 0.02}  # log growth
DOW = {  # log effect Monday … Sunday
    "web": (0.10, 0.03, 0.0, -0.03, -0.12, -0.15, 0.12),
    "marketplace": (0.05, 0.02, 0.0, -0.02, -0.06, -0.08, 0.06),
    "store": (-0.15, -0.12, -0.08, 0.0, 0.12, 0.35, 0.0),
}
EVENTS = {  # log effect of an event on each channel type
    "Black Friday": {"web": 1.0, "marketplace": 0.9, "store": 0.6},
    "Cyber Monday": {"web": 0.8, "marketplace": 0.6, "store": 0.0},
    "Heiligabend": {"web": -0.3, "marketplace": -0.3, "store": -0.5},
    "Silvester": {"web": -0.2, "marketplace": -0.2, "store": -0.5},
    "1. Weihnachtstag": {"web": -0.4, "marketplace": -0.4, "store": 0.0},
    "2. Weihnachtstag": {"web": -0.3, "marketplace": -0.3, "store": 0.0},
    "Summer Sale Day 1": {"marketplace": 0.6},  # scope MKT: the marketplace's own event
    "Summer Sale Day 2": {"marketplace": 0.5},
}
BF_WEEKEND, BF_WAIT = 0.35, -0.10  # Sat/Sun after Black Friday; the week before (customers wait)
COMPETITORS = (  # name, share of SKUs carried, price level vs our p0, observation every n days, jitter
    ("comp_a", 0.60, 0.97, 7, 0), ("comp_b", 0.40, 1.03, 7, 1), ("comp_c", 0.25, 0.92, 14, 2))
PROMO_RATE_PER_YEAR = 3.0
POST_PROMO_DAYS = 7


@dataclass
class Channels:
    """Sales channels of the demand model: ids, type (web | marketplace | store), region (stores)."""

    ids: list[str]
    types: list[str]
    regions: list[str]


@dataclass
class PricePaths:
    """Per SKU × day (block rows): price (EUR), list price, promotion / post-promotion / markdown flags."""

    price: np.ndarray
    list_price: np.ndarray
    promo: np.ndarray
    post: np.ndarray
    markdown: np.ndarray


def price_paths(rng: np.random.Generator, sku: pd.DataFrame, axis: TimeAxis, bf_days: list[int]) -> PricePaths:
    """List-price steps, promotions (random and Black-Friday week) and end-of-life markdowns.

    ``fixed_price`` SKUs never change price. Family members copy the first member's path."""
    n, T = len(sku), axis.n_days
    varies = (sku["lifecycle"] != "fixed_price").to_numpy()
    log_list = np.zeros((n, T))
    n_changes = rng.poisson(0.4 * T / 365.25, n) * varies
    rows = np.repeat(np.arange(n), n_changes)
    np.add.at(log_list, (rows, rng.integers(1, T, rows.size)), rng.normal(0.03, 0.05, rows.size))
    p0 = sku["list_price"].to_numpy()
    list_price = np.floor(p0[:, None] * np.exp(np.cumsum(log_list, axis=1)) * 10) / 10 + 0.09
    disc, post = _promotions(rng, n, T, varies, bf_days)
    markdown = _markdowns(sku, T) * varies[:, None]
    promo = disc > 0
    price = np.round(list_price * (1 - np.maximum(disc, markdown)), 2)
    root = sku.groupby("price_family").cumcount().to_numpy() == 0
    idx = pd.Series(np.arange(n)).where(root).groupby(sku["price_family"].to_numpy()).transform("first")
    idx = idx.to_numpy(dtype=int)
    return PricePaths(price[idx], list_price[idx], promo[idx], post[idx] & ~promo[idx], markdown[idx] > 0)


def _promotions(rng, n, T, varies, bf_days) -> tuple[np.ndarray, np.ndarray]:
    """Discount per SKU × day (max over overlapping promos) and the post-promotion flag."""
    k = rng.poisson(PROMO_RATE_PER_YEAR * T / 365.25, n) * varies
    rows = np.repeat(np.arange(n), k)
    starts = rng.integers(0, T, rows.size)
    lengths = rng.integers(7, 15, rows.size)
    discs = rng.uniform(0.10, 0.35, rows.size).round(2)
    bf = [(i, d) for d in bf_days for i in np.flatnonzero(varies & (rng.random(n) < 0.35))]
    if bf:
        bf_rows, bf_days_ = np.array(bf).T
        rows = np.concatenate([rows, bf_rows])
        starts = np.concatenate([starts, bf_days_ - 4])
        lengths = np.concatenate([lengths, np.full(bf_rows.size, 8)])
        discs = np.concatenate([discs, rng.uniform(0.2, 0.3, bf_rows.size).round(2)])
    disc = np.zeros((n, T))
    post = np.zeros((n, T), dtype=bool)
    r, d, v = _expand(rows, starts, lengths, discs, T)
    np.maximum.at(disc, (r, d), v)
    r, d, _ = _expand(rows, starts + lengths, np.full(rows.size, POST_PROMO_DAYS), discs, T)
    post[r, d] = True
    return disc, post


def _expand(rows, starts, lengths, values, T):
    """Expand (row, start, length, value) intervals to one entry per covered day inside [0, T)."""
    r = np.repeat(rows, lengths)
    v = np.repeat(values, lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    d = np.repeat(starts, lengths) + offsets
    ok = (d >= 0) & (d < T)
    return r[ok], d[ok], v[ok]


def _markdowns(sku: pd.DataFrame, T: int) -> np.ndarray:
    """Clearance before end of life: 30 % off from 42 days before, 50 % off in the last 14 days."""
    t = np.arange(T)[None, :]
    to_eol = np.where((sku["lifecycle"] == "eol").to_numpy()[:, None], sku["eol_day"].to_numpy()[:, None] - t, -1)
    return np.where((to_eol > 0) & (to_eol <= 14), 0.5, np.where((to_eol > 14) & (to_eol <= 42), 0.3, 0.0))


def competitor_prices(rng: np.random.Generator, sku: pd.DataFrame, axis: TimeAxis
                      ) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """True competitor prices → (price index ci[i,t], observed feed rows, competitors per SKU)."""
    n, T = len(sku), axis.n_days
    W = T // 7 + 2
    p0 = sku["list_price"].to_numpy()
    ci_sum, n_comp, feed = np.zeros((n, T)), np.zeros(n, dtype=int), []
    week = (np.arange(T) + axis.start.weekday()) // 7
    for k, (_, share, level, every, jitter) in enumerate(COMPETITORS):
        carried = rng.random(n) < share
        lvl = level * rng.lognormal(0, 0.05, n)
        x = np.zeros((n, W))
        for w in range(1, W):
            x[:, w] = 0.9 * x[:, w - 1] + rng.normal(0, 0.02, n)
        promo = np.where(rng.random((n, W)) < 0.06, rng.uniform(0.10, 0.25, (n, W)), 0.0)
        log_rel = (x + np.log1p(-promo))[:, week]
        ci_sum += np.where(carried[:, None], log_rel, 0.0)
        n_comp += carried
        feed.append(_observe(rng, k, sku, carried, p0 * lvl, log_rel, every, jitter, axis))
    ci = np.divide(ci_sum, np.maximum(n_comp, 1)[:, None])
    return ci, pd.concat(feed, ignore_index=True), n_comp


def _observe(rng, k, sku, carried, ref, log_rel, every, jitter, axis) -> pd.DataFrame:
    """Competitor ``k``'s observations: every ``every`` ± ``jitter`` days, 3 % of SKU-days missing."""
    T = axis.n_days
    days = np.cumsum(every + rng.integers(-jitter, jitter + 1, T // max(every - jitter, 1) + 2))
    days = days[days < T] - 1
    rows, cols = np.nonzero(carried[:, None] & (rng.random((len(sku), days.size)) >= 0.03))
    d = days[cols]
    price = np.round(ref[rows] * np.exp(log_rel[rows, d]), 2)
    return pd.DataFrame({"day": d, "sku_idx": rows, "competitor": np.full(d.size, k, dtype=np.int8), "price": price})


def channels(locs: pd.DataFrame) -> Channels:
    sel = locs[locs["type"].isin(["web", "marketplace", "store"])]
    return Channels(sel["location_id"].tolist(), sel["type"].tolist(), sel["region"].tolist())


def channel_shares(rng: np.random.Generator, sku: pd.DataFrame, ch: Channels, store_size: np.ndarray
                   ) -> np.ndarray:
    """Share of each SKU's base rate per channel (rows sum to 1). Stores carry about 85 % of the top
    20 % of SKUs by base rate (plus 3 % at random); a carried SKU sells 45 % in stores."""
    n = len(sku)
    is_store = np.array([t == "store" for t in ch.types])
    top = sku["base_rate"].rank(pct=True).to_numpy() > 0.8
    carried = ((top[:, None] & (rng.random((n, is_store.sum())) < 0.85))
               | (rng.random((n, is_store.sum())) < 0.03))
    shares = np.zeros((n, len(ch.ids)))
    any_store = carried.any(axis=1)
    shares[:, ch.types.index("web")] = np.where(any_store, 0.40, 0.72)
    shares[:, ch.types.index("marketplace")] = np.where(any_store, 0.15, 0.28)
    w = carried * store_size[None, :]
    shares[:, is_store] = 0.45 * w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    return shares


def log_calendar_effects(ch: Channels, axis: TimeAxis, cal: pd.DataFrame) -> np.ndarray:
    """dow_c(t) + event_c(t) per channel × day (log); −inf where a store is closed (Sundays, holidays
    of its region). An event applies to a channel when its scope is national, the channel's region or id."""
    dates = axis.dates
    dow = dates.dayofweek.to_numpy()
    out = np.array([np.asarray(DOW[t])[dow] for t in ch.types])
    day_of = {d: i for i, d in enumerate(dates.date)}
    for row in cal.itertuples():
        t = day_of[row.date]
        for c, ctype in enumerate(ch.types):
            if row.scope not in ("national", ch.regions[c], ch.ids[c]):
                continue
            if row.event_type == "holiday" and ctype == "store":
                out[c, t] = -np.inf
            out[c, t] += EVENTS.get(row.event, {}).get(ctype, 0.0)
            if row.event == "Black Friday":
                out[c, t + 1:t + 3] += BF_WEEKEND
                out[c, max(t - 7, 0):t] += BF_WAIT if ctype != "store" else 0.0
    stores = np.flatnonzero(np.array(ch.types) == "store")
    out[np.ix_(stores, np.flatnonzero(dow == 6))] = -np.inf
    return out


def season(sku: pd.DataFrame, axis: TimeAxis, cats: dict) -> np.ndarray:
    """A_cat · cos(2π(doy − peak)/365.25) + X_cat · xmas_t per SKU × day (log)."""
    dates = axis.dates
    doy = dates.dayofyear.to_numpy()
    ramp = np.clip((doy - 319) / (356 - 319), 0, 1) * (doy <= 358)  # Nov 15 → Dec 22, none after Dec 24
    c = [cats[name] for name in sku["category"]]
    amp = np.array([x.season_amp for x in c])[:, None]
    peak = np.array([x.peak_doy for x in c])[:, None]
    xmas = np.array([x.xmas for x in c])[:, None]
    return amp * np.cos(2 * np.pi * (doy[None, :] - peak) / 365.25) + xmas * ramp[None, :]


def lifecycle(sku: pd.DataFrame, T: int) -> np.ndarray:
    """life_i(t): launch ramp 1 − exp(−(t − launch)/21), zero after end of life, × 0.02 once dead (log)."""
    t = np.arange(T)[None, :]
    since = t - sku["launch_day"].to_numpy()[:, None]
    with np.errstate(divide="ignore"):
        ramp = np.where(since >= 0, 1 - np.exp(-(since + 1) / 21.0), 0.0)
        life = np.log(np.where(sku["launch_day"].to_numpy()[:, None] < 0, 1.0, ramp))
    life = np.where(t >= sku["eol_day"].to_numpy()[:, None], -np.inf, life)
    return np.where(t >= sku["dead_day"].to_numpy()[:, None], life + np.log(0.02), life)


def expected_demand(sku: pd.DataFrame, prices: PricePaths, ci: np.ndarray, base: np.ndarray,
                    shares: np.ndarray, ch: Channels, cal_eff: np.ndarray, axis: TimeAxis) -> np.ndarray:
    """λ[i,c,t], units/day (see module docstring). ``base`` = season + lifecycle per SKU × day (log)."""
    p0 = sku["list_price"].to_numpy()[:, None]
    own = sku["elasticity"].to_numpy()[:, None] * np.log(prices.price / p0)
    resp = (own + sku["cross_elasticity"].to_numpy()[:, None] * ci
            + sku["promo_uplift"].to_numpy()[:, None] * prices.promo
            + sku["post_promo_dip"].to_numpy()[:, None] * prices.post + base)
    tau = np.arange(axis.n_days) / 365.25
    growth = np.array([GROWTH_PER_YEAR[t] for t in ch.types])[:, None] * tau[None, :]
    with np.errstate(divide="ignore"):
        log_r = np.log(sku["base_rate"].to_numpy()[:, None] * shares)
    return np.exp(log_r[:, :, None] + resp[:, None, :] + (growth + cal_eff)[None, :, :])


def realise(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """Negative-binomial demand: Poisson(λ·G), G ~ Gamma(NB_SHAPE, 1/NB_SHAPE); var = λ + λ²/k."""
    g = rng.gamma(NB_SHAPE, 1.0 / NB_SHAPE, lam.shape)
    return rng.poisson(lam * g).astype(np.int32)
