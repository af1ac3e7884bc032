"""Synthetic panels with known structure for the forecast tests (seeded numpy Generators only)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import FrameSpec

SPEC = FrameSpec.for_freq("W", known=("price", "promo"), static=("category", "location"))


def panel(n_series: int = 6, periods: int = 80, seed: int = 0, start: str = "2022-01-03") -> pd.DataFrame:
    """Weekly demand: level 20..70 units, yearly sine season (±30 %), promotion lift ×1.5, price
    elasticity −1.5 around a base price 10, Poisson noise."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(start, periods=periods, freq="W-MON")
    rows = []
    for i in range(n_series):
        level = 20 + 10 * i
        price = 10 * (1 + 0.1 * rng.standard_normal(periods)).clip(0.7, 1.3)
        promo = (rng.random(periods) < 0.15).astype(float)
        season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(periods) / 52)
        lam = level * season * (price / 10) ** -1.5 * (1 + 0.5 * promo)
        rows.append(pd.DataFrame({"series_id": f"s{i}", "period_start": weeks, "y": rng.poisson(lam).astype(float),
                                  "price": price, "promo": promo, "category": f"c{i % 2}", "location": "L1"}))
    return pd.concat(rows, ignore_index=True)


def split(history: pd.DataFrame, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training part and the last h periods (the test part)."""
    cut = sorted(history["period_start"].unique())[-h - 1]
    return history[history["period_start"] <= cut], history[history["period_start"] > cut]
