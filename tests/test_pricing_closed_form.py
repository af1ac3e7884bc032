"""Closed-form optima and the single-SKU program (best_ladder_price) agreeing with them."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from model.pricing.closed_form import optimal_price_constant_elasticity, optimal_price_linear
from model.pricing.program import best_ladder_price
from solvers import InfeasibleModelError

LADDER = np.round(np.arange(1.0, 4.001, 0.05), 2)


def test_constant_elasticity_lerner_rule():
    opt = optimal_price_constant_elasticity(unit_cost=1.0, elasticity=-2.0)
    assert opt.price == pytest.approx(2.0)          # p* = c·e/(1+e) = 2c
    assert opt.quantity == pytest.approx(0.25)      # q* = p*^e
    opt = optimal_price_constant_elasticity(unit_cost=3.0, elasticity=-4.0)
    assert opt.price == pytest.approx(4.0)
    assert (opt.price - 3.0) / opt.price == pytest.approx(1 / 4)   # Lerner: margin = −1/e


def test_linear_demand_optimum():
    opt = optimal_price_linear(a=100.0, b=30.0, unit_cost=1.0)
    assert opt.price == pytest.approx((100 / 30 + 1) / 2)
    assert opt.quantity == pytest.approx((100 - 30) / 2)
    assert opt.profit == pytest.approx((opt.price - 1) * opt.quantity)


@pytest.mark.parametrize("e", [-1.0, -0.5, 0.0, 2.5, math.nan])
def test_inelastic_or_positive_elasticity_is_rejected(e):
    with pytest.raises(ValueError, match="no finite optimum|must be < -1"):
        optimal_price_constant_elasticity(1.0, e)


def test_bad_linear_inputs_are_rejected():
    with pytest.raises(ValueError, match="b > 0"):
        optimal_price_linear(10, 0, 1)
    with pytest.raises(ValueError, match="no profitable price"):
        optimal_price_linear(10, 5, 3)
    with pytest.raises(ValueError, match="unit_cost"):
        optimal_price_linear(10, 1, -1)


@pytest.mark.parametrize("c,e", [(1.0, -2.0), (1.0, -3.0), (1.5, -2.5), (0.8, -1.5)])
def test_program_picks_ladder_price_nearest_closed_form(c, e):
    p_star = optimal_price_constant_elasticity(c, e).price
    ladder = LADDER * c if p_star > LADDER.max() else LADDER
    choice = best_ladder_price(ladder, c, lambda p: 1000 * p ** e)
    profits = (ladder - c) * 1000 * ladder ** e
    assert choice.price == pytest.approx(ladder[np.argmax(profits)])
    below, above = ladder[ladder <= p_star].max(), ladder[ladder >= p_star].min()
    assert choice.price in (below, above)
    assert choice.binding == "none"
    if c == 1.0 and e == -2.0:
        assert choice.price == pytest.approx(2.0) and choice.quantity == pytest.approx(250.0)


def test_program_agrees_with_linear_closed_form():
    opt = optimal_price_linear(100, 30, 1.0)
    choice = best_ladder_price(LADDER, 1.0, lambda p: 100 - 30 * p)
    assert abs(choice.price - opt.price) <= 0.025 + 1e-9
    assert choice.profit == pytest.approx(opt.profit, rel=1e-3)


def test_margin_floor_binds():
    # free optimum 2.0 has margin 50 %; a 60 % floor forces the lowest price with (p − 1)/p ≥ 0.6, i.e. 2.5
    choice = best_ladder_price(LADDER, 1.0, lambda p: 1000 * p ** -2.0, min_margin=0.6)
    assert choice.price == pytest.approx(2.5)
    assert choice.binding == "margin_floor"
    assert (choice.price - 1.0) / choice.price >= 0.6 - 1e-12


def test_inventory_binds():
    # demand 1000/p² ≤ 100 needs p ≥ √10 ≈ 3.162: the cheapest ladder price that fits is 3.20
    choice = best_ladder_price(LADDER, 1.0, lambda p: 1000 * p ** -2.0, inventory=100)
    assert choice.price == pytest.approx(3.2)
    assert choice.quantity <= 100
    assert choice.binding == "inventory" and choice.shortfall == 0


def test_inventory_below_demand_at_every_price_reports_the_shortfall():
    # even at the top price 4.0 demand is 62.5 > 10 units: highest price, and the shortfall is named
    choice = best_ladder_price(LADDER, 1.0, lambda p: 1000 * p ** -2.0, inventory=10)
    assert choice.price == pytest.approx(LADDER.max())
    assert choice.binding == "inventory" and choice.shortfall == pytest.approx(62.5 - 10)


def test_slack_inventory_does_not_bind():
    choice = best_ladder_price(LADDER, 1.0, lambda p: 1000 * p ** -2.0, inventory=10_000)
    assert choice.price == pytest.approx(2.0) and choice.binding == "none"


def test_unreachable_floor_names_the_family():
    with pytest.raises(InfeasibleModelError, match="margin_floor"):
        best_ladder_price([1.0, 1.1], 1.0, lambda p: 10.0, min_margin=0.5)


def test_bad_ladder_is_rejected():
    with pytest.raises(ValueError, match="ladder"):
        best_ladder_price([], 1.0, lambda p: 1.0)


@settings(max_examples=25, deadline=None)
@given(e=st.floats(-4.0, -1.05), c=st.floats(0.5, 3.0), floor=st.one_of(st.none(), st.floats(0.0, 0.7)),
       inventory=st.one_of(st.none(), st.floats(20.0, 2000.0)))
def test_best_ladder_price_equals_enumeration(e, c, floor, inventory):
    """The program's choice is the best ladder price by brute force over the prices meeting the rules."""
    demand = lambda p: 1000 * p ** e
    ok = [p for p in LADDER * c if (floor is None or (p - c) / p >= floor - 1e-12)]
    assume(ok)
    fits = [p for p in ok if inventory is None or demand(p) <= inventory]
    assume(fits)                                 # (when nothing fits, the shortfall path is tested above)
    best = max(fits, key=lambda p: (p - c) * demand(p))
    choice = best_ladder_price(LADDER * c, c, demand, min_margin=floor, inventory=inventory)
    assert choice.profit == pytest.approx((best - c) * demand(best), rel=1e-9)
