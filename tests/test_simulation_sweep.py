"""Capacity bound, growth sweep (scaling cliff) and the bottleneck ladder."""
from __future__ import annotations

import pytest

from model.simulation.network import build_network, capacity_bound, scaled, sized_like
from model.simulation.replicate import RunSpec
from model.simulation.sweep import bottleneck_ladder, default_levels, growth_sweep, parse_sweep
from scenarios.schema.simulation import SimulationConfig

SHORT = RunSpec(seed=3, replications=3, horizon_hours=48, warmup_hours=4)


def net_of(**section):
    return build_network(SimulationConfig.model_validate(section))


def st(name, c, mean, dist="exponential", cv=1.0, **kw):
    return {"name": name, "servers": c, "service": {"dist": dist, "mean_min": mean, "cv": cv}, **kw}


def test_parse_sweep():
    assert parse_sweep("1.0:3.0:0.25") == [1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0]
    with pytest.raises(ValueError, match="START:STOP:STEP"):
        parse_sweep("1:3")
    with pytest.raises(ValueError, match="STEP > 0"):
        parse_sweep("1:3:0")


def test_capacity_bound_serial_waves_lines_and_roster():
    # pick: 4 × 60/4 = 60/h; pack waves of 5 orders × 3 lines: 2 servers × 5 × 60 / (2 + 0.5·14) = 66.7/h
    net = net_of(arrivals={"rate_per_hour": 30, "lines": {"dist": "poisson", "mean": 3.0}},
                 stations=[st("pick", 4, 4.0), {"name": "pack", "servers": 2, "batch_size": 5,
                                               "service": {"mean_min": 2.0, "per_line_min": 0.5}}])
    # per-line time applies to pick too: 4 + 0 · ... (no per_line at pick) → 60/h
    assert capacity_bound(net) == pytest.approx((60.0, "pick"))
    rostered = net_of(stations=[st("pick", 1, 2.0, role="p")], roster={"p": [0] * 12 + [4] * 12})
    assert capacity_bound(rostered)[0] == pytest.approx(2 * 30.0)   # mean 2 pickers × 30 /h


def test_sized_like_keeps_the_design_utilization():
    ref = net_of(arrivals={"rate_per_hour": 48}, stations=[st("pick", 4, 4.0), st("pack", 2, 2.0)])
    big = sized_like(scaled(ref, 2.5), ref)                        # 120 orders/h
    assert [s.servers for s in big.stations] == [10, 5]
    assert capacity_bound(big)[0] == pytest.approx(150.0)           # ρ = 0.8 as in the design
    kept = sized_like(scaled(ref, 2.5), ref, keep=("pack",))
    assert [s.servers for s in kept.stations] == [10, 2]


def test_sweep_finds_the_cliff_near_lambda_max():
    """Pick 2 × gamma(2 min, cv 0.3) = 60 orders/h; pack 75/h; base 30/h ⇒ f* = 2. SLA 30 min at 95%."""
    net = net_of(arrivals={"rate_per_hour": 30}, sla={"max_cycle_min": 30, "on_time_target": 0.95},
                 stations=[st("pick", 2, 2.0, "gamma", 0.3), st("pack", 1, 0.8, "gamma", 0.3)])
    table, info = growth_sweep(net, default_levels(net), SHORT)
    assert info["lambda_max_per_hour"] == pytest.approx(60.0) and info["lambda_max_resource"] == "pick"
    cliff = info["cliff"]
    assert 0.9 * 2.0 <= cliff["level"] <= 1.05 * 2.0
    assert cliff["bottleneck"] == "pick"
    ok = table[table["level"] < cliff["level"]]
    assert (ok["on_time_rate"] >= 0.95).all() and len(ok) >= 5


def test_user_grid_is_cut_above_the_bound():
    net = net_of(arrivals={"rate_per_hour": 30}, stations=[st("pick", 1, 1.5)])   # λ_max 40/h: f* = 1.33
    table, info = growth_sweep(net, parse_sweep("1.0:3.0:0.25"), SHORT)
    assert table["simulated"].tolist() == [True, True, True, False, False, False, False, False, False]
    assert info["cliff"]["level"] <= 1.5


def test_ladder_relieves_in_the_right_order():
    """pick 60/h < pack 70/h < ship 100/h. Relieve pick (+2 → 90/h): pack binds at 70; relieve pack
    (+2 → 140/h): pick binds again at 90."""
    net = net_of(arrivals={"rate_per_hour": 30},
                 stations=[st("pick", 4, 4.0, increments=[{"servers": 2, "cost": 100}]),
                           st("pack", 2, 60 / 35, increments=[{"servers": 2, "cost": 50}]),
                           st("ship", 1, 0.6)])
    rungs, sweeps, first = bottleneck_ladder(net, 2, SHORT)
    assert sweeps["step"].unique().tolist() == [0, 1, 2] and first["lambda_max_resource"] == "pick"
    assert rungs["relieved"].tolist() == [None, "pick", "pack"]
    assert rungs["lambda_max_per_hour"].tolist() == pytest.approx([60.0, 70.0, 90.0])
    assert rungs["bottleneck_at_cliff"].tolist() == ["pick", "pack", "pick"]
    assert rungs["cumulative_cost"].tolist() == [0.0, 100.0, 150.0]
    assert (rungs["cliff_rate_per_hour"].diff().dropna() > 0).all()
