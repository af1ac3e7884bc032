"""Which station constrains the system, and when: the active-period method beside utilization and waits.

Active-period method (Roser, Nakano & Tanaka 2001, 2002), generalised to c servers: station i is *active*
at time t when its servers are all busy, b_i(t) ≥ c_i(t) and b_i(t) > 0 (for c = 1: when it is working;
a station with idle servers is starved and not active; b counts waves once). Maximal runs of activity are
active periods. Within the window W:

* average bottleneck   = argmax_i mean duration of i's active periods (minutes); stations within
  ``ACTIVE_TIE_SHARE`` of the longest whose paired difference to it is not significant across
  replications (95% CI) tie with it;
* momentary bottleneck at t = the station whose active period containing t is longest;
* shifting bottleneck  = where the momentary bottleneck changes from a to b, the overlap of a's and b's
  current active periods is a shifting period of both; the rest of a station's momentary time is sole.

Other views reported alongside: utilization (argmax U_i), waiting (argmax mean wait) and queue length
(argmax time-average queue). In overload (≥ 2 stations with U ≥ ``SATURATED``) every saturated station is
active all the time, so the periods cannot rank them: :func:`plus_one_test` adds one server to each and
compares throughput on common random numbers; no clear winner is reported as a tie.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from model.simulation.eventlog import EventLog
from model.simulation.kpis import ci95
from model.simulation.network import HOURS_PER_WEEK, MIN_PER_HOUR, Network, with_extra_servers

SATURATED = 0.95  # utilization at or above which a station counts as saturated
MATERIAL_GAIN = 0.05  # +1-capacity gains closer than 5% of base throughput are a tie
ACTIVE_TIE_SHARE = 0.9  # mean active periods ≥ 90% of the longest (and not significantly shorter) tie


def active_periods(log: EventLog, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) in minutes of station i's active periods within the window, sorted."""
    lo, hi = log.warmup_min, log.horizon_min
    cal = log.servers_by_hour[i]
    if not np.isfinite(cal).all():
        return np.empty(0), np.empty(0)
    s = log.visits[log.visits[:, 1] == i]
    hours = np.arange(math.floor(lo / MIN_PER_HOUR), math.ceil(hi / MIN_PER_HOUR) + 1) * MIN_PER_HOUR
    t = np.concatenate([s[:, 3], s[:, 4], hours])
    d = np.concatenate([s[:, 6], -s[:, 6], np.zeros(hours.size)])
    order = np.argsort(t, kind="stable")
    t, busy = t[order], np.cumsum(d[order])
    seg_lo, seg_hi, b = np.clip(t[:-1], lo, hi), np.clip(t[1:], lo, hi), busy[:-1]
    c = cal[(seg_lo // MIN_PER_HOUR).astype(int) % HOURS_PER_WEEK]
    act = (b > 1e-9) & (b >= c - 1e-9) & (seg_hi > seg_lo)
    return _merge(seg_lo[act], seg_hi[act])


def _merge(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge touching intervals [a_k, b_k] (sorted by a) into maximal periods."""
    if a.size == 0:
        return a, b
    new = np.concatenate([[True], a[1:] > b[:-1] + 1e-9])
    idx = np.flatnonzero(new)
    return a[idx], np.maximum.reduceat(b, idx)


def momentary(log: EventLog, periods: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Momentary bottleneck over the window: sole and shifting share of time per station and the station
    that is most often the momentary bottleneck in each hour of the day."""
    lo, hi = log.warmup_min, log.horizon_min
    hours = np.arange(math.ceil(lo / MIN_PER_HOUR), math.floor(hi / MIN_PER_HOUR) + 1) * MIN_PER_HOUR
    edges = np.unique(np.concatenate([[lo, hi], hours, *[np.concatenate(p) for p in periods]]))
    edges = edges[(edges >= lo) & (edges <= hi)]
    mid, length = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    dur = np.zeros((len(periods), mid.size))
    for i, (a, b) in enumerate(periods):
        if a.size == 0:
            continue
        k = np.maximum(np.searchsorted(a, mid, side="right") - 1, 0)
        dur[i] = np.where((a[k] <= mid) & (b[k] > mid), (b - a)[k], 0.0)
    who = np.where(dur.max(axis=0) > 0, dur.argmax(axis=0), -1)
    shifting = _shifting_mask(mid, who, periods)
    total = hi - lo
    n = len(periods)
    sole = np.array([length[(who == i) & ~shifting].sum() for i in range(n)]) / total
    shift = np.array([length[(who == i) & shifting].sum() for i in range(n)]) / total
    by_hour = np.zeros((24, n))
    hod = ((mid // MIN_PER_HOUR) % 24).astype(int)
    np.add.at(by_hour, (hod[who >= 0], who[who >= 0]), length[who >= 0])
    return {"sole": sole, "shifting": shift, "by_hour_of_day": by_hour}


def _shifting_mask(mid: np.ndarray, who: np.ndarray, periods) -> np.ndarray:
    """Segments inside the overlap of the outgoing and incoming bottleneck's active periods."""
    mask = np.zeros(mid.size, dtype=bool)
    change = np.flatnonzero((who[1:] != who[:-1]) & (who[1:] >= 0) & (who[:-1] >= 0))
    for k in change.tolist():
        a_st, b_st = who[k], who[k + 1]
        (a0, a1), (b0, b1) = _period_at(periods[a_st], mid[k]), _period_at(periods[b_st], mid[k + 1])
        sl = slice(np.searchsorted(mid, max(a0, b0)), np.searchsorted(mid, min(a1, b1), side="right"))
        mask[sl] |= (who[sl] == a_st) | (who[sl] == b_st)
    return mask


def _period_at(period: tuple[np.ndarray, np.ndarray], t: float) -> tuple[float, float]:
    a, b = period
    j = int(np.searchsorted(a, t, side="right")) - 1
    return float(a[j]), float(b[j])


def activity(log: EventLog, flow: list[bool]) -> dict:
    """Per-replication active-period statistics: per station mean period (min), active share of the
    window, sole and shifting momentary shares, and momentary-bottleneck minutes per hour of day.
    Only stations on the order flow (``flow[i]``) compete for the momentary bottleneck."""
    periods = [active_periods(log, i) for i in range(len(log.stations))]
    empty = (np.empty(0), np.empty(0))
    mom = momentary(log, [p if f else empty for p, f in zip(periods, flow)])
    window = log.window_min
    return {
        "mean_active_min": [float(np.mean(b - a)) if a.size else 0.0 for a, b in periods],
        "active_share": [float(np.sum(b - a) / window) for a, b in periods],
        "sole_share": mom["sole"].tolist(), "shifting_share": mom["shifting"].tolist(),
        "by_hour_of_day": mom["by_hour_of_day"].tolist(),
    }


def views(stations: list[str], summary: dict, acts: list[dict], flow: list[bool]) -> dict:
    """The bottleneck by each view, from the KPI summary and the replications' activity statistics.

    Candidates are the stations on the order flow (``flow``): inbound-only stations (receiving,
    put-away) constrain orders only through stock, which the stock-out KPIs show."""
    def argmax(values):
        vals = [(-math.inf if v is None or not f else v) for v, f in zip(values, flow)]
        return stations[int(np.argmax(vals))] if vals and max(vals) > -math.inf else None

    st = summary["stations"]
    per_rep = np.array([a["mean_active_min"] for a in acts])
    mean_active = per_rep.mean(axis=0)
    ranked = np.where(flow, mean_active, -1.0)
    top = int(ranked.argmax())
    tied = [stations[k] for k in range(len(stations))
            if k != top and flow[k] and mean_active[k] >= ACTIVE_TIE_SHARE * mean_active[top]
            and ci95(per_rep[:, top] - per_rep[:, k])[1] <= 0]
    sole = np.mean([a["sole_share"] for a in acts], axis=0)
    shifting = np.mean([a["shifting_share"] for a in acts], axis=0)
    by_hour = np.sum([a["by_hour_of_day"] for a in acts], axis=0)
    hourly = [stations[int(np.argmax(row))] if row.max() > 0 else None for row in by_hour]
    return {
        "active_period": stations[top] if ranked[top] > 0 and not tied else None,
        "active_period_tie": sorted([stations[top], *tied]) if tied else [],
        "utilization": argmax([st[n]["utilization"] for n in stations]),
        "waiting": argmax([st[n]["mean_wait_min"] for n in stations]),
        "queue": argmax([st[n]["mean_queue_len"] for n in stations]),
        "per_station": {n: {"mean_active_period_min": float(mean_active[k]), "sole_share": float(sole[k]),
                            "shifting_share": float(shifting[k])} for k, n in enumerate(stations)},
        "momentary_by_hour_of_day": hourly,
        "saturated": [n for n, f in zip(stations, flow) if f and (st[n]["utilization"] or 0.0) >= SATURATED],
    }


def plus_one_test(net: Network, candidates: list[str], throughputs: Callable[[Network], list[float]]) -> dict:
    """Add one server at each candidate and compare system throughput (orders/hour) against the base run.

    ``throughputs(net)`` returns per-replication throughput on fixed seeds (common random numbers), so
    the gain of candidate i, g_i = X(net + 1 server at i) − X(net), is paired per replication. The winner
    is the candidate whose gain exceeds every other's by more than ``MATERIAL_GAIN`` × base throughput and
    with the 95% CI of the paired difference above 0; otherwise the answer is a tie between the
    candidates whose gains cannot be separated.
    """
    base = np.asarray(throughputs(net))
    gains = {c: np.asarray(throughputs(with_extra_servers(net, c, 1))) - base for c in candidates}
    mean_gain = {c: float(g.mean()) for c, g in gains.items()}
    best = max(mean_gain, key=mean_gain.get)
    material = MATERIAL_GAIN * float(base.mean())
    tied = [best] + [c for c in candidates if c != best and
                     (ci95(gains[best] - gains[c])[1] <= 0 or mean_gain[best] - mean_gain[c] <= material)]
    return {"winner": best if len(tied) == 1 else None, "tie": sorted(tied) if len(tied) > 1 else [],
            "gain_per_hour": mean_gain}
