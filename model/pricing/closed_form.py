"""Closed-form profit-maximising prices for two textbook demand curves (the checks of the program).

Profit of one SKU at price ``p`` (currency/unit) with unit cost ``c`` (currency/unit) and demand ``q(p)``
(units per period): ``π(p) = (p − c)·q(p)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PriceOptimum:
    """Optimal ``price`` (currency/unit), ``quantity`` (units per unit of demand scale) and ``profit``."""

    price: float
    quantity: float
    profit: float


def _check_cost(unit_cost: float) -> float:
    c = float(unit_cost)
    if not math.isfinite(c) or c < 0:
        raise ValueError(f"unit_cost must be a finite number ≥ 0, got {unit_cost!r}")
    return c


def optimal_price_constant_elasticity(unit_cost: float, elasticity: float) -> PriceOptimum:
    """Optimum for constant-elasticity demand ``q(p) = p^e`` (scale 1), ``e < −1``.

    First-order condition of ``(p − c)·p^e``: ``p* = c·e/(1 + e)`` (the Lerner rule ``(p−c)/p = −1/e``),
    ``q* = p*^e``. The elasticity is the signed number (e.g. −2.5). A value ≥ −1 — including a positive
    magnitude such as 2.5, which would mean demand rises with price — has no finite optimum: ValueError.
    """
    c = _check_cost(unit_cost)
    e = float(elasticity)
    if not math.isfinite(e) or e >= -1.0:
        raise ValueError(
            f"elasticity must be < -1 (signed, e.g. -2.5), got {elasticity!r}: with elasticity ≥ -1 "
            f"(|e| ≤ 1 or positive) profit grows without bound as price rises, so there is no finite optimum")
    if c == 0:
        raise ValueError("unit_cost must be > 0 for constant-elasticity demand: at zero cost the optimum "
                         "price tends to 0 and quantity to infinity")
    p = c * e / (1.0 + e)
    q = p ** e
    return PriceOptimum(price=p, quantity=q, profit=(p - c) * q)


def optimal_price_linear(a: float, b: float, unit_cost: float) -> PriceOptimum:
    """Optimum for linear demand ``q(p) = a − b·p`` (``a`` units, ``b`` units per currency unit).

    ``d/dp (p − c)(a − b·p) = a − 2b·p + b·c = 0`` ⇒ ``p* = (a/b + c)/2``, ``q* = (a − b·c)/2``.
    Requires ``b > 0`` and ``a > b·c`` (some demand at a price above cost); otherwise ValueError.
    """
    c = _check_cost(unit_cost)
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        raise ValueError(f"linear demand needs slope b > 0 (demand falls with price), got b={b!r}")
    if a <= b * c:
        raise ValueError(f"no profitable price: demand a - b*p is ≤ 0 at p = unit_cost ({a} ≤ {b}*{c})")
    p = (a / b + c) / 2.0
    q = (a - b * c) / 2.0
    return PriceOptimum(price=p, quantity=q, profit=(p - c) * q)
