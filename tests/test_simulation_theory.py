"""Agreement with queueing theory: M/M/1, M/M/c (Erlang C), a tandem line and a Jackson network with rework."""
from __future__ import annotations

import math

import pytest

from model.simulation.network import build_network, visits_per_order
from model.simulation.replicate import RunSpec, experiment
from scenarios.schema.simulation import SimulationConfig


def erlang_c_wait(lam_per_min: float, mean_min: float, c: int) -> tuple[float, float]:
    """(utilization ρ = λ/(cμ), mean wait W_q = C(c, a)/(cμ − λ)) for M/M/c; a = λ/μ offered load (Erlang)."""
    mu = 1.0 / mean_min
    a = lam_per_min / mu
    top = a ** c / math.factorial(c) * c / (c - a)
    prob_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
    return a / c, prob_wait / (c * mu - lam_per_min)


def agrees(sim: dict, station: str, lam_per_min: float, mean_min: float, c: int) -> None:
    rho, wq = erlang_c_wait(lam_per_min, mean_min, c)
    s = sim["stations"][station]
    assert s["utilization"] == pytest.approx(rho, rel=0.02)
    lo, hi = s["ci95"]["mean_wait_min"]
    assert lo <= wq <= hi or s["mean_wait_min"] == pytest.approx(wq, rel=0.10), (station, s, wq)


def run(section: dict, reps=6, hours=400.0, warmup=20.0) -> dict:
    net = build_network(SimulationConfig.model_validate(section))
    return experiment(net, RunSpec(seed=11, replications=reps, horizon_hours=hours, warmup_hours=warmup))


def exp_station(name, c, mean, **kw):
    return {"name": name, "servers": c, "service": {"dist": "exponential", "mean_min": mean}, **kw}


def test_mm1_utilization_and_wait():
    sim = run({"arrivals": {"rate_per_hour": 45}, "stations": [exp_station("a", 1, 1.0)]})
    agrees(sim, "a", 0.75, 1.0, 1)                      # ρ = 0.75, W_q = 3 min
    assert sim["cycle_time_min"] == pytest.approx(4.0, rel=0.10)   # W = 1/(μ − λ)


def test_mmc_tandem_matches_erlang_c_at_each_station():
    """The issue's example: 48 orders/h; pick 4 × exp(4 min), pack 2 × exp(2 min). Burke: departures of an
    M/M/c queue are Poisson, so each station of the tandem is M/M/c at 0.8 orders/min."""
    sim = run({"arrivals": {"rate_per_hour": 48},
               "stations": [exp_station("pick", 4, 4.0), exp_station("pack", 2, 2.0)]})
    agrees(sim, "pick", 0.8, 4.0, 4)                    # W_q ≈ 2.98 min
    agrees(sim, "pack", 0.8, 2.0, 2)                    # W_q ≈ 3.56 min
    assert sim["throughput_per_hour"] == pytest.approx(48, rel=0.02)


def test_jackson_network_with_rework_loop():
    """30 orders/h; a quarter of the orders fail QC and go back to pick: λ_eff = 30 / 0.75 = 40 /h at both."""
    section = {"arrivals": {"rate_per_hour": 30}, "routing": "probabilistic",
               "stations": [exp_station("pick", 2, 2.25),
                            exp_station("qc", 1, 1.125, routes={"exit": 0.75, "pick": 0.25})]}
    net = build_network(SimulationConfig.model_validate(section))
    assert visits_per_order(net).tolist() == pytest.approx([4 / 3, 4 / 3])
    sim = run(section, reps=6, hours=500)
    agrees(sim, "pick", 40 / 60, 2.25, 2)               # ρ = 0.75
    agrees(sim, "qc", 40 / 60, 1.125, 1)                # ρ = 0.75
