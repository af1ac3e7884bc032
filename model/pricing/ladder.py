"""Price ladders: the discrete prices a SKU may carry, snapped to price endings (x.99, x.49, …)."""
from __future__ import annotations

import numpy as np


def snap_to_endings(prices: np.ndarray, endings: list[float]) -> np.ndarray:
    """Nearest price whose fractional part is one of ``endings`` (ties → the lower price).

    Candidates for a price ``P ≥ 1`` are ``n + e`` with ``n ∈ {⌊P⌋−1, ⌊P⌋}`` and ``e ∈ endings``; prices
    below 1 currency unit, and every price when ``endings`` is empty, are rounded to cents instead.
    """
    p = np.asarray(prices, dtype=float)
    cents = np.round(p, 2)
    if not endings:
        return cents
    base = np.floor(p)[..., None]
    e = np.asarray(sorted(endings), dtype=float)
    cand = np.concatenate([base - 1.0 + e, base + e], axis=-1)
    cand = np.where(cand > 0, cand, np.inf)
    best = np.take_along_axis(cand, np.abs(cand - p[..., None]).argmin(axis=-1)[..., None], axis=-1)[..., 0]
    return np.where(p >= 1.0, np.round(best, 2), cents)


def price_ladder(list_prices: np.ndarray, lo: float, hi: float, steps: int,
                 endings: list[float]) -> np.ndarray:
    """Ladder per row: ``steps`` prices ``list·(1 + f)``, ``f`` evenly spaced in ``[lo, hi]``, snapped.

    Returns an ``(n, steps)`` array, each row ascending with duplicates (after snapping) replaced by NaN at
    the end, so every row keeps the same width.
    """
    lp = np.asarray(list_prices, dtype=float).reshape(-1)
    if (~np.isfinite(lp) | (lp <= 0)).any():
        bad = int(np.flatnonzero(~np.isfinite(lp) | (lp <= 0))[0])
        raise ValueError(f"list price must be a positive number, got {lp[bad]!r} at row {bad}")
    grid = lp[:, None] * (1.0 + np.linspace(lo, hi, steps))[None, :]
    snapped = np.sort(snap_to_endings(grid, endings), axis=1)
    dup = np.zeros_like(snapped, dtype=bool)
    dup[:, 1:] = np.isclose(snapped[:, 1:], snapped[:, :-1])
    out = np.where(dup, np.inf, snapped)
    out.sort(axis=1)
    out[np.isinf(out)] = np.nan
    return out
