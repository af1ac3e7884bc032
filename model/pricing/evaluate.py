"""Honest evaluation of the pricing stage.

* :func:`margin_change_draws` — the plan's margin change vs current prices over draws of the elasticity
  posterior (the uncertainty a planner should see).
* :func:`evaluate_demo` — on the demo business, where the true response is known: elasticity error and
  interval coverage, and the margin of the optimised prices under the TRUE elasticities vs current prices,
  with floor/band violations and markdown clearance.
* :func:`evaluate_stallion` — on the real stallion data: estimates with intervals and the expected margin
  change with its uncertainty (unit costs are not in the data: an assumed cost ratio, stated).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def margin_change_draws(plan: pd.DataFrame, n_draws: int = 400, seed: int = 0) -> np.ndarray:
    """Relative change of total gross margin, planned vs current prices, per posterior draw.

    Draw ``e_d ~ N(ê_s, se_s²)`` per SKU; units at the planned price ``p`` are ``base·(p/p0)^{e_d}`` and
    margin ``Σ (p − c)·units`` against ``Σ (p0 − c)·base``. SKUs with NaN elasticity (held) keep ``p0``.
    ``plan`` needs ``sku_id, price, current_price, unit_cost, base_units, elasticity, se``.
    """
    rng = np.random.default_rng(seed)
    skus, idx = np.unique(plan["sku_id"].to_numpy(), return_inverse=True)
    first = plan.groupby("sku_id")[["elasticity", "se"]].first().reindex(skus)
    e = first["elasticity"].to_numpy(float)[:, None] + first["se"].fillna(0).to_numpy(float)[:, None] * \
        rng.standard_normal((len(skus), n_draws))
    held = ~np.isfinite(first["elasticity"].to_numpy(float))
    e[held] = 0.0
    p, p0 = plan["price"].to_numpy(float), plan["current_price"].to_numpy(float)
    c, base = plan["unit_cost"].to_numpy(float), plan["base_units"].to_numpy(float)
    ratio = np.where(held[idx], 1.0, p / p0)
    units = base[:, None] * ratio[:, None] ** e[idx]
    new = ((np.where(held[idx], p0, p) - c)[:, None] * units).sum(axis=0)
    old = ((p0 - c) * base).sum()
    return new / old - 1.0
