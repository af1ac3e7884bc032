"""model.workforce.shift_cover: textbook set-covering optima and the under-coverage penalty."""
import pytest

from model.workforce.shift_cover import solve_shift_cover

# Winston, Operations Research, post office: 5 consecutive days on, 2 off; Mon..Sun requirements.
POST_OFFICE = [17, 13, 15, 19, 14, 16, 11]
FIVE_ON = {s: [(s + k) % 7 for k in range(5)] for s in range(7)}   # pattern s starts on day s

# Hillier & Lieberman, Union Airways: 10 periods, 5 shifts with daily costs; optimum $30,610.
UNION_REQ = [48, 79, 65, 87, 64, 73, 82, 43, 52, 15]
UNION_SHIFTS = {1: [0, 1, 2, 3], 2: [1, 2, 3, 4], 3: [3, 4, 5, 6], 4: [5, 6, 7, 8], 5: [8, 9]}
UNION_COST = {1: 170, 2: 160, 3: 175, 4: 180, 5: 195}


def test_post_office_cyclic_days_off_needs_23_workers():
    r = solve_shift_cover(POST_OFFICE, FIVE_ON)
    assert r.status == "optimal"
    assert sum(r.counts.values()) == 23 and r.cost == pytest.approx(23)
    assert all(r.coverage[d] >= POST_OFFICE[d] for d in range(7))
    assert sum(r.shortfall.values()) == 0


def test_union_airways_optimum_30610():
    r = solve_shift_cover(UNION_REQ, UNION_SHIFTS, UNION_COST)
    assert r.cost == pytest.approx(30610)
    assert r.counts == {1: 48, 2: 31, 3: 39, 4: 43, 5: 15}


def test_cheap_under_cost_leaves_periods_uncovered():
    # a worker costs 1 and covers 5 days: at 0.1 per uncovered staff-day nobody is worth hiring
    r = solve_shift_cover(POST_OFFICE, FIVE_ON, under_cost=0.1)
    assert sum(r.counts.values()) == 0 and sum(r.shortfall.values()) == sum(POST_OFFICE)
    # an expensive shortfall reproduces the hard optimum
    assert sum(solve_shift_cover(POST_OFFICE, FIVE_ON, under_cost=100).counts.values()) == 23


def test_partial_under_cost_trades_off_exactly():
    # one period needs 3, one pattern covers it at cost 1: shortfall worth 0.6 < 1 → none hired
    assert solve_shift_cover({"p": 3}, {"s": ["p"]}, under_cost=0.6).counts == {"s": 0}
    assert solve_shift_cover({"p": 3}, {"s": ["p"]}, under_cost=1.5).counts == {"s": 3}


def test_uncoverable_period_is_named():
    with pytest.raises(Exception, match="cover"):
        solve_shift_cover({"a": 1, "b": 1}, {"s": ["a"]})


def test_bad_input_names_the_entry():
    with pytest.raises(ValueError, match=r"requirements\['a'\]"):
        solve_shift_cover({"a": -1}, {"s": ["a"]})
    with pytest.raises(ValueError, match="unknown periods"):
        solve_shift_cover({"a": 1}, {"s": ["zz"]})
