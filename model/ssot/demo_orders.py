"""Orders and the warehouse process of the demo business.

Web-shop and marketplace sales (units per SKU × day, already censored by DC stock) become multi-line
customer orders; each order goes through the DC: release → pick → pack → carrier pick-up → delivery.

* Lines: a SKU's daily units u split into ``1 + Binomial(u−1, 0.85)`` lines; order sizes are geometric
  (mean ≈ 1.6 lines) within one day and channel.
* Order time of day: hourly arrival profile with an evening peak (``HOURLY_PROFILE``).
* DC shifts: Mon–Fri 06–22 h, Sat 08–16 h, closed Sundays and national holidays. Picking is FIFO with a
  daily capacity ``cap_d = rate_y · hours_d`` (orders/h: 1.35 × the first year's average load, +22 %
  staffing each January, +25 % temps from 15 Nov to 23 Dec) — the marketplace grows faster, so peaks
  build backlogs, worst in the last year.
* Pick ≈ 1.5 min + lines × LogNormal(median 2 min); pack after a LogNormal(median 10 min) wait plus
  LogNormal(median 3 min); ship at the carrier's next pick-up ≥ packed + 10 min; deliver after 1–3
  business days (Mon–Sat) 9–19 h, 3 % exceptions (+2–5 days). Promised: 2 business days (3 for the
  marketplace) after the order day, one more after the 14:00 cut-off, by 20:00.
Timestamps are naive local time; anything after the export time (end of history) is missing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

HOURLY_PROFILE = np.array([2, 1, 0.5, 0.3, 0.3, 0.5, 1.5, 3, 4, 4.5, 5, 5.5, 6, 5.5, 5, 5, 5.5, 6, 7,
                           8.5, 9.5, 9, 6.5, 4])
CARRIERS = {  # pickups (weekday set, hour) ; transit-day probabilities for 1, 2, 3 days ; tariff EUR, EUR/kg
    "DHL": {"pickups": [((0, 1, 2, 3, 4), 15.0), ((0, 1, 2, 3, 4), 20.5), ((5,), 14.0)],
            "transit": (0.85, 0.15, 0.0), "base": 4.20, "per_kg": 0.35},
    "DPD": {"pickups": [((0, 1, 2, 3, 4), 17.0)], "transit": (0.75, 0.25, 0.0), "base": 3.90, "per_kg": 0.40},
    "GLS": {"pickups": [((0, 1, 2, 3, 4), 16.0), ((5,), 12.0)], "transit": (0.6, 0.3, 0.1), "base": 3.60,
            "per_kg": 0.45},
}
CARRIER_MIX = {"web": (0.55, 0.30, 0.15), "marketplace": (0.40, 0.0, 0.60)}
SHIFT_HOURS = {0: (6, 22), 1: (6, 22), 2: (6, 22), 3: (6, 22), 4: (6, 22), 5: (8, 16)}
CUTOFF_HOUR = 14
STAFF_GROWTH = 1.22   # pick capacity steps up each January
HEADROOM = 1.35       # first-year pick rate / first-year average load per open hour
PACKAGING_KG = 0.12


def split_lines(rng: np.random.Generator, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group index, qty) of order lines: group g's ``units[g]`` split into 1 + Binomial(u−1, 0.85)
    lines, each at least one unit, the remaining units spread at random over the group's lines."""
    n_lines = 1 + rng.binomial(units - 1, 0.85)
    group = np.repeat(np.arange(units.size), n_lines)
    start = np.cumsum(n_lines) - n_lines
    extra = units - n_lines
    eg = np.repeat(np.arange(units.size), extra)
    slot = start[eg] + (rng.random(eg.size) * n_lines[eg]).astype(int)
    qty = 1 + np.bincount(slot, minlength=group.size)
    return group, qty


def group_orders(rng: np.random.Generator, day: np.ndarray, channel: np.ndarray, mean_lines: float = 1.6
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle the lines of each (day, channel) and cut them into orders of geometric size.
    Returns (order index per line, 1-based line number within the order)."""
    order = np.lexsort((rng.random(day.size), channel, day))
    d, c = day[order], channel[order]
    new_group = np.r_[True, (d[1:] != d[:-1]) | (c[1:] != c[:-1])]
    brk = new_group | (rng.random(day.size) < 1.0 / mean_lines)
    oid_sorted = np.cumsum(brk) - 1
    pos = np.arange(day.size) - np.flatnonzero(brk)[oid_sorted]
    oid, line = np.empty_like(oid_sorted), np.empty_like(pos)
    oid[order], line[order] = oid_sorted, pos + 1
    return oid, line


def order_times(rng: np.random.Generator, day: np.ndarray, start: np.datetime64) -> np.ndarray:
    """Creation timestamps: the day plus an hour drawn from ``HOURLY_PROFILE`` and a uniform second."""
    hour = rng.choice(24, size=day.size, p=HOURLY_PROFILE / HOURLY_PROFILE.sum())
    sec = hour * 3600 + rng.integers(0, 3600, day.size)
    return start.astype("datetime64[s]") + day.astype("timedelta64[D]") + sec.astype("timedelta64[s]")


def shifts(dates: pd.DatetimeIndex, holidays: set) -> tuple[np.ndarray, np.ndarray]:
    """Open and close hour of the DC per day (NaN when closed)."""
    open_h = np.full(len(dates), np.nan)
    close_h = np.full(len(dates), np.nan)
    for i, d in enumerate(dates):
        if d.dayofweek in SHIFT_HOURS and d.date() not in holidays:
            open_h[i], close_h[i] = SHIFT_HOURS[d.dayofweek]
    return open_h, close_h


def pick_capacity(dates: pd.DatetimeIndex, hours: np.ndarray, base_rate: float) -> np.ndarray:
    """Orders the DC can pick per day: base_rate × STAFF_GROWTH^(calendar years since start)
    × 1.25 (temps, 15 Nov – 23 Dec) × open hours."""
    years = dates.year - dates.year[0]
    doy = dates.dayofyear.to_numpy()
    temps = np.where((doy >= 319) & (doy <= 357), 1.25, 1.0)
    return np.nan_to_num(hours) * base_rate * STAFF_GROWTH ** years.to_numpy() * temps


def release(created: np.ndarray, start: np.datetime64, open_h: np.ndarray, close_h: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """(day index, hour) at which each order reaches the pickers: creation time within a shift, else the
    next shift's opening."""
    T = open_h.size
    t = (created - start.astype("datetime64[s]")).astype("timedelta64[s]").astype(np.int64)
    day, hour = t // 86400, (t % 86400) / 3600.0
    next_open = np.full(T + 1, T, dtype=np.int64)
    for d in range(T - 1, -1, -1):
        next_open[d] = d if not np.isnan(open_h[d]) else next_open[d + 1]
    late = np.isnan(close_h[day]) | (hour >= np.nan_to_num(close_h[day]))
    early = ~late & (hour < np.nan_to_num(open_h[day]))
    d_rel = np.where(late, next_open[np.minimum(day + 1, T)], day)
    h_rel = np.where(late | early, open_h[np.minimum(d_rel, T - 1)], hour)
    return d_rel, np.nan_to_num(h_rel, nan=6.0)


def fifo_pick_start(rel_day: np.ndarray, rel_hour: np.ndarray, cap: np.ndarray, open_h: np.ndarray,
                    close_h: np.ndarray) -> np.ndarray:
    """Pick start, in hours since the first day's midnight, under FIFO with daily capacity ``cap``.

    Processed by the end of day d: P_d = min(A_d, P_{d−1} + cap_d) (A_d = released up to d). The k-th
    order (release order) is picked on the first day with P_d > k, at
    max(release, open_d + (k − P_{d−1}) / (cap_d / hours_d))."""
    T = cap.size
    order = np.lexsort((rel_hour, rel_day))
    arrived = np.cumsum(np.bincount(np.minimum(rel_day, T), minlength=T + 1))[:T]
    done = np.zeros(T + 1)
    for d in range(T):
        done[d + 1] = min(arrived[d], done[d] + np.floor(cap[d]))
    k = np.arange(order.size)
    pday = np.minimum(np.searchsorted(done[1:], k, side="right"), T)
    rate = cap / np.maximum(np.nan_to_num(close_h - open_h), 1e-9)
    pd_ = np.minimum(pday, T - 1)
    slot = np.nan_to_num(open_h[pd_], nan=6.0) + (k - done[pd_]) / np.maximum(rate[pd_], 1e-9)
    own = np.where(rel_day[order] == pday, rel_hour[order], 0.0)
    start = np.empty(order.size)
    start[order] = np.where(pday >= T, T * 24.0 + 6, pday * 24.0 + np.maximum(slot, own))
    return start


def _hours_to_ts(start: np.datetime64, hours: np.ndarray) -> np.ndarray:
    return start.astype("datetime64[s]") + np.round(hours * 3600).astype("timedelta64[s]")


def _pickup_hours(carrier: str, n_days: int, dates_wd: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """Sorted carrier pick-up times (hours since the first midnight) over ``n_days`` days."""
    out = [d * 24.0 + h for d in range(n_days) if not closed[d]
           for wds, h in CARRIERS[carrier]["pickups"] if dates_wd[d] in wds]
    return np.array(sorted(out))


def warehouse_process(rng: np.random.Generator, orders: pd.DataFrame, start: np.datetime64, n_days: int,
                      holidays: set) -> pd.DataFrame:
    """Process timestamps, carrier and freight per order.

    ``orders`` needs ``created_at`` (datetime64[s]), ``lines``, ``units``, ``weight_kg``, ``channel_type``."""
    n, horizon = len(orders), n_days + 40
    dates = pd.date_range(pd.Timestamp(start), periods=horizon, freq="D")
    open_h, close_h = shifts(dates, holidays)
    first_year = min(365, n_days)
    load = (orders["created_at"] < start + np.timedelta64(first_year, "D")).sum()
    base_rate = HEADROOM * load / max(np.nansum((close_h - open_h)[:first_year]), 1.0)
    cap = pick_capacity(dates, close_h - open_h, base_rate)
    rel_day, rel_hour = release(orders["created_at"].to_numpy(), start, open_h, close_h)
    picked = fifo_pick_start(rel_day, rel_hour, cap, open_h, close_h)
    picked += (1.5 + orders["lines"].to_numpy() * rng.lognormal(np.log(2.0), 0.4, n)) / 60
    packed = picked + (rng.lognormal(np.log(10), 0.6, n) + rng.lognormal(np.log(3), 0.4, n)) / 60
    carrier = _choose_carrier(rng, orders["channel_type"].to_numpy())
    shipped = _ship(packed, carrier, dates, holidays)
    out = pd.DataFrame({"picked_at": _hours_to_ts(start, picked), "packed_at": _hours_to_ts(start, packed),
                        "shipped_at": _hours_to_ts(start, np.nan_to_num(shipped, nan=horizon * 24.0)),
                        "carrier": carrier})
    hol = np.array(sorted(holidays), dtype="datetime64[D]")
    out["delivered_at"] = _delivery(rng, out["shipped_at"].to_numpy(), carrier, hol)
    out["promised_at"] = _promise(orders["created_at"].to_numpy(), orders["channel_type"].to_numpy(), hol)
    tariff = {k: pd.Series(carrier).map({c: v[k] for c, v in CARRIERS.items()}).to_numpy(float)
              for k in ("base", "per_kg")}
    out["freight_cost"] = np.round(tariff["base"] + tariff["per_kg"] * orders["weight_kg"].to_numpy(), 2)
    return out


def _ship(packed: np.ndarray, carrier: np.ndarray, dates: pd.DatetimeIndex, holidays: set) -> np.ndarray:
    """Hand-over time (hours): the carrier's first pick-up at least 10 minutes after packing."""
    shipped = np.full(packed.size, np.nan)
    wd, closed = dates.dayofweek.to_numpy(), np.array([d.date() in holidays for d in dates])
    for name in CARRIERS:
        sel = carrier == name
        pk = _pickup_hours(name, len(dates), wd, closed)
        idx = np.searchsorted(pk, packed[sel] + 10 / 60)
        shipped[sel] = np.where(idx < pk.size, pk[np.minimum(idx, pk.size - 1)], np.nan)
    return shipped


def _choose_carrier(rng: np.random.Generator, channel_type: np.ndarray) -> np.ndarray:
    names = np.array(list(CARRIERS))
    out = np.empty(channel_type.size, dtype=object)
    for ct, p in CARRIER_MIX.items():
        sel = channel_type == ct
        out[sel] = names[rng.choice(len(names), size=sel.sum(), p=p)]
    return out


def _delivery(rng: np.random.Generator, shipped: np.ndarray, carrier: np.ndarray, hol: np.ndarray) -> np.ndarray:
    """Shipping day + transit business days (Mon–Sat, no holidays) + 3 % exceptions, at 9–19 h."""
    n = shipped.size
    transit = np.ones(n, dtype=int)
    for name, spec in CARRIERS.items():
        sel = carrier == name
        transit[sel] = 1 + rng.choice(3, size=sel.sum(), p=spec["transit"])
    transit += np.where(rng.random(n) < 0.03, rng.integers(2, 6, n), 0)
    day = np.busday_offset(shipped.astype("datetime64[D]"), transit, roll="forward", weekmask="1111110",
                           holidays=hol)
    return day.astype("datetime64[s]") + (rng.uniform(9, 19, n) * 3600).astype("timedelta64[s]")


def _promise(created: np.ndarray, channel_type: np.ndarray, hol: np.ndarray) -> np.ndarray:
    """Promised delivery: 2 business days (marketplace 3), +1 after the 14:00 cut-off, by 20:00."""
    day = created.astype("datetime64[D]")
    late = (created - day.astype("datetime64[s]")).astype(np.int64) >= CUTOFF_HOUR * 3600
    n = 2 + (channel_type == "marketplace") + late
    due = np.busday_offset(day, n, roll="forward", weekmask="1111110", holidays=hol)
    return due.astype("datetime64[s]") + np.timedelta64(20 * 3600, "s")
