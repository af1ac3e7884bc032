"""Single-item policies against textbook values (Snyder & Shen, *Fundamentals of Supply Chain Theory*, 2nd ed.).

Reference values are the book's worked examples (as also reproduced by the stockpyl test-suite) and the
Zheng–Federgruen (1991) instance table.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from model.inventory import policies as P


def poisson_pmf(mean: float, n: int = 120):
    v = np.arange(n)
    p = stats.poisson.pmf(v, mean)
    return v, p / p.sum()


def test_eoq_example_3_1():
    r = P.eoq(fixed_cost=8, holding_cost=0.225, demand_rate=1300)
    assert r.quantity == pytest.approx(304.0467800264368, rel=1e-12)
    assert r.cost == pytest.approx(68.41052550594829, rel=1e-12)


def test_eoq_backorders_example_3_1_with_p5():
    r = P.eoq_backorders(fixed_cost=8, holding_cost=0.225, stockout_cost=5, demand_rate=1300)
    assert r.quantity == pytest.approx(310.81255515896464, rel=1e-12)
    assert r.stockout_fraction == pytest.approx(0.0430622009569378, rel=1e-12)
    assert r.cost == pytest.approx(66.92136355097325, rel=1e-12)


def test_newsvendor_example_4_1():
    r = P.newsvendor(holding_cost=0.18, stockout_cost=0.7, mean=50, sd=8)
    assert r.quantity == pytest.approx(56.60395592743389, rel=1e-9)
    assert r.cost == pytest.approx(1.9976051931766445, rel=1e-9)


def test_newsvendor_discrete_poisson_matches_bruteforce():
    v, p = poisson_pmf(6)
    r = P.newsvendor_discrete(holding_cost=1, stockout_cost=4, values=v, probs=p)
    assert r.quantity == 8
    assert r.cost == pytest.approx(3.5701069457709425, rel=1e-9)
    costs = [(1 * np.clip(s - v, 0, None) + 4 * np.clip(v - s, 0, None)) @ p for s in range(30)]
    assert int(np.argmin(costs)) == 8 and min(costs) == pytest.approx(r.cost)


def test_base_stock_protects_lead_time_plus_one_periods():
    r = P.base_stock(holding_cost=0.18, stockout_cost=0.7, mean=50, sd=8, lead_time=4)
    assert r.level == pytest.approx(264.76689437415484, rel=1e-9)
    assert r.cost == pytest.approx(4.466781004149577, rel=1e-9)
    assert P.base_stock(holding_cost=0.18, stockout_cost=0.7, mean=50, sd=8, lead_time=0).level == \
        pytest.approx(56.60395592743389)


def test_r_q_example_5_2_optimum():
    r = P.r_q(fixed_cost=8, holding_cost=0.225, stockout_cost=7.5, demand_rate=1300, demand_sd=150,
              lead_time=1 / 12)
    # S&S Example 5.2: r* = 126.8, Q* = 328.5, g* = 78.07
    assert r.reorder_point == pytest.approx(126.87, abs=0.05)
    assert r.quantity == pytest.approx(328.45, abs=0.05)
    assert r.cost == pytest.approx(78.0711, abs=1e-3)
    # the exact cost function at the book's rounded optimum (stockpyl r_q_cost reference value)
    assert P._rq_cost(126.8, 328.5, 8, 0.225, 7.5, 1300, 1300 / 12, 150 / math.sqrt(12)) == \
        pytest.approx(78.071162509282942, rel=1e-9)
    # optimal beats the EOQ + newsvendor-safety-stock heuristic (S&S Example 5.5: r=190.3, Q=304.0)
    assert r.cost < P._rq_cost(190.3369965715624, 304.0467800264368, 8, 0.225, 7.5, 1300, 1300 / 12,
                               150 / math.sqrt(12))


@pytest.mark.parametrize("fixed,h,p,mean,s,S,cost", [
    (5, 1, 4, 6, 4, 10, 8.034111561471642),            # S&S Example 4.7
    (150, 40, 125, 4, 2, 7, 223.5748295669688),        # S&S Problem 4.31
    (64, 1, 9, 15, 10, 49, 42.698),                    # Zheng & Federgruen (1991) table
    (64, 1, 9, 65, 56, 75, 78.518),
    (64, 1, 9, 22, 16, 68, 51.632),
])
def test_s_S_zheng_federgruen(fixed, h, p, mean, s, S, cost):
    v, pr = poisson_pmf(mean, n=int(mean * 4 + 40))
    r = P.s_S(fixed_cost=fixed, holding_cost=h, stockout_cost=p, values=v, probs=pr)
    assert (r.s, r.S) == (s, S)
    assert r.cost == pytest.approx(cost, abs=1e-3)


def test_wagner_whitin_example_3_9_and_problem_3_29():
    r = P.wagner_whitin(fixed_cost=500, holding_cost=2, demand=[90, 120, 80, 70])
    assert r.quantities == (210, 0, 150, 0) and r.cost == pytest.approx(1380)
    r = P.wagner_whitin(fixed_cost=100, holding_cost=0.1, demand=[730, 580, 445, 650, 880])
    assert r.quantities == (1310, 0, 1095, 0, 880) and r.cost == pytest.approx(423)


def test_wagner_whitin_matches_enumeration():
    rng = np.random.default_rng(3)
    d = rng.integers(0, 50, size=7).astype(float)
    best = math.inf
    for mask in range(1 << 7):
        if d[0] > 0 and not mask & 1:
            continue
        cost, stock = 0.0, 0.0
        starts = [t for t in range(7) if mask >> t & 1] + [7]
        for a, b in zip(starts[:-1], starts[1:]):
            if d[a:b].sum() > 0:
                cost += 40 + 1.5 * sum((i - a) * d[i] for i in range(a, b))
        best = min(best, cost)
    assert P.wagner_whitin(fixed_cost=40, holding_cost=1.5, demand=d).cost == pytest.approx(best)


@pytest.mark.parametrize("call", [
    lambda: P.eoq(fixed_cost=-1, holding_cost=1, demand_rate=1),
    lambda: P.eoq(fixed_cost=1, holding_cost=1, demand_rate=0),
    lambda: P.eoq_backorders(fixed_cost=1, holding_cost=1, stockout_cost=-2, demand_rate=1),
    lambda: P.newsvendor(holding_cost=1, stockout_cost=1, mean=10, sd=-1),
    lambda: P.newsvendor(holding_cost=1, stockout_cost=1, mean=0, sd=1),
    lambda: P.newsvendor_discrete(holding_cost=1, stockout_cost=1, values=[], probs=[]),
    lambda: P.newsvendor_discrete(holding_cost=1, stockout_cost=1, values=[1, 2], probs=[0.5, 0.6]),
    lambda: P.base_stock(holding_cost=1, stockout_cost=1, mean=1, sd=1, lead_time=1.5),
    lambda: P.r_q(fixed_cost=1, holding_cost=1, stockout_cost=1, demand_rate=1, demand_sd=-1, lead_time=1),
    lambda: P.s_S(fixed_cost=1, holding_cost=1, stockout_cost=1, values=[0.5, 1], probs=[0.5, 0.5]),
    lambda: P.wagner_whitin(fixed_cost=1, holding_cost=-1, demand=[1, 2]),
    lambda: P.wagner_whitin(fixed_cost=1, holding_cost=1, demand=[]),
])
def test_invalid_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_results_are_frozen():
    r = P.eoq(fixed_cost=8, holding_cost=0.225, demand_rate=1300)
    with pytest.raises(AttributeError):
        r.quantity = 1.0
