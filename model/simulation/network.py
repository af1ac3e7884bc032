"""The warehouse network as data: stations, service laws, routing, arrivals, carrier, stock, inbound.

:func:`build_network` compiles a validated ``SimulationConfig`` into an immutable :class:`Network` that the
engine runs and that pickles cleanly to worker processes. Time unit inside the network: minutes; rates
are orders per hour; the week has ``HOURS_PER_WEEK`` = 168 hour slots (slot 0 = Monday 00:00).

Analytic capacity bound (used to place the growth sweep around the cliff):

    λ_max = min_i  c̄_i · b_i · 60 / E[S_i]  ÷  v_i        [orders / hour]

with, for outbound station i: c̄_i the mean servers over the week, b_i the wave (batch) size, E[S_i] the
mean service time per job or wave in minutes (mean_min + per_line_min · (E[lines] − 1)), and v_i the
visits per order from the traffic equations v = e_first + Pᵀ v (P the routing matrix; v = 1 on a serial line).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from scenarios.schema.simulation import FIT_STAGES, SimulationConfig, StationConfig

HOURS_PER_WEEK = 168
MIN_PER_HOUR = 60.0


@dataclass(frozen=True)
class ServiceLaw:
    """A service-time law in minutes with mean ``mean_min`` for a one-line job."""
    dist: str
    mean_min: float
    cv: float = 1.0
    per_line_min: float = 0.0
    samples_min: tuple[float, ...] = ()

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n one-line service times, minutes (lognormal/gamma matched to mean and cv)."""
        m, cv = self.mean_min, self.cv
        if self.dist == "exponential":
            return rng.exponential(m, n)
        if self.dist == "deterministic":
            return np.full(n, m)
        if self.dist == "lognormal":
            s2 = math.log1p(cv * cv)
            return rng.lognormal(math.log(m) - s2 / 2, math.sqrt(s2), n)
        if self.dist == "gamma":
            return rng.gamma(1.0 / (cv * cv), m * cv * cv, n)
        return rng.choice(np.asarray(self.samples_min), n) * (m / float(np.mean(self.samples_min)))

    def mean_for(self, lines: float) -> float:
        """Mean service time of a job (or wave) with ``lines`` order lines, minutes."""
        return self.mean_min + self.per_line_min * (lines - 1.0)


@dataclass(frozen=True)
class Station:
    name: str
    servers: float                       # servers when no calendar; math.inf = infinite-server station
    law: ServiceLaw
    calendar: np.ndarray | None = None   # servers per hour of week (168 ints) when the station follows a roster
    batch_size: int = 1
    batch_timeout_min: float | None = None
    needs_stock: bool = False
    increments: tuple[tuple[int, float], ...] = ((1, 0.0),)   # ladder steps: (servers added, cost)

    @property
    def infinite(self) -> bool:
        return math.isinf(self.servers)

    def mean_servers(self) -> float:
        return float(self.calendar.mean()) if self.calendar is not None else self.servers

    def servers_at_hour(self) -> np.ndarray:
        """Servers per hour of week (168 values)."""
        if self.calendar is not None:
            return self.calendar
        return np.full(HOURS_PER_WEEK, self.servers)


@dataclass(frozen=True)
class Network:
    stations: tuple[Station, ...]
    outbound: tuple[int, ...]             # station indices orders visit, in list order (first = entry)
    routing: np.ndarray | None            # probabilistic: S × (S+1) next-station probabilities (last col = exit)
    rate_by_hour: np.ndarray              # orders per hour for each hour of the week (168)
    lines_dist: str = "fixed"
    lines_mean: float = 1.0
    rate_quantiles: tuple[tuple[float, float], ...] = ()
    pickup_hours: tuple[float, ...] = ()
    cutoff_lead_hours: float = 2.0
    truck_capacity: int | None = None
    max_cycle_min: float = 240.0
    on_time_target: float = 0.95
    initial_stock: float = 1e12
    units_per_line: float = 1.0
    inbound_route: tuple[int, ...] = ()
    receipts: tuple[tuple[float, float], ...] = ()   # (at_hour, units)

    def index(self, name: str) -> int:
        for i, s in enumerate(self.stations):
            if s.name == name:
                return i
        raise KeyError(f"no station {name!r} (stations: {[s.name for s in self.stations]})")

    @property
    def mean_rate(self) -> float:
        return float(self.rate_by_hour.mean())


def _law(cfg: StationConfig, fitted: dict[str, np.ndarray] | None) -> ServiceLaw:
    svc = cfg.service
    samples = tuple(svc.samples_min or ())
    if svc.fit_from is not None:
        if not fitted or svc.fit_from not in fitted:
            raise ValueError(f"station {cfg.name!r}: service.fit_from={svc.fit_from!r} needs shipments with "
                             f"those timestamps in the SSOT (pass --db); available: {sorted(fitted or {})}")
        samples = tuple(float(x) for x in fitted[svc.fit_from])
        return ServiceLaw("empirical", float(np.mean(samples)), svc.cv, svc.per_line_min, samples)
    return ServiceLaw(svc.dist, svc.mean_min, svc.cv, svc.per_line_min, samples)


def _calendar(cfg: StationConfig, roster: dict[str, list[int]] | None) -> np.ndarray | None:
    if cfg.role is None:
        return None
    hours = np.asarray(roster[cfg.role], dtype=float)
    return np.tile(hours, HOURS_PER_WEEK // hours.size)


def _station(cfg: StationConfig, sim: SimulationConfig, fitted) -> Station:
    return Station(
        name=cfg.name, servers=math.inf if cfg.servers == "inf" else float(cfg.servers), law=_law(cfg, fitted),
        calendar=_calendar(cfg, sim.roster), batch_size=cfg.batch_size, batch_timeout_min=cfg.batch_timeout_min,
        needs_stock=cfg.needs_stock, increments=tuple((inc.servers, inc.cost) for inc in cfg.increments))


def _routing_matrix(sim: SimulationConfig, outbound: list[int]) -> np.ndarray | None:
    """P[i, j] = probability that a job leaving station i goes to station j; column S = exit."""
    if sim.routing == "serial":
        return None
    names = [s.name for s in sim.stations]
    n = len(names)
    p = np.zeros((n, n + 1))
    for k, i in enumerate(outbound):
        routes = sim.stations[i].routes
        if routes is None:
            p[i, outbound[k + 1] if k + 1 < len(outbound) else n] = 1.0
        else:
            for target, prob in routes.items():
                p[i, n if target == "exit" else names.index(target)] += prob
    return p


def _rate_by_hour(sim: SimulationConfig) -> np.ndarray:
    prof = sim.arrivals.hourly_profile
    w = np.ones(HOURS_PER_WEEK) if prof is None else np.tile(np.asarray(prof, float), HOURS_PER_WEEK // len(prof))
    return sim.arrivals.rate_per_hour * w / w.mean()


def build_network(sim: SimulationConfig, fitted: dict[str, np.ndarray] | None = None) -> Network:
    """Compile a validated simulation section (and optional fitted service samples) into a Network."""
    if not sim.stations:
        raise ValueError("simulation.stations is empty: declare at least one station")
    inbound = [i for i, s in enumerate(sim.stations) if s.name in sim.inbound.route]
    outbound = [i for i in range(len(sim.stations)) if i not in inbound]
    if not outbound:
        raise ValueError("every station is on inbound.route: orders need at least one outbound station")
    a, c = sim.arrivals, sim.carrier
    return Network(
        stations=tuple(_station(s, sim, fitted) for s in sim.stations), outbound=tuple(outbound),
        routing=_routing_matrix(sim, outbound), rate_by_hour=_rate_by_hour(sim),
        lines_dist=a.lines.dist, lines_mean=a.lines.mean,
        rate_quantiles=tuple(sorted((a.rate_quantiles or {}).items())),
        pickup_hours=tuple(sorted(c.pickup_hours)), cutoff_lead_hours=c.cutoff_lead_hours,
        truck_capacity=c.truck_capacity, max_cycle_min=sim.sla.max_cycle_min,
        on_time_target=sim.sla.on_time_target, initial_stock=sim.stock.initial_units,
        units_per_line=sim.stock.units_per_line,
        inbound_route=tuple([s.name for s in sim.stations].index(n) for n in sim.inbound.route),
        receipts=tuple((r.at_hour, r.units) for r in sim.inbound.receipts))


def visits_per_order(net: Network) -> np.ndarray:
    """Expected visits of one order to each station: v = e_first + Pᵀ v (zeros off the outbound flow)."""
    n = len(net.stations)
    if net.routing is None:
        v = np.zeros(n)
        v[list(net.outbound)] = 1.0
        return v
    p = net.routing[:, :n]
    e = np.zeros(n)
    e[net.outbound[0]] = 1.0
    try:
        return np.linalg.solve(np.eye(n) - p.T, e)
    except np.linalg.LinAlgError:
        raise ValueError("routing has a closed loop with no exit: orders would never leave") from None


def station_capacity(net: Network, i: int, v: np.ndarray | None = None) -> float:
    """Orders per hour station i can serve: c̄_i · b_i · 60 / E[S_i] ÷ v_i (inf off the flow or infinite)."""
    v = visits_per_order(net) if v is None else v
    s = net.stations[i]
    if v[i] <= 0 or s.infinite:
        return math.inf
    return s.mean_servers() * s.batch_size * MIN_PER_HOUR / s.law.mean_for(net.lines_mean * s.batch_size) / v[i]


def capacity_bound(net: Network) -> tuple[float, str]:
    """λ_max (orders/hour) and the station that sets it (see module docstring)."""
    v = visits_per_order(net)
    caps = [station_capacity(net, i, v) for i in range(len(net.stations))]
    i = int(np.argmin(caps))
    return (caps[i], net.stations[i].name) if math.isfinite(caps[i]) else (math.inf, "")


def sized_like(net: Network, reference: Network, keep: tuple[str, ...] = ()) -> Network:
    """``net`` with each station's servers (or roster hours) × f_i, rounded up (≥ 1), so that its design
    utilization λ̄ / capacity_i equals the reference network's; stations in ``keep`` are left as they are.
    Scales a reference design to another volume or to other (e.g. fitted) service times."""
    v, v_ref = visits_per_order(net), visits_per_order(reference)
    stations = list(net.stations)
    for i, s in enumerate(net.stations):
        cap, cap_ref = station_capacity(net, i, v), station_capacity(reference, i, v_ref)
        if s.name in keep or not (math.isfinite(cap) and math.isfinite(cap_ref)):
            continue
        f = net.mean_rate * cap_ref / reference.mean_rate / cap
        cal = None if s.calendar is None else np.ceil(s.calendar * f)
        stations[i] = replace(s, servers=max(1.0, math.ceil(s.servers * f)), calendar=cal)
    return replace(net, stations=tuple(stations))


def with_extra_servers(net: Network, station: str, extra: int) -> Network:
    """The same network with ``extra`` servers added at ``station`` (in every hour of its calendar)."""
    i = net.index(station)
    s = net.stations[i]
    cal = None if s.calendar is None else s.calendar + extra
    new = replace(s, servers=s.servers + extra, calendar=cal, increments=s.increments[1:] or s.increments)
    return replace(net, stations=net.stations[:i] + (new,) + net.stations[i + 1:])


def scaled(net: Network, factor: float) -> Network:
    """The same network with every hourly arrival rate multiplied by ``factor``."""
    if factor <= 0:
        raise ValueError(f"demand factor must be positive, got {factor}")
    return replace(net, rate_by_hour=net.rate_by_hour * factor)


def fit_service_times(shipments: pd.DataFrame, max_min: float = 7 * 24 * 60) -> dict[str, np.ndarray]:
    """Observed durations between shipment timestamps, minutes, per stage in ``FIT_STAGES``.

    A stage ``a_to_b`` uses rows where both ``a_at`` and ``b_at`` are present and 0 < b − a ≤ ``max_min``
    (longer gaps are data errors or backorders, not process time). Stages without rows are omitted.
    """
    out: dict[str, np.ndarray] = {}
    for stage in FIT_STAGES:
        a, b = (f"{x}_at" for x in stage.split("_to_"))
        if a not in shipments or b not in shipments:
            continue
        d = (pd.to_datetime(shipments[b]) - pd.to_datetime(shipments[a])).dt.total_seconds() / 60.0
        d = d[(d > 0) & (d <= max_min)].to_numpy(dtype=float)
        if d.size:
            out[stage] = d
    return out
