"""Replenishment of the demo business: a periodic-review (s,S) policy with stock-outs that censor sales.

Index sets: stock series ``s`` (one per SKU at the DC, serving WEB then MKT, and one per SKU × store that
carries it), days ``t``. Units are pieces.

Each day, in order:

    on_hand[s,t] ← on_hand[s,t−1] + received[s,t]
    sales_c[s,t] = min(D_c[s,t], stock left)          (DC: WEB first, then MKT)
    on_hand[s,t] ← on_hand[s,t] − Σ_c sales_c[s,t]

so ``on_hand[t] = on_hand[t−1] + received[t] − sales[t]`` exactly. On the supplier's order weekday
(review period R = 7 days) the planner orders when the inventory position IP = on_hand + on_order is at
or below the reorder point:

    s_t = μ (L+R) + z √((L+R)(μ + μ²/k) + μ² σ_L²),   S_t = s_t + max(μ · cover, case_pack)
    q   = max(⌈(S_t − IP)/case⌉, ⌈moq/case⌉) · case

with μ the planner's rate at t + L (the true seasonal level × a per-SKU estimation error; events,
promotions and prices are not planned, so peaks stock out), L, σ_L the supplier's lead-time mean and sd
(days), k the demand's negative-binomial shape. Realised lead time: max(1, round(N(L, σ_L))),
moved to the next receiving day (Monday–Saturday, not a national holiday); 6 % of order lines arrive in
two parts (the rest 2–6 days after the first).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.ssot.demo_demand import NB_SHAPE

REVIEW_DAYS = 7
SPLIT_SHARE = 0.06


@dataclass
class StockSeries:
    """Static data per stock series (arrays of length n_series)."""

    sku: np.ndarray          # row in the block
    loc: np.ndarray          # location id
    lead: np.ndarray         # L, days
    lead_sd: np.ndarray      # σ_L, days
    weekday: np.ndarray      # supplier's order weekday, 0 = Monday
    case: np.ndarray
    moq: np.ndarray
    z: np.ndarray
    cover: np.ndarray


@dataclass
class StockResult:
    """Per series × day: sales of the first and second channel, end-of-day on hand and on order;
    order lines and receipts as frames with day indices."""

    sales1: np.ndarray
    sales2: np.ndarray
    on_hand: np.ndarray
    on_order: np.ndarray
    orders: pd.DataFrame     # series, t_order, t_expected, qty
    receipts: pd.DataFrame   # series, t_order, t_received, qty


def reorder_levels(mu: np.ndarray, ser: StockSeries) -> tuple[np.ndarray, np.ndarray]:
    """(s, S) per series × day from the planner's rate ``mu`` (units/day); see the module docstring."""
    h = (ser.lead + REVIEW_DAYS)[:, None]
    sd = np.sqrt(h * (mu + mu ** 2 / NB_SHAPE) + (mu * ser.lead_sd[:, None]) ** 2)
    s = mu * h + ser.z[:, None] * sd
    return s, s + np.maximum(mu * ser.cover[:, None], ser.case[:, None])


def simulate(rng: np.random.Generator, ser: StockSeries, d1: np.ndarray, d2: np.ndarray,
             mu_ahead: np.ndarray, weekdays: np.ndarray, receiving: np.ndarray) -> StockResult:
    """Run the policy over all days for every series at once (vectorised across series).

    ``receiving[d]``: whether goods can be received on day d (d may run past the history)."""
    n, T = d1.shape
    if n and receiving.size < T + ser.lead.max() + 6 * ser.lead_sd.max() + 30:
        raise ValueError(f"receiving calendar too short: {receiving.size} days for {T} days of history")
    s_lvl, S_lvl = reorder_levels(mu_ahead, ser)
    day = np.arange(receiving.size)
    next_open = np.minimum.accumulate(np.where(receiving, day, receiving.size - 1)[::-1])[::-1]
    arrive = np.zeros((n, receiving.size), dtype=np.int64)
    oh = np.where(mu_ahead[:, 0] > 0, np.round(rng.uniform(s_lvl[:, 0], S_lvl[:, 0])), 0).astype(np.int64)
    oo = np.zeros(n, dtype=np.int64)
    out = [np.zeros((n, T), dtype=np.int32) for _ in range(4)]
    orders = []
    for t in range(T):
        oh += arrive[:, t]
        oo -= arrive[:, t]
        s1 = np.minimum(d1[:, t], oh)
        s2 = np.minimum(d2[:, t], oh - s1)
        oh -= s1 + s2
        due = np.flatnonzero((ser.weekday == weekdays[t]) & (mu_ahead[:, t] > 0) & (oh + oo <= s_lvl[:, t]))
        if due.size:
            q = _order_qty(S_lvl[due, t] - oh[due] - oo[due], ser.case[due], ser.moq[due])
            orders.append(_schedule(rng, due, t, q, ser, arrive, next_open))
            oo[due] += q
        for a, v in zip(out, (s1, s2, oh, oo)):
            a[:, t] = v
    return StockResult(*out, *_order_frames(orders, T))


def _order_qty(gap: np.ndarray, case: np.ndarray, moq: np.ndarray) -> np.ndarray:
    cases = np.maximum(np.ceil(gap / case), np.ceil(moq / case))
    return (np.maximum(cases, 1) * case).astype(np.int64)


def _schedule(rng, due, t, q, ser: StockSeries, arrive: np.ndarray, next_open: np.ndarray) -> tuple:
    """Draw lead times, split 6 % of lines into two deliveries, book the arrivals on receiving days."""
    lt = np.maximum(1, np.round(rng.normal(ser.lead[due], ser.lead_sd[due]))).astype(int)
    split = rng.random(due.size) < SPLIT_SHARE
    first = np.where(split, np.floor(q * rng.uniform(0.6, 0.9, due.size) / ser.case[due]) * ser.case[due], q)
    first = np.where(first <= 0, q, first).astype(np.int64)
    day1 = next_open[t + lt]
    day2 = next_open[np.maximum(t + lt + rng.integers(2, 7, due.size), day1 + 1)]
    arrive[due, day1] += first
    rest = q - first
    arrive[due, day2] += rest
    return due, t, q, np.round(ser.lead[due]).astype(int), day1 - t, first, day2 - t, rest


def _order_frames(orders: list[tuple], T: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not orders:
        empty = pd.DataFrame({k: pd.Series(dtype="int64") for k in ("series", "t_order", "t_expected", "qty")})
        return empty, empty.rename(columns={"t_expected": "t_received"})
    due, t, q, exp_lt, lt, first, lt2, rest = (np.concatenate([np.broadcast_to(o[k], o[0].shape) for o in orders])
                                               for k in range(8))
    po = pd.DataFrame({"series": due, "t_order": t, "t_expected": t + exp_lt, "qty": q})
    rec = pd.DataFrame({"series": np.concatenate([due, due]), "t_order": np.concatenate([t, t]),
                        "t_received": np.concatenate([t + lt, t + lt2]), "qty": np.concatenate([first, rest])})
    rec = rec[(rec["qty"] > 0) & (rec["t_received"] < T)]
    return po, rec.sort_values(["t_received", "series"], kind="stable").reset_index(drop=True)
