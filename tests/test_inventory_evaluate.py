"""Policy replay: hand-checked traces, monotone service, tuning reaches the target, plan replay identity."""
from __future__ import annotations

import numpy as np
import pytest

from model.inventory import evaluate as ev


def items(n=1, lead=1, case=1, moq=0, on_hand=10.0, cost=2.0):
    return ev.ReplayItems(lead=np.full(n, lead), case=np.full(n, float(case)), moq=np.full(n, float(moq)),
                          on_hand=np.full(n, on_hand), unit_cost=np.full(n, cost))


def test_minmax_trace_by_hand():
    # min 8, max 20, lead 1: week0 IP 10 ≥ 8 no order; sells 5 → 5. week1 IP 5 < 8 → order 15 (arrives week2)
    d = np.array([[[5.0, 5.0, 5.0, 5.0]]])
    up = np.full((1, 4), 20.0)
    trig = np.full((1, 4), 8.0)
    r = ev.replay(items(), d, up, trig, np.zeros((1, 4), bool))
    # stock end of week: 5, 0, 15 - ... week2 receives 15: 15 - 5 = 10; week3 IP 10 no order: 5
    assert r.fill_rate == pytest.approx(20 / 20)
    assert r.avg_stock_value == pytest.approx(2.0 * (5 + 0 + 10 + 5) / 4)
    assert r.cycle_service == pytest.approx(1.0)


def test_lost_sales_and_case_rounding():
    d = np.array([[[12.0, 0.0, 0.0]]])
    r = ev.replay(items(lead=0, case=6, moq=12, on_hand=0.0), d, np.full((1, 3), 7.0), np.full((1, 3), 1.0),
                  np.zeros((1, 3), bool))
    # order 7 → 2 cases = 12 (MOQ 12) arrives at once, serves all 12
    assert r.fill_rate == pytest.approx(1.0)
    r2 = ev.replay(items(lead=1, on_hand=4.0), d, np.full((1, 3), 7.0), np.full((1, 3), 1.0), np.zeros((1, 3), bool))
    assert r2.fill_rate == pytest.approx(4 / 12)
    assert r2.cycle_service == pytest.approx(2 / 3)


def test_plan_policy_replays_the_plan_exactly_on_planned_demand():
    # plan: lead 1, demand 10/week, receipts of 20 in weeks 2 and 4 (ordered in weeks 1 and 3)
    demand = np.array([[10.0, 10, 10, 10, 10, 10]])
    receipts = np.array([[0.0, 0, 20, 0, 20, 0]])
    on_hand0 = 20.0
    position = np.array([[20.0, 10, 20, 10, 20, 10]])
    pol = ev.plan_policy(receipts, position, np.zeros_like(demand), np.array([1]), np.array([0.0]), np.array([0.0]))
    r = ev.replay(items(lead=1, on_hand=on_hand0), demand[None], *pol(0.0))
    assert r.fill_rate == pytest.approx(1.0)
    assert r.avg_stock_value == pytest.approx(2.0 * np.mean([10, 0, 10, 0, 10, 0]))


def test_tuning_reaches_target_and_service_grows_with_k():
    rng = np.random.default_rng(0)
    d = rng.poisson(20, size=(300, 5, 26)).astype(float)
    it = items(n=5, lead=2, on_hand=60.0)
    pol = ev.minmax_policy(np.full(5, 60.0), np.full(5, 8.0), np.full(5, 20.0), 4.0, 26)
    fills = [ev.replay(it, d, *pol(k)).fill_rate for k in (-2.0, 0.0, 2.0)]
    assert fills[0] < fills[1] < fills[2]
    k, res = ev.tune(it, d, pol, 0.95)
    assert res.fill_rate == pytest.approx(0.95, abs=0.01)
    assert ev.replay(it, d, *pol(k)).fill_rate == res.fill_rate      # same numbers on replay
