"""Event traces on tiny deterministic cases, properties and determinism of the simulation engine."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.simulation import kpis
from model.simulation.engine import simulate
from model.simulation.network import build_network
from scenarios.schema.simulation import SimulationConfig


def net_of(**section):
    return build_network(SimulationConfig.model_validate(section))


def det(name, servers=1, mean=1.0, **kw):
    return {"name": name, "servers": servers, "service": {"dist": "deterministic", "mean_min": mean}, **kw}


def trace(log):
    """(job, station name, arrive, start, end) of every visit, sorted by station then job."""
    rows = [(int(j), log.stations[int(s)], a, b, e) for j, s, a, b, e, *_ in log.visits]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def replay(net, times_min, lines=None, hours=48.0):
    t = np.asarray(times_min, float)
    return simulate(net, seed=0, horizon_hours=hours, orders=(t, np.ones_like(t) if lines is None else lines))


def test_serial_trace_is_exact():
    net = net_of(stations=[det("pick", mean=3.0), det("pack", mean=2.0)])
    log = replay(net, [0.0, 1.0, 2.0])
    assert trace(log) == [
        (0, "pack", 3.0, 3.0, 5.0), (1, "pack", 6.0, 6.0, 8.0), (2, "pack", 9.0, 9.0, 11.0),
        (0, "pick", 0.0, 0.0, 3.0), (1, "pick", 1.0, 3.0, 6.0), (2, "pick", 2.0, 6.0, 9.0)]
    assert log.done.tolist() == [5.0, 8.0, 11.0]


def test_per_line_service_time():
    net = net_of(stations=[{"name": "pick", "service": {"dist": "deterministic", "mean_min": 2.0,
                                                        "per_line_min": 0.5}}])
    log = replay(net, [0.0], lines=np.array([5.0]))
    assert trace(log) == [(0, "pick", 0.0, 0.0, 4.0)]  # 2 + 0.5 × (5 − 1)


def test_pick_wave_starts_when_full_or_at_timeout():
    net = net_of(stations=[det("pick", mean=4.0, batch_size=2, batch_timeout_min=10.0)])
    log = replay(net, [0.0, 1.0, 5.0])
    assert trace(log) == [(0, "pick", 0.0, 1.0, 5.0), (1, "pick", 1.0, 1.0, 5.0), (2, "pick", 5.0, 15.0, 19.0)]
    # one wave of two jobs = 4 server-minutes, not 8
    assert log.visits[:2, 6].tolist() == [0.5, 0.5]


def test_carrier_cutoff_and_truck_capacity():
    net = net_of(stations=[det("pack", servers=3, mean=5.0)],
                 carrier={"pickup_hours": [10.0, 16.0], "cutoff_lead_hours": 2.0, "truck_capacity": 2})
    log = replay(net, [7 * 60.0, 7 * 60.0 + 1, 7 * 60.0 + 2, 9 * 60.0])
    assert log.due.tolist() == [600.0, 600.0, 600.0, 960.0]      # 9:00 misses the 8:00 cut-off of 10:00
    assert log.shipped.tolist() == [600.0, 600.0, 960.0, 960.0]  # third order: the 10:00 truck is full


def test_roster_calendar_opens_the_station():
    net = net_of(stations=[det("pick", role="picker")], roster={"picker": [0] * 8 + [1] * 16})
    log = replay(net, [7 * 60.0, 7 * 60.0 + 30])
    assert trace(log) == [(0, "pick", 420.0, 480.0, 481.0), (1, "pick", 450.0, 481.0, 482.0)]


def test_order_waits_for_inbound_stock():
    net = net_of(stations=[det("receive", mean=30.0), det("pick", needs_stock=True)],
                 stock={"initial_units": 0, "units_per_line": 2.0},
                 inbound={"route": ["receive"], "receipts": [{"at_hour": 2.0, "units": 5.0}]})
    log = replay(net, [60.0, 61.0, 62.0])
    assert log.stock_wait[:2].tolist() == [90.0, 89.0]  # the receipt is put away at 150 min
    assert np.isnan(log.done[2])          # 5 units cover two 2-unit orders; the third waits for ever
    assert trace(log)[0] == (0, "pick", 150.0, 150.0, 151.0)


def test_probabilistic_rework_loop_visits():
    net = net_of(routing="probabilistic", arrivals={"rate_per_hour": 30},
                 stations=[det("pick", servers="inf"), det("qc", servers="inf", routes={"exit": 0.75, "pick": 0.25})])
    log = simulate(net, seed=3, horizon_hours=400)
    visits_qc = np.sum(log.visits[:, 1] == 1) / np.sum(~np.isnan(log.done))
    assert visits_qc == pytest.approx(1 / 0.75, rel=0.03)  # geometric number of passes


def test_infinite_servers_never_wait():
    net = net_of(arrivals={"rate_per_hour": 300},
                 stations=[{"name": "a", "servers": "inf", "service": {"dist": "lognormal", "mean_min": 5, "cv": 2}}])
    log = simulate(net, seed=1, horizon_hours=20)
    assert np.all(log.visits[:, 3] == log.visits[:, 2])


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.integers(1, 3), rate=st.floats(20, 40))
def test_more_servers_never_raise_mean_wait(seed, c, rate):
    """Common random numbers: same arrivals and service sequence; FIFO waits are pathwise monotone in c."""
    def wait(servers):
        net = net_of(arrivals={"rate_per_hour": rate},
                     stations=[{"name": "a", "servers": servers, "service": {"dist": "gamma", "mean_min": 1.5 * c,
                                                                               "cv": 1.5}}])
        return kpis.station_kpis(simulate(net, seed=seed, horizon_hours=60))["a"]["mean_wait_min"]
    assert wait(c + 1) <= wait(c) + 1e-9


def test_same_seed_same_kpis_other_seed_differs():
    net = net_of(arrivals={"rate_per_hour": 40}, stations=[{"name": "a", "servers": 2,
                                                            "service": {"mean_min": 2.5}}])
    k = [kpis.replication_kpis(simulate(net, seed=s, horizon_hours=50, warmup_hours=5)) for s in (7, 7, 8)]
    assert k[0] == k[1]
    assert k[0]["stations"]["a"]["mean_wait_min"] != k[2]["stations"]["a"]["mean_wait_min"]


def test_bad_orders_are_rejected():
    net = net_of(stations=[det("a")])
    with pytest.raises(ValueError, match="sorted"):
        replay(net, [5.0, 1.0])


def test_demand_quantiles_spread_replications_around_the_rate():
    """Each replication draws one multiplier from the quantile function (mean 1 for this symmetric band)."""
    def counts(quantiles):
        net = net_of(arrivals={"rate_per_hour": 100, "rate_quantiles": quantiles},
                     stations=[{"name": "a", "servers": "inf", "service": {"mean_min": 1.0}}])
        return np.array([simulate(net, seed=2, replication=r, horizon_hours=10).created.size for r in range(30)])
    wide, poisson = counts({0.1: 0.5, 0.5: 1.0, 0.9: 1.5}), counts(None)
    assert poisson.std() < 60 < 150 < wide.std()               # Poisson sd ≈ √1000 ≈ 32
    assert wide.mean() == pytest.approx(1000, rel=0.12)


def test_tidy_frames_of_the_log():
    net = net_of(stations=[det("pick", mean=3.0), det("pack", mean=2.0)])
    log = replay(net, [0.0, 1.0])
    visits = log.frame()
    assert list(visits.columns) == ["job", "station", "arrive", "start", "end", "busy", "share", "wait"]
    assert visits.loc[visits["station"] == "pick", "wait"].tolist() == [0.0, 2.0]
    orders = log.orders_frame()
    assert (orders["done"] - orders["created"]).tolist() == [5.0, 7.0]


def test_full_trucks_push_orders_to_later_pickups():
    """Truck capacity 1 and one pickup a day at 12:00: five orders done in the morning leave on five days."""
    net = net_of(stations=[det("pack", servers=5, mean=1.0)],
                 carrier={"pickup_hours": [12.0], "cutoff_lead_hours": 0.0, "truck_capacity": 1})
    log = replay(net, [60.0 * k for k in range(1, 6)], hours=24 * 7)
    assert ((log.shipped - 720.0) / 1440.0).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
