"""Numbers formatted for people: thousands separators, currency, percentages, dates. Missing → "–"."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

DASH = "–"


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def number(x: Any, decimals: int = 0) -> str:
    """1234567.8 → "1,234,568"; with ``decimals`` digits after the point; negatives with a true minus;
    ±inf → "∞" / "−∞"."""
    if _missing(x):
        return DASH
    if math.isinf(float(x)):
        return "∞" if float(x) > 0 else "−∞"
    return f"{float(x):,.{decimals}f}".replace("-", "−")


def money(x: Any, currency: str = "€", decimals: int = 0) -> str:
    """Money with thousands separators; ≥ 10 million is shortened to "€12.3 M". Negative: "−€1,200"."""
    if _missing(x):
        return DASH
    v = float(x)
    sign = "−" if v < 0 else ""
    body = f"{abs(v) / 1e6:,.1f} M" if abs(v) >= 1e7 else f"{abs(v):,.{decimals}f}"
    return f"{sign}{currency}{body}"


def rate(x: Any) -> str:
    """A rate such as orders per hour: one decimal below 10 (0.6 → "0.6"), none above (1,234)."""
    return number(x, 1 if not _missing(x) and abs(float(x)) < 10 else 0)


def capped(x: Any, cap: float) -> str:
    """A number, or "> cap" above it (e.g. weeks of cover of stock that barely sells: "> 999")."""
    return f"> {number(cap)}" if not _missing(x) and float(x) > cap else number(x)


def pct(x: Any, decimals: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: 0.0421 → "4.2%" (``signed`` → "+4.2%")."""
    if _missing(x):
        return DASH
    return f"{float(x) * 100:{'+' if signed else ''}.{decimals}f}%".replace("-", "−")


def ratio(x: Any, decimals: int = 2) -> str:
    """A multiplier such as a load factor: 1.6 → "1.60×"."""
    return DASH if _missing(x) else f"{float(x):.{decimals}f}×"


def date(x: Any) -> str:
    """A day as "2027-03-01"."""
    return DASH if _missing(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def month(x: Any) -> str:
    """A month as "Mar 2027"."""
    return DASH if _missing(x) else pd.Timestamp(x).strftime("%b %Y")


def label(x: Any) -> str:
    """A code as words: "margin_floor" → "margin floor"."""
    return text(x).replace("_", " ")


def text(x: Any) -> str:
    if _missing(x):
        return DASH
    if isinstance(x, float) and not math.isfinite(x):
        return DASH
    return str(x)

