"""KPIs of one replication from its event log, and 95% confidence intervals across replications.

Measurement window W = [warm-up, horizon] (minutes; |W| its length). Per station i, from its visits:

* utilization   U_i = Σ_visits share · |[start, end] ∩ W| / ∫_W c_i(t) dt   (c_i servers available; share =
  1/n for each of the n jobs of a wave, else 1)
* mean wait     W_i = mean(start − arrive) over visits arriving in W, minutes
* queue length  L_i = Σ_visits |[arrive, start] ∩ W| / |W|               (time-average jobs waiting)
* throughput    X_i = #visits ending in W / |W| · 60                     (jobs per hour)

Per order (created in W): cycle time = done − created (mean, p95; finished orders); on time ⇔ shipped ≤ due,
judged for orders whose due time falls before the horizon (unfinished ones count late); WIP = time-average
orders in the system over W; backlog overnight = mean orders in the system at each midnight in W;
stock-outs hit = orders that waited for stock; backlog slope = least-squares growth of the orders in
the system sampled hourly over W (orders/hour; ≈ 0 when the system is stable).

Across R replications, KPI x has mean x̄ and 95% CI x̄ ± t_{0.975,R−1} · s/√R.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from model.simulation.eventlog import EventLog, overlap
from model.simulation.network import HOURS_PER_WEEK, MIN_PER_HOUR

STATION_KPIS = ("utilization", "mean_wait_min", "mean_queue_len", "throughput_per_hour")
UNSTABLE_SLOPE_SHARE = 0.02  # backlog growing faster than 2% of the arrival rate = growing without bound


def server_minutes(servers_by_hour: np.ndarray, lo: float, hi: float) -> float:
    """∫_lo^hi c(t) dt in server-minutes for a calendar of servers per hour of week."""
    edges = np.arange(math.floor(lo / MIN_PER_HOUR), math.ceil(hi / MIN_PER_HOUR) + 1) * MIN_PER_HOUR
    seg = overlap(edges[:-1], edges[1:], lo, hi)
    c = servers_by_hour[(edges[:-1] // MIN_PER_HOUR).astype(int) % HOURS_PER_WEEK]
    return float(np.sum(c * seg))


def station_kpis(log: EventLog) -> dict[str, dict[str, float | None]]:
    lo, hi = log.warmup_min, log.horizon_min
    v = log.visits
    out = {}
    for i, name in enumerate(log.stations):
        s = v[v[:, 1] == i]
        arrive, start, end = s[:, 2], s[:, 3], s[:, 4]
        in_w = arrive >= lo
        cap = server_minutes(log.servers_by_hour[i], lo, hi)
        busy = _busy_minutes(s, lo, hi)
        out[name] = {
            "utilization": busy / cap if math.isfinite(cap) and cap > 0 else None,
            "mean_wait_min": float(np.mean(start[in_w] - arrive[in_w])) if in_w.any() else 0.0,
            "mean_queue_len": float(overlap(arrive, start, lo, hi).sum() / (hi - lo)),
            "throughput_per_hour": float(np.sum((end >= lo) & (end <= hi)) / (hi - lo) * MIN_PER_HOUR),
        }
    return out


def _busy_minutes(s: np.ndarray, lo: float, hi: float) -> float:
    """Server-minutes busy in [lo, hi]: Σ share × |[start, end] ∩ [lo, hi]| (a wave's n jobs share 1/n each)."""
    return float(np.sum(s[:, 6] * overlap(s[:, 3], s[:, 4], lo, hi)))


def in_system(created: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Orders in the system at times t: created ≤ t < end (end = done, or the horizon if unfinished)."""
    return (np.searchsorted(np.sort(created), t, side="right")
            - np.searchsorted(np.sort(end), t, side="right")).astype(float)


def order_kpis(log: EventLog) -> dict[str, float]:
    lo, hi = log.warmup_min, log.horizon_min
    c, d = log.created, log.done
    in_w = c >= lo
    fin = in_w & ~np.isnan(d)
    cyc = d[fin] - c[fin]
    judged = in_w & (log.due <= hi)
    on_time = judged & ~np.isnan(log.shipped) & (log.shipped <= log.due)
    end = np.where(np.isnan(d), hi, d)
    midnights = np.arange(math.ceil(lo / 1440.0), math.floor(hi / 1440.0) + 1) * 1440.0
    hours = np.arange(lo, hi + 1e-9, MIN_PER_HOUR)
    n_hours = in_system(c, end, hours)
    slope = float(np.polyfit(hours / MIN_PER_HOUR, n_hours, 1)[0]) if hours.size > 2 else 0.0
    arrivals_per_hour = float(in_w.sum() / (hi - lo) * MIN_PER_HOUR)
    return {
        "orders": int(in_w.sum()),
        "throughput_per_hour": float(np.sum((d >= lo) & (d <= hi)) / (hi - lo) * MIN_PER_HOUR),
        "cycle_time_min": float(cyc.mean()) if cyc.size else math.nan,
        "cycle_time_p95_min": float(np.percentile(cyc, 95)) if cyc.size else math.nan,
        "on_time_rate": float(on_time.sum() / judged.sum()) if judged.any() else math.nan,
        "wip": float(overlap(c, end, lo, hi).sum() / (hi - lo)),
        "backlog_overnight": float(in_system(c, end, midnights).mean()) if midnights.size else math.nan,
        "stockouts_hit": int(np.sum(in_w & (log.stock_wait > 0))),
        "backlog_slope_per_hour": slope,
        "unstable": bool(slope > UNSTABLE_SLOPE_SHARE * max(arrivals_per_hour, 1e-9)),
    }


def replication_kpis(log: EventLog) -> dict:
    """All KPIs of one replication: {"stations": {name: {...}}, <order KPIs>}."""
    return {"stations": station_kpis(log), **order_kpis(log)}


def ci95(values) -> tuple[float, float, float]:
    """(mean, lo, hi) of the 95% t-interval of the replication values (NaN/None values dropped)."""
    x = np.array([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))],
                 dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, m, m
    h = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - h, m + h


def summarize(reps: list[dict]) -> dict:
    """Means and 95% CIs across replications for every station and order KPI."""
    names = list(reps[0]["stations"])
    stations = {}
    for n in names:
        row, ci = {}, {}
        for k in STATION_KPIS:
            m, lo, hi = ci95([r["stations"][n][k] for r in reps])
            row[k], ci[k] = _num(m), [_num(lo), _num(hi)]
        stations[n] = {**row, "ci95": ci}
    out, ci = {"stations": stations}, {}
    for k in (k for k in reps[0] if k not in ("stations", "unstable")):
        m, lo, hi = ci95([r[k] for r in reps])
        out[k], ci[k] = _num(m), [_num(lo), _num(hi)]
    out["unstable_share"] = float(np.mean([r["unstable"] for r in reps]))
    out["ci95"] = ci
    return out


def _num(x: float) -> float | None:
    """JSON-safe number: NaN → None."""
    return None if x is None or math.isnan(x) else float(x)
