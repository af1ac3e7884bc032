"""Simulated weekly price histories with known price response (for tests, evaluation and benchmarks).

Truth per SKU ``s``: elasticity ``e_s ~ N(m_cat, 0.4²)`` (clipped to [−4.5, −0.6]), cross-price elasticity
``g_s ~ U(0, 0.8)``, promotion lift ``h_s ~ U(0.1, 0.5)`` (log-scale). Weekly units::

    units ~ NegBin(mean = A_s · p^e · comp^g · exp(h·promo) · (1 + 0.2 sin 2πt) · exp(0.05 t), shape 20)

with ``t`` in years. Prices: the list price with permanent changes (±5–10 %, rarely) and promotions
(10–30 % off, ~15 % of weeks); the competitor price follows a bounded random walk around the list price.
A share ``fixed_share`` of SKUs never changes price (not identifiable by construction).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_price_history(n_skus: int = 60, n_weeks: int = 156, seed: int = 0, n_categories: int = 3,
                           fixed_share: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, truth): ``history`` has the columns of ``derived.price_history``; ``truth`` per SKU has
    ``sku_id, category, elasticity, cross_elasticity, promo_log_lift, scale, fixed_price``."""
    rng = np.random.default_rng(seed)
    cats = rng.integers(0, n_categories, n_skus)
    cat_mean = np.linspace(-1.6, -2.8, n_categories)
    truth = pd.DataFrame({
        "sku_id": [f"SKU{i:05d}" for i in range(n_skus)], "category": [f"C{c}" for c in cats],
        "elasticity": np.clip(cat_mean[cats] + rng.normal(0, 0.4, n_skus), -4.5, -0.6),
        "cross_elasticity": rng.uniform(0.0, 0.8, n_skus), "promo_log_lift": rng.uniform(0.1, 0.5, n_skus),
        "scale": np.exp(rng.normal(np.log(40), 0.8, n_skus)), "fixed_price": rng.random(n_skus) < fixed_share,
        "list_price": np.round(np.exp(rng.normal(np.log(20), 0.6, n_skus)), 2),
    })
    truth["unit_cost"] = np.round(truth["list_price"] * rng.uniform(0.35, 0.65, n_skus), 2)
    weeks = pd.date_range("2023-01-02", periods=n_weeks, freq="W-MON")
    t = np.arange(n_weeks) / 52.0
    frames = [_sku_weeks(rng, r, weeks, t) for r in truth.itertuples()]
    return pd.concat(frames, ignore_index=True), truth


def _sku_weeks(rng: np.random.Generator, r, weeks: pd.DatetimeIndex, t: np.ndarray) -> pd.DataFrame:
    n = len(weeks)
    level = np.ones(n)
    promo = np.zeros(n)
    if not r.fixed_price:
        steps = rng.random(n) < 0.03
        level = np.cumprod(np.where(steps, 1 + rng.choice([-1, 1], n) * rng.uniform(0.05, 0.10, n), 1.0))
        level = np.clip(level, 0.75, 1.3)
        promo = (rng.random(n) < 0.15).astype(float)
    price = r.list_price * level * (1 - promo * rng.uniform(0.10, 0.30, n))
    comp = r.list_price * np.exp(np.clip(np.cumsum(rng.normal(0, 0.02, n)), -0.25, 0.25))
    mean = (r.scale * (price / r.list_price) ** r.elasticity * (comp / r.list_price) ** r.cross_elasticity
            * np.exp(r.promo_log_lift * promo) * (1 + 0.2 * np.sin(2 * np.pi * t)) * np.exp(0.05 * t))
    units = rng.negative_binomial(20, 20 / (20 + mean)).astype(float)
    return pd.DataFrame({"sku_id": r.sku_id, "category": r.category, "period_start": weeks, "units": units,
                         "avg_price": np.round(price, 2), "list_price": r.list_price * level,
                         "unit_cost": r.unit_cost, "promo_share": promo, "competitor_price": np.round(comp, 2)})
