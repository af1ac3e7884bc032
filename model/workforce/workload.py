"""Workload: volume forecasts → required staff per role × hour.

Index sets: weekday ``d ∈ {0..6}`` (Monday = 0), hour ``h ∈ {0..23}``, roles ``r``.

* **Profiles** are learned from timestamped history: ``π[d,h]`` = share of a week's volume arriving on
  weekday d, hour h (Σ π = 1). Day-level counts give a weekday profile ``δ[d]`` that can be combined
  with an intraday shape: ``π[d,h] = δ[d] · ι[d,h] / Σ_h ι[d,h]``.
* **Opening hours**: volume arriving while the site is closed is done at the next opening hour.
* **Labour standards**: ``req[r,d,h] = ⌈V_r · π[d,h] / p_r⌉`` (V_r: weekly volume of role r's driver,
  p_r: units of that driver one person handles per hour), at least ``min_staff`` in open hours.
* **Erlang C** for customer-facing roles: with arrival rate λ (customers/h), mean handle time τ (h) and
  offered load a = λτ (Erlang), the probability of waiting with c servers is
  ``C(c,a) = [a^c/c! · c/(c−a)] / [Σ_{k<c} a^k/k! + a^c/c! · c/(c−a)]`` and the service level is
  ``SL = 1 − C(c,a) · exp(−(c−a)·T/τ)`` for target wait T; staff = the least c > a with SL ≥ target.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scenarios.schema.workforce import RoleConfig


def hour_of_week_profile(ts: pd.Series, weights: pd.Series | None = None) -> np.ndarray:
    """π[d,h] (7 × 24, sums to 1) from event timestamps, optionally weighted (e.g. units per line)."""
    ts = pd.to_datetime(pd.Series(ts).reset_index(drop=True))
    if ts.empty:
        raise ValueError("hour_of_week_profile: no timestamps to learn from")
    w = np.ones(len(ts)) if weights is None else np.asarray(weights, dtype=float)
    grid = np.zeros((7, 24))
    np.add.at(grid, (ts.dt.dayofweek.to_numpy(), ts.dt.hour.to_numpy()), w)
    return grid / grid.sum()


def day_of_week_profile(dates: pd.Series, counts: pd.Series | None = None) -> np.ndarray:
    """δ[d] (sums to 1): mean daily total per weekday, normalised. Counts (default 1 per row) are summed
    per date and the calendar is zero-filled between the first and last date (days without rows count 0)."""
    dates = pd.to_datetime(pd.Series(dates).reset_index(drop=True)).dt.normalize()
    c = pd.Series(np.ones(len(dates)) if counts is None else np.asarray(counts, dtype=float))
    if dates.empty:
        raise ValueError("day_of_week_profile: no dates to learn from")
    daily = c.groupby(dates).sum().reindex(pd.date_range(dates.min(), dates.max()), fill_value=0.0)
    mean = daily.groupby(daily.index.dayofweek).mean().reindex(range(7), fill_value=0.0).to_numpy()
    if mean.sum() <= 0:
        raise ValueError("day_of_week_profile: counts sum to zero")
    return mean / mean.sum()


def combine_profiles(day: np.ndarray, intraday: np.ndarray) -> np.ndarray:
    """π[d,h] = δ[d] · ι[d,h] / Σ_h ι[d,h]; ``intraday`` is 24 (same every day) or 7 × 24."""
    intra = np.broadcast_to(np.asarray(intraday, dtype=float), (7, 24))
    sums = intra.sum(axis=1, keepdims=True)
    shape = np.divide(intra, sums, out=np.full((7, 24), 1 / 24), where=sums > 0)
    return np.asarray(day, dtype=float)[:, None] * shape


def apply_open_hours(profile: np.ndarray, open_hours: tuple[int, int]) -> np.ndarray:
    """Move volume arriving while closed (hour ∉ [open, close)) to the next opening hour (cyclic week)."""
    lo, hi = open_hours
    flat = profile.reshape(-1).astype(float).copy()
    is_open = np.tile([(lo <= h < hi) for h in range(24)], 7)
    if not is_open.any():
        raise ValueError(f"open_hours {open_hours}: the site is never open")
    out = np.zeros_like(flat)
    carry = 0.0
    start = int(np.argmax(is_open))               # first open hour; walk the week cyclically from it
    for i in list(range(start + 1, 168)) + list(range(0, start + 1)):
        carry += flat[i]
        if is_open[i]:
            out[i] += carry
            carry = 0.0
    return out.reshape(7, 24)


def erlang_c(c: int, a: float) -> float:
    """Probability an arriving customer waits, C(c, a), for c servers and offered load a (Erlang)."""
    if c <= a:
        return 1.0
    term, total = 1.0, 1.0                        # a^k/k! accumulated in a stable recursion
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c * c / (c - a)
    return last / (total + last)


def erlang_staff(arrivals_per_hour: float, handle_min: float, service_level: float,
                 target_wait_s: float) -> int:
    """Least c with SL = 1 − C(c,a)·exp(−(c−a)·T/τ) ≥ ``service_level``; 0 when there are no arrivals."""
    if arrivals_per_hour <= 0:
        return 0
    tau_h = handle_min / 60.0
    a = arrivals_per_hour * tau_h
    c = max(1, math.floor(a) + 1)
    while 1.0 - erlang_c(c, a) * math.exp(-(c - a) * (target_wait_s / 3600.0) / tau_h) < service_level:
        c += 1
    return c


def role_requirements(volume: float, profile: np.ndarray, role: RoleConfig,
                      open_hours: tuple[int, int]) -> np.ndarray:
    """Required staff (7 × 24) for one role given the week's driver volume and the profile π."""
    arrivals = volume * apply_open_hours(profile, open_hours)
    if role.customer_facing:
        req = np.vectorize(lambda lam: erlang_staff(lam, role.handle_time_min, role.service_level,
                                                    role.target_wait_s))(arrivals)
    else:
        req = np.ceil(arrivals / role.per_hour - 1e-9)
    is_open = np.array([[open_hours[0] <= h < open_hours[1] for h in range(24)]] * 7)
    return np.where(is_open, np.maximum(req, role.min_staff), np.maximum(req, 0)).astype(float) + 0.0


def staff_requirements(volumes: dict[str, float], profiles: dict[str, np.ndarray], roles: dict[str, RoleConfig],
                       open_hours: tuple[int, int]) -> pd.DataFrame:
    """Tidy requirements (role, day, hour, volume, required) for every role of ``roles``.

    ``volumes[driver]``: the week's volume of each driver (units, lines, orders, transactions);
    ``profiles[role]``: that role's π (7 × 24)."""
    missing = sorted({r.driver for r in roles.values()} - set(volumes))
    if missing:
        raise ValueError(f"staff_requirements: no weekly volume for drivers {missing}")
    rows = []
    for name, role in roles.items():
        req = role_requirements(volumes[role.driver], profiles[name], role, open_hours)
        vol = volumes[role.driver] * apply_open_hours(profiles[name], open_hours)
        rows.append(pd.DataFrame({"role": name, "day": np.repeat(np.arange(7), 24),
                                  "hour": np.tile(np.arange(24), 7), "volume": vol.reshape(-1),
                                  "required": req.reshape(-1)}))
    return pd.concat(rows, ignore_index=True)
