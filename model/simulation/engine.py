"""SimPy processes that run a :class:`~model.simulation.network.Network` for one replication.

Processes are generator functions: ``_arrivals`` releases orders, ``_order`` walks one order through its
stations (servers are ``simpy.Resource``; waves are shared completion events; stock is a FIFO level with
backorders), ``_inbound`` moves a receipt through receiving/put-away into stock, ``_shifts`` follows a
roster calendar. Randomness: one ``numpy.random.Generator`` stream per purpose, all spawned from
``SeedSequence([seed, replication])``, so the same (seed, replication) gives the same log and a changed
network keeps its arrival stream (common random numbers). No global random state.

Arrivals are a non-homogeneous Poisson process with a rate constant within each hour:
N_h ~ Poisson(λ_h · m) orders in hour h (m the replication's demand multiplier), placed uniformly in the
hour — exact for piecewise-constant intensity.
"""
from __future__ import annotations

import gc
import math
from bisect import bisect_left
from collections import deque
from contextlib import contextmanager

import numpy as np
import simpy

from model.simulation.eventlog import EventLog
from model.simulation.network import HOURS_PER_WEEK, MIN_PER_HOUR, Network

MIN_PER_DAY = 1440.0
_BLOCK = 4096  # random draws fetched per refill
_FLUSH_EVERY = 50_000  # orders between moves of the visit log into numpy chunks


class _Draws:
    """Service times (minutes) of one station, drawn from its law in blocks of ``_BLOCK``."""
    __slots__ = ("law", "rng", "buf", "i")

    def __init__(self, law, rng: np.random.Generator):
        self.law, self.rng, self.buf, self.i = law, rng, [], 0

    def __call__(self) -> float:
        if self.i == len(self.buf):
            self.buf, self.i = self.law.draw(self.rng, _BLOCK).tolist(), 0
        self.i += 1
        return self.buf[self.i - 1]


class _Stock:
    """Aggregate pickable stock: ``take`` returns None when served at once, else an event served FIFO."""

    def __init__(self, env: simpy.Environment, level: float):
        self.env, self.level, self.waiting = env, level, deque()

    def take(self, units: float):
        if not self.waiting and self.level >= units:
            self.level -= units
            return None
        ev = self.env.event()
        self.waiting.append((units, ev))
        return ev

    def add(self, units: float) -> None:
        self.level += units
        while self.waiting and self.level >= self.waiting[0][0]:
            need, ev = self.waiting.popleft()
            self.level -= need
            ev.succeed()


class _Wave:
    __slots__ = ("done", "n", "lines")

    def __init__(self, env):
        self.done, self.n, self.lines = env.event(), 0, 0.0


class _StationRun:
    """Run-time state of one station: its servers, service draws and the wave being filled."""

    def __init__(self, env, station, rng):
        self.st = station
        self.needs_stock, self.waves = station.needs_stock, station.batch_size > 1
        self.draw = _Draws(station.law, rng)
        self.line_ratio = station.law.per_line_min / station.law.mean_min
        self.res = None if station.infinite else simpy.Resource(env, int(max(1, station.servers_at_hour().max())))
        if self.res is not None:
            set_capacity(self.res, int(station.servers_at_hour()[0]))
        self.wave = None


def set_capacity(res: simpy.Resource, servers: int) -> None:
    """Change the number of servers of a Resource mid-run (shift change).

    Fewer servers: jobs in service finish, no new job starts until busy < servers. More: waiting jobs start
    at once. SimPy's Resource reads its private ``_capacity`` at every grant; ``_trigger_put`` grants waiters.
    """
    res._capacity = servers
    res._trigger_put(None)


class _Run:
    """One replication: the environment, station states, order arrays and the visit log."""

    def __init__(self, net: Network, seed: int, replication: int, horizon_min: float, scale: float,
                 orders: tuple[np.ndarray, np.ndarray] | None):
        ss = np.random.SeedSequence([seed, replication])
        arr_ss, route_ss, *station_ss = ss.spawn(2 + len(net.stations))
        self.env = simpy.Environment()
        self.net = net
        self.horizon = horizon_min
        self.stations = [_StationRun(self.env, s, np.random.default_rng(q)) for s, q in zip(net.stations, station_ss)]
        self.route_next = _route_table(net, np.random.default_rng(route_ss))
        self.created, self.lines = orders if orders is not None else \
            arrivals(net, np.random.default_rng(arr_ss), horizon_min, scale)
        n = self.created.size
        self.done = np.full(n, np.nan)
        self.shipped = np.full(n, np.nan)
        self.stock_wait = np.zeros(n)
        self.pickups_min = [h * MIN_PER_HOUR for h in net.pickup_hours]
        self.due = self._due_times()
        self.log: list[tuple] = []          # recent visit records, flushed to numpy chunks
        self.chunks: list[np.ndarray] = []
        self.stock = _Stock(self.env, net.initial_stock)
        self.loaded: dict[int, int] = {}   # orders on each pickup (global pickup index)
        self.skip: dict[int, int] = {}     # full pickup → a later pickup to try

    def _due_times(self) -> np.ndarray:
        if not self.net.pickup_hours:
            return self.created + self.net.max_cycle_min
        p = np.asarray(self.pickups_min)
        x = self.created + self.net.cutoff_lead_hours * MIN_PER_HOUR
        day = np.floor(x / MIN_PER_DAY)
        k = np.searchsorted(p, x - day * MIN_PER_DAY, side="left")
        day, k = np.where(k == p.size, day + 1, day), np.where(k == p.size, 0, k)
        return day * MIN_PER_DAY + p[k]

    def pickup_index(self, t: float) -> int:
        """Global index (day × pickups per day + k) of the first pickup at or after t minutes."""
        p = self.pickups_min
        day = int(t // MIN_PER_DAY)
        k = bisect_left(p, t - day * MIN_PER_DAY)
        return (day + 1) * len(p) if k == len(p) else day * len(p) + k

    def pickup_time(self, g: int) -> float:
        day, k = divmod(g, len(self.pickups_min))
        return day * MIN_PER_DAY + self.pickups_min[k]

    def ship(self, job: int, t: float) -> None:
        """Load the order on the first pickup at or after t with room on the truck."""
        if not self.pickups_min:
            self.shipped[job] = t
            return
        g = self.pickup_index(t)
        if self.net.truck_capacity is not None:
            g = self._first_open_truck(g, self.net.truck_capacity)
        self.loaded[g] = self.loaded.get(g, 0) + 1
        self.shipped[job] = self.pickup_time(g)

    def _first_open_truck(self, g: int, cap: int) -> int:
        """First pickup ≥ g with room: full pickups point past themselves (``skip``, path-compressed), so a
        growing backlog of full trucks costs amortised O(1) per order instead of a scan."""
        path = []
        while self.loaded.get(g, 0) >= cap:
            path.append(g)
            g = self.skip.get(g, g + 1)
        for p in path:
            self.skip[p] = g
        return g

    def flush(self) -> None:
        """Move the visit records into a float64 chunk (7 × 8 bytes per visit instead of a tuple)."""
        if self.log:
            self.chunks.append(np.array(self.log, dtype=float))
            self.log.clear()

    def visits(self) -> np.ndarray:
        self.flush()
        return np.concatenate(self.chunks) if self.chunks else np.empty((0, 7))


class _Choice:
    """A 'law' of next-station draws: target k (−1 = exit) with probability p_k."""
    def __init__(self, targets: np.ndarray, p: np.ndarray):
        self.targets, self.p = targets, p

    def draw(self, rng, n):
        return rng.choice(self.targets, size=n, p=self.p)


def _route_table(net: Network, rng: np.random.Generator) -> list:
    """Per station: the next station index when certain (−1 = exit), else a draw stream of next stations."""
    n = len(net.stations)
    if net.routing is None:
        table = [-1] * n
        for a, b in zip(net.outbound, net.outbound[1:]):
            table[a] = b
        return table
    targets = np.append(np.arange(n), -1)
    table = []
    for row in net.routing:
        sure = np.flatnonzero(row >= 1.0 - 1e-12)
        if sure.size or row.sum() == 0:   # certain next station, or off the outbound flow
            table.append(int(targets[sure[0]]) if sure.size else -1)
        else:
            table.append(_Draws(_Choice(targets, row / row.sum()), rng))
    return table


def arrivals(net: Network, rng: np.random.Generator, horizon_min: float, scale: float = 1.0):
    """Order creation times (minutes, sorted) and lines per order for one replication.

    The demand multiplier is ``scale`` × (one draw from the rate quantiles, when declared).
    """
    if net.rate_quantiles:
        q, v = zip(*net.rate_quantiles)
        scale *= float(np.interp(rng.random(), q, v))
    hours = int(math.ceil(horizon_min / MIN_PER_HOUR))
    lam = np.resize(net.rate_by_hour, hours) * scale
    counts = rng.poisson(lam)
    t = (np.repeat(np.arange(hours), counts) + rng.random(counts.sum())) * MIN_PER_HOUR
    t.sort()
    t = t[t < horizon_min]
    if net.lines_dist == "poisson":
        lines = 1.0 + rng.poisson(net.lines_mean - 1.0, t.size)
    else:
        lines = np.full(t.size, float(round(net.lines_mean)))
    return t, lines


def _visit(env, run: _Run, i: int, job: int, lines: float):
    """Serve one job at station i; returns nothing, appends the visit record to the log."""
    sr = run.stations[i]
    arrive = env.now
    if sr.waves:
        start, end, busy, share = yield from _join_wave(env, run, sr, lines)
    elif sr.res is None:
        yield env.timeout(sr.draw() * (1.0 + sr.line_ratio * (lines - 1.0)))
        start, end, busy, share = arrive, env.now, 0, 1.0
    else:
        req = sr.res.request()
        yield req
        start, busy = env.now, len(sr.res.users)
        yield env.timeout(sr.draw() * (1.0 + sr.line_ratio * (lines - 1.0)))
        sr.res.release(req)
        end, share = env.now, 1.0
    run.log.append((job, i, arrive, start, end, busy, share))


def _join_wave(env, run: _Run, sr: _StationRun, lines: float):
    """Join the wave being filled; it starts when full (or at its timeout). Returns (start, end, busy, share)."""
    return (yield _wave_done(env, run, sr, lines))


def _wave_done(env, run: _Run, sr: _StationRun, lines: float) -> simpy.Event:
    """Add a job to the wave being filled (starting the wave when full) and return the wave's done event,
    whose value is (start, end, busy, share)."""
    wave = sr.wave
    if wave is None:
        wave = sr.wave = _Wave(env)
        if sr.st.batch_timeout_min is not None:
            env.process(_wave_timer(env, run, sr, wave))
    wave.n += 1
    wave.lines += lines
    if wave.n == sr.st.batch_size:
        sr.wave = None
        env.process(_run_wave(env, sr, wave))
    return wave.done


def _wave_timer(env, run, sr: _StationRun, wave: _Wave):
    yield env.timeout(sr.st.batch_timeout_min)
    if sr.wave is wave:
        sr.wave = None
        env.process(_run_wave(env, sr, wave))


def _run_wave(env, sr: _StationRun, wave: _Wave):
    """One service for the whole wave: mean_min + per_line_min × (wave lines − 1) on average."""
    req = None
    if sr.res is not None:
        req = sr.res.request()
        yield req
    start, busy = env.now, (0 if req is None else len(sr.res.users))
    yield env.timeout(sr.draw() * (1.0 + sr.line_ratio * (wave.lines - 1.0)))
    if req is not None:
        sr.res.release(req)
    wave.done.succeed((start, env.now, busy, 1.0 / wave.n))


def _order(env, run: _Run, job: int, lines: float):
    """One order: stock (where a station needs it), then its stations in routing order, then the carrier.

    The single-job visit of a finite station is inlined here (the hot path); waves and infinite-server
    stations go through ``_visit``."""
    stations, log, route, i = run.stations, run.log.append, run.route_next, run.net.outbound[0]
    while i >= 0:
        sr = stations[i]
        if sr.needs_stock:
            ev = run.stock.take(lines * run.net.units_per_line)
            if ev is not None:   # short of stock: wait FIFO for receipts; the wait is the order's stock wait
                t0 = env.now
                yield ev
                run.stock_wait[job] += env.now - t0
        res = sr.res
        if sr.waves:
            arrive = env.now
            start, end, busy, share = yield _wave_done(env, run, sr, lines)
            log((job, i, arrive, start, end, busy, share))
        elif res is None:
            yield from _visit(env, run, i, job, lines)
        else:
            arrive = env.now
            req = res.request()
            yield req
            start, busy = env.now, len(res.users)
            yield env.timeout(sr.draw() * (1.0 + sr.line_ratio * (lines - 1.0)))
            res.release(req)
            log((job, i, arrive, start, env.now, busy, 1.0))
        i = route[i] if type(route[i]) is int else route[i]()   # next station, −1 = exit
    run.done[job] = env.now
    run.ship(job, env.now)


def _arrivals(env, run: _Run):
    for job, (t, lines) in enumerate(zip(run.created.tolist(), run.lines.tolist())):
        yield env.timeout(t - env.now)
        env.process(_order(env, run, job, lines))
        if job % _FLUSH_EVERY == 0:
            run.flush()


def _inbound(env, run: _Run, k: int, at_min: float, units: float):
    """Receipt k: waits for its arrival time, visits the inbound route, then its units become stock."""
    yield env.timeout(at_min)
    for i in run.net.inbound_route:
        yield from _visit(env, run, i, -(k + 1), 1.0)
    run.stock.add(units)


def _shifts(env, res: simpy.Resource, calendar: np.ndarray):
    """Set the servers at every hour boundary where the roster changes."""
    h = 0
    while True:
        yield env.timeout(MIN_PER_HOUR)
        h += 1
        if calendar[h % HOURS_PER_WEEK] != calendar[(h - 1) % HOURS_PER_WEEK]:
            set_capacity(res, int(calendar[h % HOURS_PER_WEEK]))


def simulate(net: Network, seed: int, replication: int = 0, horizon_hours: float = 168.0,
             warmup_hours: float = 0.0, scale: float = 1.0,
             orders: tuple[np.ndarray, np.ndarray] | None = None) -> EventLog:
    """Run one replication for ``horizon_hours`` and return its event log (warm-up kept, marked).

    ``orders`` = (creation times in minutes, sorted; lines per order) replays given orders instead of
    drawing Poisson arrivals (traces, historical order streams).
    """
    horizon = horizon_hours * MIN_PER_HOUR
    if orders is not None:
        orders = _checked_orders(orders, horizon)
    run = _Run(net, seed, replication, horizon, scale, orders)
    env = run.env
    for sr in run.stations:
        if sr.res is not None and sr.st.calendar is not None:
            env.process(_shifts(env, sr.res, sr.st.calendar))
    for k, (at_h, units) in enumerate(net.receipts):
        env.process(_inbound(env, run, k, at_h * MIN_PER_HOUR, units))
    env.process(_arrivals(env, run))
    with _fewer_gc_passes():
        env.run(until=horizon)
    visits = run.visits()
    return EventLog(
        stations=tuple(s.name for s in net.stations),
        servers_by_hour=np.array([s.servers_at_hour() for s in net.stations], dtype=float),
        visits=visits, created=run.created, done=run.done, shipped=run.shipped, due=run.due,
        lines=run.lines, stock_wait=run.stock_wait, horizon_min=horizon, warmup_min=warmup_hours * MIN_PER_HOUR,
        events=next(env._eid))  # SimPy's running count of scheduled events


@contextmanager
def _fewer_gc_passes(gen0: int = 200_000):
    """Raise the cyclic GC's generation-0 threshold during a run, then restore it. SimPy allocates millions
    of short-lived events and requests that die by reference counting; frequent cyclic-GC passes over them
    cost ~10% of run time here (measured: 0.47 → 0.53 of raw SimPy's event rate)."""
    old = gc.get_threshold()
    gc.set_threshold(gen0, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _checked_orders(orders, horizon_min: float) -> tuple[np.ndarray, np.ndarray]:
    created, lines = (np.asarray(x, dtype=float) for x in orders)
    if created.shape != lines.shape or created.ndim != 1:
        raise ValueError(f"orders: creation times and lines need the same 1-d shape, got {created.shape} "
                         f"and {lines.shape}")
    if created.size and (np.any(np.diff(created) < 0) or created[0] < 0):
        raise ValueError("orders: creation times must be sorted and ≥ 0 minutes")
    if np.any(lines < 1):
        raise ValueError("orders: every order needs ≥ 1 line")
    keep = created < horizon_min
    return created[keep], lines[keep]
