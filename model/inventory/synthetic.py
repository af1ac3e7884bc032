"""Synthetic replenishment instances with binding capacity and budget (for tests and benchmarks).

Demand per SKU is long-tailed (log-normal weekly means, 0.2–200 units), seasonal (one yearly sine with a
peak), with case packs {1, 2, 4, 6, 12, 24}, MOQs of 0–3 cases, lead times 0–4 weeks and volumes
0.001–0.05 m³. Capacities are set as a share (``tightness``) of what the unconstrained plan would use
at its seasonal peak, so they bind in the peak weeks only. Same seed, same instance.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.inventory.replenishment import ReplenishmentInput, prepare, usage, zero_plan


def synthetic_instance(n_skus: int, weeks: int = 52, seed: int = 0, tightness: float | None = 0.8,
                       families: tuple[str, ...] = ("storage", "inbound", "budget")) -> ReplenishmentInput:
    """An instance of ``n_skus`` × ``weeks``; ``tightness=None`` leaves the coupling rows out."""
    rng = np.random.default_rng(seed)
    mean = np.exp(rng.normal(1.5, 1.2, n_skus)).clip(0.2, 200)
    t = np.arange(weeks)
    phase = rng.uniform(0, 2 * np.pi, n_skus)
    season = 1 + 0.35 * np.sin(2 * np.pi * t[None, :] / 52 + phase[:, None])
    demand = mean[:, None] * season * rng.gamma(8.0, 1 / 8.0, (n_skus, weeks))
    cost = np.exp(rng.normal(2.5, 0.8, n_skus)).clip(0.5, 500)
    cp = rng.choice([1, 2, 4, 6, 12, 24], n_skus, p=[0.25, 0.15, 0.2, 0.2, 0.15, 0.05])
    skus = pd.DataFrame({
        "sku_id": [f"S{i:06d}" for i in range(n_skus)], "unit_cost": cost,
        "holding_cost": cost * 0.25 / 52, "order_cost": rng.uniform(10, 60, n_skus), "case_pack": cp,
        "moq": cp * rng.integers(0, 4, n_skus), "lead_time_weeks": rng.integers(0, 5, n_skus),
        "volume_m3": np.exp(rng.uniform(np.log(0.001), np.log(0.05), n_skus)),
        "on_hand": np.rint(mean * rng.uniform(0, 4, n_skus)), "lost_sale_cost": cost * rng.uniform(1.6, 3, n_skus),
        "shortfall_cost": cost * 1.0 / 52})
    safety = np.ceil(1.3 * np.sqrt(mean))[:, None] * np.ones(weeks)
    data = ReplenishmentInput(skus=skus, weeks=pd.date_range("2026-01-05", periods=weeks, freq="W-MON"),
                              demand=demand, safety_stock=safety, scheduled=np.zeros((n_skus, weeks)))
    if tightness is None:
        return data
    return _with_capacities(data, tightness, families)


def _with_capacities(data: ReplenishmentInput, tightness: float, families) -> ReplenishmentInput:
    """Capacities at ``tightness`` × the peak weekly use of a simple cover-based plan (≈ 3 weeks of stock)."""
    s = data.skus
    d = np.asarray(data.demand)
    stock = 3.0 * d.mean(axis=1, keepdims=True) * d / d.mean(axis=1, keepdims=True)
    vol = (s["volume_m3"].to_numpy()[:, None] * stock).sum(axis=0)
    val = (s["unit_cost"].to_numpy()[:, None] * stock).sum(axis=0)
    recv = d.sum(axis=0) * 1.6
    floor = usage(prepare(data), zero_plan(prepare(data))).max(axis=1) * 1.05 + 1e-6
    flat = lambda a, f: np.full(len(data.weeks), max(tightness * a.max(), floor[f]))  # noqa: E731
    return ReplenishmentInput(
        skus=s, weeks=data.weeks, demand=d, safety_stock=data.safety_stock, scheduled=data.scheduled,
        storage_m3=flat(vol, 0) if "storage" in families else None,
        inbound_units=flat(recv, 1) if "inbound" in families else None,
        budget=flat(val, 2) if "budget" in families else None)
