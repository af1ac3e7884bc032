"""The `simulation:` section of a scenario (owned by model/simulation).

Times in the section are minutes (``*_min``) or hours (``*_hours``, ``*_hour``); rates are per hour.
A plain queueing network (Poisson arrivals, c servers, exponential service, serial routing) is a few lines:

    simulation:
      arrivals: {rate_per_hour: 48}
      stations:
        - {name: pick, servers: 4, service: {dist: exponential, mean_min: 4.0}}
        - {name: pack, servers: 2, service: {dist: exponential, mean_min: 2.0}}
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scenarios.schema.base import Section

FIT_STAGES = ("created_to_picked", "picked_to_packed", "packed_to_shipped", "created_to_shipped")


class ServiceTime(Section):
    """Service time of one job at one server, minutes: mean_min + per_line_min × (lines − 1) on average."""
    dist: Literal["exponential", "lognormal", "gamma", "deterministic", "empirical"] = "exponential"
    mean_min: float = Field(1.0, gt=0, description="mean service time of a one-line job, minutes")
    cv: float = Field(1.0, gt=0, le=20, description="coefficient of variation (lognormal, gamma)")
    per_line_min: float = Field(0.0, ge=0, description="extra minutes per order line beyond the first")
    samples_min: list[float] | None = Field(None, description="empirical: observed service times, minutes")
    fit_from: Literal[FIT_STAGES] | None = Field(  # type: ignore[valid-type]
        None, description="fit an empirical/lognormal law from the SSOT shipments timestamps (needs --db)")

    @model_validator(mode="after")
    def _empirical_needs_samples(self):
        if self.dist == "empirical" and not self.samples_min and self.fit_from is None:
            raise ValueError("dist 'empirical' needs samples_min (a list of minutes) or fit_from")
        if self.samples_min is not None and any(s < 0 for s in self.samples_min):
            raise ValueError("samples_min must be non-negative minutes")
        return self


class Increment(Section):
    """One capacity step for the bottleneck ladder: add `servers` at a one-off `cost` (currency)."""
    servers: int = Field(1, ge=1)
    cost: float = Field(0.0, ge=0)


class StationConfig(Section):
    """A station: a pool of identical servers (pickers, packers, docks) with one queue (FIFO)."""
    name: str = Field(..., min_length=1)
    servers: int | Literal["inf"] = Field(1, description="servers (integer ≥ 1) or 'inf' (no queue)")
    service: ServiceTime = ServiceTime()
    role: str | None = Field(None, description="roster role whose hourly headcount sets the servers")
    batch_size: int = Field(1, ge=1, description="jobs per wave: a wave is one service for the whole batch")
    batch_timeout_min: float | None = Field(None, gt=0, description="release a partial wave after this wait")
    needs_stock: bool = Field(False, description="jobs take stock (lines × units_per_line) before this station")
    routes: dict[str, float] | None = Field(
        None, description="probabilistic routing: next station (or 'exit') → probability; rework loops allowed")
    increments: list[Increment] = Field(default_factory=lambda: [Increment()],
                                        description="ladder: capacity steps in order, each with its cost")

    @model_validator(mode="after")
    def _check(self):
        if isinstance(self.servers, int) and self.servers < 1:
            raise ValueError(f"station {self.name!r}: servers must be ≥ 1 or 'inf', got {self.servers}")
        if self.routes is not None:
            total = sum(self.routes.values())
            if any(p < 0 for p in self.routes.values()) or abs(total - 1.0) > 1e-6:
                raise ValueError(f"station {self.name!r}: routes probabilities must be ≥ 0 and sum to 1, "
                                 f"got {self.routes} (sum {total:g})")
        return self


class LinesPerOrder(Section):
    """Order profile: lines per order = 1 + Poisson(mean − 1) ('poisson') or always `mean` ('fixed')."""
    dist: Literal["fixed", "poisson"] = "fixed"
    mean: float = Field(1.0, ge=1)


class ArrivalsConfig(Section):
    """Orders arrive as a Poisson process; the rate per hour may follow an hour-of-week profile."""
    rate_per_hour: float = Field(48.0, gt=0, description="mean orders per hour over the week")
    hourly_profile: list[float] | None = Field(
        None, description="24 (hour of day) or 168 (hour of week) relative weights; normalised to mean 1")
    rate_quantiles: dict[float, float] | None = Field(
        None, description="demand uncertainty: rate multiplier at quantile levels, e.g. {0.1: 0.8, 0.9: 1.3}; "
                          "each replication draws one multiplier")
    lines: LinesPerOrder = LinesPerOrder()

    @model_validator(mode="after")
    def _check(self):
        p = self.hourly_profile
        if p is not None and (len(p) not in (24, 168) or min(p) < 0 or sum(p) <= 0):
            raise ValueError(f"hourly_profile needs 24 or 168 non-negative weights with a positive sum, "
                             f"got {len(p)} values")
        q = self.rate_quantiles
        if q is not None and (any(not 0 < k < 1 for k in q) or any(v <= 0 for v in q.values())
                              or len(q) < 2):
            raise ValueError("rate_quantiles needs ≥ 2 levels in (0, 1) with positive multipliers")
        return self


class CarrierConfig(Section):
    """Carrier pickups on a daily timetable; an order is due on the first pickup at least
    `cutoff_lead_hours` after it was created (the cut-off) and ships on the first pickup after it is done."""
    pickup_hours: list[float] = Field(default_factory=list, description="pickup times, hours of day [0, 24)")
    cutoff_lead_hours: float = Field(2.0, ge=0)
    truck_capacity: int | None = Field(None, ge=1, description="orders per pickup (truck load); None = unlimited")

    @model_validator(mode="after")
    def _check(self):
        if any(not 0 <= h < 24 for h in self.pickup_hours):
            raise ValueError(f"pickup_hours must lie in [0, 24), got {self.pickup_hours}")
        return self


class SLAConfig(Section):
    """Service level: on time = shipped on the due pickup (with a carrier) or done within max_cycle_min."""
    on_time_target: float = Field(0.95, gt=0, le=1)
    max_cycle_min: float = Field(240.0, gt=0, description="cycle-time promise when no carrier is declared")


class StockConfig(Section):
    """Aggregate pickable stock: stations with needs_stock take lines × units_per_line units."""
    initial_units: float = Field(1e12, ge=0)
    units_per_line: float = Field(1.0, gt=0)


class Receipt(Section):
    at_hour: float = Field(..., ge=0, description="hours from the start of the simulation")
    units: float = Field(..., gt=0)


class InboundConfig(Section):
    """Inbound purchase orders: each receipt passes the `route` stations, then its units become stock."""
    route: list[str] = Field(default_factory=list, description="stations an inbound receipt visits")
    receipts: list[Receipt] = Field(default_factory=list)


class SweepConfig(Section):
    levels: list[float] | None = Field(None, description="demand multipliers; default: placed around λ_max")
    horizon_hours: float = Field(168.0, gt=0, description="simulated time per sweep run (a peak week)")
    warmup_hours: float = Field(24.0, ge=0)
    replications: int = Field(10, ge=2, le=1000)
    ladder_steps: int = Field(2, ge=0, le=20, description="ladder depth in the study stage (CLI: --ladder)")


class SimulationConfig(Section):
    """Settings of the simulation stage. Every field has a default so a scenario may omit the section."""
    arrivals: ArrivalsConfig = ArrivalsConfig()
    stations: list[StationConfig] = Field(default_factory=list, description="empty: the default warehouse")
    routing: Literal["serial", "probabilistic"] = "serial"
    roster: dict[str, list[int]] | None = Field(
        None, description="role → servers per hour (24 values per day or 168 per week)")
    carrier: CarrierConfig = CarrierConfig()
    sla: SLAConfig = SLAConfig()
    stock: StockConfig = StockConfig()
    inbound: InboundConfig = InboundConfig()
    horizon_hours: float = Field(2000.0, gt=0)
    warmup_hours: float = Field(100.0, ge=0)
    replications: int = Field(5, ge=2, le=10_000)
    seed: int = 1
    workers: int = Field(1, ge=1, le=256, description="processes for replications (1 = in process)")
    sweep: SweepConfig = SweepConfig()

    @model_validator(mode="after")
    def _check(self):
        names = [s.name for s in self.stations]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"station names must be unique, repeated: {dup}")
        known = set(names) | {"exit"}
        for s in self.stations:
            bad = sorted(set(s.routes or {}) - known)
            if bad:
                raise ValueError(f"station {s.name!r}: routes name unknown stations {bad} (known: {sorted(known)})")
            if s.role is not None and (self.roster is None or s.role not in self.roster):
                raise ValueError(f"station {s.name!r}: role {s.role!r} is not in roster")
        for role, hours in (self.roster or {}).items():
            if len(hours) not in (24, 168) or min(hours) < 0:
                raise ValueError(f"roster[{role!r}]: needs 24 or 168 non-negative counts, got {len(hours)}")
        bad_inbound = sorted(set(self.inbound.route) - set(names))
        if bad_inbound:
            raise ValueError(f"inbound.route names unknown stations {bad_inbound}")
        routed = [s.name for s in self.stations if s.routes is not None]
        if self.routing == "serial" and routed:
            raise ValueError(f"stations {routed} declare routes but routing is 'serial'; "
                             "set routing: probabilistic")
        if self.warmup_hours >= self.horizon_hours:
            raise ValueError(f"warmup_hours ({self.warmup_hours}) must be below horizon_hours ({self.horizon_hours})")
        return self
