"""Bottleneck detection on networks whose bottleneck is known."""
from __future__ import annotations

import numpy as np
import pytest

from model.simulation.bottleneck import _merge, active_periods
from model.simulation.engine import simulate
from model.simulation.network import build_network
from model.simulation.replicate import RunSpec, experiment
from scenarios.schema.simulation import SimulationConfig


def run(section: dict, reps=4, hours=200.0, warmup=10.0) -> dict:
    net = build_network(SimulationConfig.model_validate(section))
    return experiment(net, RunSpec(seed=5, replications=reps, horizon_hours=hours, warmup_hours=warmup))


def station(name, c, mean, dist="exponential", cv=1.0, **kw):
    return {"name": name, "servers": c, "service": {"dist": dist, "mean_min": mean, "cv": cv}, **kw}


def test_longest_queue_is_not_the_bottleneck():
    """B (M/D/1, ρ = 0.9) feeds A (lognormal cv 4, ρ = 0.8): A's queue is far longer, B constrains.
    M/D/1 theory at B: L_q = ρ²/(2(1 − ρ)) = 4.05; busy period E[S]/(1 − ρ) = 9 min."""
    sim = run({"arrivals": {"rate_per_hour": 60},
               "stations": [station("B", 1, 0.9, "deterministic"), station("A", 1, 0.8, "lognormal", cv=4)]})
    v = sim["bottleneck_views"]
    assert v["queue"] == "A" and v["waiting"] == "A"          # the momentary-queue view is fooled
    assert v["utilization"] == "B" and v["active_period"] == "B"
    assert sim["bottleneck"] == "B"
    assert v["per_station"]["B"]["mean_active_period_min"] == pytest.approx(9.0, rel=0.15)
    assert sim["stations"]["B"]["mean_queue_len"] == pytest.approx(4.05, rel=0.15)


def test_two_saturated_stations_decided_by_plus_one_capacity():
    """60 orders/h into A (50/h) then B (45/h): both saturated; only a server at B raises throughput."""
    sim = run({"arrivals": {"rate_per_hour": 60},
               "stations": [station("A", 1, 1.2), station("B", 1, 60 / 45)]}, hours=48, warmup=4)
    v = sim["bottleneck_views"]
    assert sorted(v["saturated"]) == ["A", "B"]
    assert v["plus_one"]["winner"] == "B"
    assert v["plus_one"]["gain_per_hour"]["B"] > 3.0 > abs(v["plus_one"]["gain_per_hour"]["A"])
    assert sim["bottleneck"] == "B"


def test_two_equal_saturated_stations_are_a_tie():
    sim = run({"arrivals": {"rate_per_hour": 60},
               "stations": [station("A", 1, 60 / 45), station("B", 1, 60 / 45)]}, hours=48, warmup=4)
    assert sim["bottleneck_views"]["plus_one"]["winner"] is None
    assert sim["bottleneck"] == "tie: A = B"


def test_bottleneck_shifts_over_the_day():
    """Pick has 3 pickers before noon and 1 after; pack is steady at ρ = 0.8. Mornings pack constrains,
    afternoons pick (ρ = 0.87 on one server)."""
    sim = run({"arrivals": {"rate_per_hour": 40}, "roster": {"picker": [3] * 12 + [1] * 12},
               "stations": [station("pick", 1, 1.3, role="picker"), station("pack", 1, 1.2)]},
              hours=240, warmup=24)
    hourly = sim["bottleneck_views"]["momentary_by_hour_of_day"]
    assert hourly[2:11].count("pack") >= 7
    assert hourly[15:24].count("pick") >= 7
    per = sim["bottleneck_views"]["per_station"]
    assert per["pick"]["shifting_share"] > 0 and per["pack"]["shifting_share"] > 0


def test_active_periods_of_a_trace():
    """One server, jobs busy [0, 3], [3, 6], [10, 11]: active periods [0, 6] and [10, 11]."""
    net = build_network(SimulationConfig.model_validate(
        {"stations": [{"name": "a", "service": {"dist": "deterministic", "mean_min": 3.0}}]}))
    log = simulate(net, 0, horizon_hours=1, orders=(np.array([0.0, 1.0, 10.0]), np.array([1.0, 1.0, 1 / 3 + 2 / 3])))
    a, b = active_periods(log, 0)
    assert a.tolist() == [0.0, 10.0] and b.tolist() == [6.0, 13.0]


def test_merge_joins_touching_intervals():
    a, b = _merge(np.array([0.0, 2.0, 5.0]), np.array([2.0, 4.0, 6.0]))
    assert a.tolist() == [0.0, 5.0] and b.tolist() == [4.0, 6.0]
