"""Replay replenishment policies against demand paths: fill rate, cycle service, stock value, turns, cash.

Demand paths are actual demand (a backtest, one path) or samples from the forecast quantiles. The replay
is a weekly lost-sales simulation per SKU i and path ω (all arrays at once)::

    start of week t:  on-hand += arrivals_t;  IP = on-hand + orders in transit
                      order if forced_it or IP < trigger_it:  Q = ⌈(up_to_it - IP) / case⌉ case, ≥ MOQ
                      (arrives at t + L_i; L_i = 0 arrives now)
    during week t:    served = min(on-hand, d_t), lost = d_t - served, on-hand -= served

Two policies share this replay:
* the *plan*: order-up-to the plan's inventory position after ordering, forced in the plan's order weeks,
  with a reorder-point trigger in between (so a demand spike does not wait for the next planned order);
* a *min/max* baseline: order up to ``max`` when IP falls to ``min`` or below; ``min = μ + k σ`` of the
  protection-period demand, ``max = min + cover`` weeks of mean demand.
Each can be shifted by ``k σ_i`` and :func:`tune` bisects k to reach a target fill rate, so that stock is
compared at equal service. KPIs: fill rate ``Σ served / Σ demand``; cycle service ``share of SKU-weeks
without a lost sale``; average stock value ``mean_t Σ_i cost_i · on-hand_it`` (end of week); turns
``annualised cost of goods sold / average stock value``; cash tied up ``Σ_i cost_i · on-hand after receipts``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReplayItems:
    """Per-SKU constants of the replay, (n,) arrays: lead time (weeks), case pack, MOQ (units), on hand
    at the start (units), unit cost (currency)."""

    lead: np.ndarray
    case: np.ndarray
    moq: np.ndarray
    on_hand: np.ndarray
    unit_cost: np.ndarray


@dataclass(frozen=True)
class ReplayResult:
    fill_rate: float
    cycle_service: float
    avg_stock_value: float
    turns: float
    cash_by_week: np.ndarray       # (T,) mean over paths of stock at cost after receipts
    fill_by_sku: np.ndarray        # (n,)
    orders_per_week: float         # purchase order lines per week, mean over paths

    def as_dict(self) -> dict:
        return {"fill_rate": self.fill_rate, "cycle_service": self.cycle_service,
                "avg_stock_value": self.avg_stock_value, "turns": self.turns,
                "max_cash_tied_up": float(self.cash_by_week.max()), "orders_per_week": self.orders_per_week}


def replay(items: ReplayItems, demand: np.ndarray, up_to: np.ndarray, trigger: np.ndarray,
           forced: np.ndarray) -> ReplayResult:
    """Simulate the policy (module docstring) on ``demand`` (paths, n, T); policy arrays are (n, T)."""
    m, n, t_len = demand.shape
    lead = items.lead.astype(int)
    pipe = np.zeros((m, n, t_len + int(lead.max()) + 1))
    on_hand = np.broadcast_to(items.on_hand.astype(float), (m, n)).copy()
    served_sum = np.zeros((m, n))
    stock_val = np.zeros(t_len)
    cash = np.zeros(t_len)
    no_loss, orders = 0.0, 0.0
    cols = np.arange(n)
    transit = np.zeros((m, n))
    for t in range(t_len):
        on_hand += pipe[:, :, t]
        transit -= pipe[:, :, t]
        ip = on_hand + transit
        need = np.maximum(up_to[:, t] - ip, 0.0)
        qty = np.ceil(need / items.case - 1e-9) * items.case
        qty = np.where(qty > 0, np.maximum(qty, np.ceil(items.moq / items.case) * items.case), 0.0)
        qty = np.where(forced[:, t] | (ip < trigger[:, t]), qty, 0.0)
        orders += (qty > 0).sum() / m
        pipe[:, cols, t + lead] += np.where(lead > 0, qty, 0.0)
        transit += np.where(lead > 0, qty, 0.0)
        on_hand += np.where(lead == 0, qty, 0.0)
        cash[t] = (on_hand @ items.unit_cost).mean()
        served = np.minimum(on_hand, demand[:, :, t])
        no_loss += (served >= demand[:, :, t] - 1e-9).mean()
        on_hand -= served
        served_sum += served
        stock_val[t] = (on_hand @ items.unit_cost).mean()
    total = demand.sum(axis=(0, 2))
    avg_val = float(stock_val.mean())
    cogs_year = float((served_sum @ items.unit_cost).mean()) * 52 / t_len
    return ReplayResult(
        fill_rate=float(served_sum.sum() / max(demand.sum(), 1e-12)), cycle_service=no_loss / t_len,
        avg_stock_value=avg_val, turns=cogs_year / avg_val if avg_val > 0 else float("inf"), cash_by_week=cash,
        fill_by_sku=np.where(total > 0, served_sum.sum(axis=0) / np.maximum(total, 1e-12), 1.0),
        orders_per_week=orders / t_len)


def plan_policy(receipts: np.ndarray, position: np.ndarray, scheduled: np.ndarray, lead: np.ndarray,
                reorder_point: np.ndarray, sd: np.ndarray) -> Callable[[float], tuple]:
    """The plan as a policy, shifted by ``k σ``: order-up-to ``S_t = P_t + Σ_{τ=t+1}^{t+L} (q_τ + r_τ)``
    (the plan's inventory position after ordering in week t), forced in weeks whose order arrives in
    t + L with q > 0, and triggered when IP < reorder point. Arrays (n, T) in units."""
    n, t_len = receipts.shape
    inflow = np.concatenate([receipts + scheduled, np.zeros((n, int(lead.max()) + 1))], axis=1)
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(inflow, axis=1)], axis=1)
    t = np.arange(t_len)[None, :]
    ahead = cum[np.arange(n)[:, None], t + 1 + lead[:, None]] - cum[:, 1:t_len + 1]
    base = np.maximum(position + ahead, reorder_point[:, None])
    idx = np.minimum(t + lead[:, None], t_len - 1)
    forced = (np.take_along_axis(receipts, idx, axis=1) > 0) & (t + lead[:, None] < t_len)

    def policy(k: float):
        shift = (k * sd)[:, None]
        return base + shift, np.broadcast_to(reorder_point[:, None] + shift, base.shape), forced
    return policy


def minmax_policy(mean_protection: np.ndarray, sd: np.ndarray, weekly_mean: np.ndarray, cover_weeks: float,
                  t_len: int) -> Callable[[float], tuple]:
    """Min/max baseline shifted by ``k σ``: ``min = μ + k σ``, ``max = min + cover · weekly mean``."""
    def policy(k: float):
        lo = mean_protection + k * sd
        hi = lo + cover_weeks * weekly_mean
        shape = (len(lo), t_len)
        return (np.broadcast_to(hi[:, None], shape), np.broadcast_to(lo[:, None] + 1e-9, shape),
                np.zeros(shape, dtype=bool))
    return policy


def tune(items: ReplayItems, demand: np.ndarray, policy: Callable[[float], tuple], target_fill: float,
         lo: float = -3.0, hi: float = 6.0, iterations: int = 14) -> tuple[float, ReplayResult]:
    """Bisect the shift k so the replayed fill rate reaches ``target_fill`` (smallest k that does)."""
    res_hi = replay(items, demand, *policy(hi))
    if res_hi.fill_rate < target_fill:
        return hi, res_hi
    best = (hi, res_hi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        r = replay(items, demand, *policy(mid))
        if r.fill_rate >= target_fill:
            hi, best = mid, (mid, r)
        else:
            lo = mid
    return best
