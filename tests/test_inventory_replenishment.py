"""Replenishment program: exact per-SKU DP, price decomposition, bounds, and the monolithic MILP reference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.inventory.lotsizing import plan_sku_group
from model.inventory.replenishment import (ReplenishmentInput, ReplenishmentParams, prepare,
                                           solve_replenishment, usage)
from model.inventory.replenishment_milp import build_replenishment_model
from model.inventory.synthetic import synthetic_instance
from solvers import InfeasibleModelError, SolveOptions, solve, solve_or_explain

SMALL = ReplenishmentParams(max_states=64, max_cover_weeks=6, target_gap=1e-6, max_iterations=40, time_limit_s=30)


def one_sku(demand, *, unit_cost=1.0, holding=0.0, order_cost=0.0, case=1, moq=0, lead=0, on_hand=0,
            lost=100.0, short=0.0, safety=0.0, volume=0.01, **caps) -> ReplenishmentInput:
    t = len(demand)
    skus = pd.DataFrame({"sku_id": ["A"], "unit_cost": [unit_cost], "holding_cost": [holding],
                         "order_cost": [order_cost], "case_pack": [case], "moq": [moq], "lead_time_weeks": [lead],
                         "volume_m3": [volume], "on_hand": [on_hand], "lost_sale_cost": [lost],
                         "shortfall_cost": [short]})
    return ReplenishmentInput(skus=skus, weeks=pd.date_range("2026-01-05", periods=t, freq="W-MON"),
                              demand=np.array([demand], float), safety_stock=np.full((1, t), safety),
                              scheduled=np.zeros((1, t)), **caps)


def milp_optimum(data: ReplenishmentInput, params=SMALL) -> float:
    r = solve(build_replenishment_model(prepare(data, params)), SolveOptions(time_limit_s=30, mip_rel_gap=1e-9))
    assert r.status.value == "optimal"
    return r.objective


def test_dp_reproduces_wagner_whitin_example_3_9():
    # S&S Example 3.9: K = 500, h = 2, d = (90, 120, 80, 70): order 210 in week 1 and 150 in week 3, cost 1380
    d = one_sku([90, 120, 80, 70], holding=2, order_cost=500)
    r = solve_replenishment(d, ReplenishmentParams(max_states=512, max_cover_weeks=10))
    receipts = r.plan.receipts[0] * r.prepared.granule[0]
    assert receipts.tolist() == [210, 0, 150, 0]
    assert r.upper_bound - 360 == pytest.approx(1380)   # minus purchase cost 1/unit
    assert r.gap == pytest.approx(0, abs=1e-12)


def test_case_pack_moq_and_lead_time_respected():
    d = one_sku([5, 7, 3, 9, 4, 6], holding=0.1, order_cost=20, case=6, moq=12, lead=2, on_hand=14)
    r = solve_replenishment(d, SMALL)
    q = r.plan.receipts[0] * r.prepared.granule[0]
    assert q[:2].sum() == 0                        # nothing can arrive before the lead time
    assert all(x == 0 or (x % 6 == 0 and x >= 12) for x in q)
    assert r.upper_bound == pytest.approx(milp_optimum(d))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dp_equals_milp_without_coupling(seed):
    d = synthetic_instance(3, 6, seed=seed, tightness=None)
    r = solve_replenishment(d, SMALL)
    assert r.upper_bound == pytest.approx(milp_optimum(d), rel=1e-9)
    assert r.lower_bound == pytest.approx(r.upper_bound, rel=1e-9)


@pytest.mark.parametrize("seed,tightness,families", [
    (2, 0.5, ("storage", "inbound", "budget")),
    (4, 0.8, ("storage",)),
    (0, 0.8, ("budget",)),
    (5, 0.8, ("inbound",)),
    (7, 0.8, ("budget",)),
])
def test_decomposition_brackets_the_milp_optimum(seed, tightness, families):
    d = synthetic_instance(3, 6, seed=seed, tightness=tightness, families=families)
    free = solve_replenishment(synthetic_instance(3, 6, seed=seed, tightness=None), SMALL).upper_bound
    r = solve_replenishment(d, SMALL)
    opt = milp_optimum(d)
    assert opt > free + 1e-6                      # the coupling rows bind
    assert r.lower_bound <= opt + 1e-6 <= r.upper_bound + 2e-6
    assert r.upper_bound <= 1.03 * opt                # repair + one-SKU-at-a-time polish
    assert np.all(usage(r.prepared, r.plan) <= d.caps + 1e-6)
    assert r.gap == pytest.approx((r.upper_bound - r.lower_bound) / r.upper_bound)


@pytest.mark.parametrize("seed,tightness,families", [(2, 0.5, ("storage",)), (0, 0.8, ("budget",)),
                                                     (2, 0.5, ("inbound",)), (4, 0.5, ("budget",)),
                                                     (4, 0.5, ("inbound",)), (3, 0.5, ("inbound",))])
def test_binding_cases_reach_the_optimum(seed, tightness, families):
    d = synthetic_instance(3, 6, seed=seed, tightness=tightness, families=families)
    r = solve_replenishment(d, SMALL)
    assert r.upper_bound == pytest.approx(milp_optimum(d), rel=2e-3)


def test_decomposition_gap_at_a_few_hundred_skus():
    d = synthetic_instance(300, 26, seed=4, tightness=0.8)
    r = solve_replenishment(d, ReplenishmentParams(time_limit_s=40, target_gap=0.02, max_iterations=40))
    assert r.gap <= 0.03
    assert r.lower_bound <= r.upper_bound
    use = usage(r.prepared, r.plan)
    assert np.all(use <= d.caps + 1e-6)
    assert np.any(use >= 0.98 * d.caps)           # something binds


def test_shortfall_is_penalised_not_infeasible():
    # 25 units on hand, 10 a week demand, lead time 3 weeks: week 3 runs out before any order can arrive
    d = one_sku([10] * 6, on_hand=25, lead=3, lost=5.0, safety=8, short=0.5, holding=0.01)
    r = solve_replenishment(d, ReplenishmentParams(max_states=128, max_cover_weeks=6))
    assert r.prepared.granule[0] == 1
    lost = r.plan.lost[0]
    assert lost[:3].sum() == 5                     # 25 on hand cover 2.5 weeks: 5 units lost in week 3
    assert lost[3:].sum() == 0                     # orders arriving from week 4 serve all demand
    short = np.maximum(r.prepared.safety[0] - r.plan.stock[0], 0)
    assert short[:3].sum() > 0                     # below safety stock while waiting for the first receipt


def test_infeasible_storage_is_diagnosed_by_family():
    d = one_sku([1, 1, 1, 1], on_hand=100, volume=0.1, storage_m3=np.full(4, 5.0))
    with pytest.raises(InfeasibleModelError) as e:
        solve_replenishment(d, SMALL)
    assert list(e.value.families) == ["storage_capacity"]
    with pytest.raises(InfeasibleModelError) as e2:
        solve_or_explain(build_replenishment_model(prepare(d, SMALL)), SolveOptions(time_limit_s=20))
    assert "storage_capacity" in e2.value.families


def test_invalid_input_names_the_field():
    with pytest.raises(ValueError, match="case_pack"):
        one_sku([1, 2], case=0)
    with pytest.raises(ValueError, match="demand"):
        one_sku([1, -2])


def test_time_limit_is_honoured():
    d = synthetic_instance(2000, 52, seed=3, tightness=0.7)
    r = solve_replenishment(d, ReplenishmentParams(time_limit_s=8, target_gap=1e-9))
    assert r.wall_s <= 8 * 1.1
    assert np.all(usage(r.prepared, r.plan) <= d.caps + 1e-6)


@settings(max_examples=25, deadline=None)
@given(demand=st.lists(st.integers(0, 30), min_size=3, max_size=8), case=st.sampled_from([1, 3, 5]),
       moq=st.integers(0, 12), lead=st.integers(0, 3), on_hand=st.integers(0, 40),
       order_cost=st.floats(0, 50), scheduled=st.integers(0, 20))
def test_dp_plan_obeys_inventory_balance(demand, case, moq, lead, on_hand, order_cost, scheduled):
    t = len(demand)
    d = one_sku(demand, case=case, moq=moq, lead=lead, on_hand=on_hand, order_cost=order_cost, holding=0.05,
                lost=4.0, safety=3, short=0.2)
    d.scheduled[0, 0] = scheduled
    p = prepare(d, SMALL)
    frame = pd.DataFrame({"sku_id": "A", "week": np.arange(t), "demand": p.demand[0], "scheduled": p.scheduled[0],
                          "safety": p.safety[0], "pos_price": 0.0, "inb_price": 0.0})
    (idx, grp), = p.chunks
    for col in ("n_states", "case"):
        frame[col] = getattr(grp, col)
    for col in ("min_cases", "lead", "init", "fixed_cost", "unit_cost_g", "hold_g", "lost_g", "short_g"):
        frame[col] = getattr(grp, col)[0]
    out = plan_sku_group(frame)
    x_prev = np.concatenate([[p.init[0]], out["stock"].to_numpy()[:-1]])
    q, pos, x, u = (out[c].to_numpy() for c in ("receipts", "position", "stock", "lost"))
    assert np.array_equal(pos, x_prev + p.scheduled[0] + q)              # position balance
    assert np.array_equal(x, pos - p.demand[0] + u)                      # inventory balance
    assert np.all(x >= 0) and np.all(u >= 0) and np.all(pos <= grp.n_states - 1)
    assert np.all((q == 0) | ((q % grp.case == 0) & (q >= grp.min_cases[0] * grp.case)))
    assert np.all(q[:lead] == 0)
    assert np.all(u <= np.maximum(p.demand[0] - (x_prev + p.scheduled[0] + q), 0) + 0)  # never loses sales it can serve


def test_process_pool_gives_the_same_plan():
    d = synthetic_instance(60, 12, seed=8, tightness=0.8)
    params = ReplenishmentParams(time_limit_s=30, max_iterations=4, chunk_size=16)
    one, two = solve_replenishment(d, params), solve_replenishment(d, params.__class__(**{**params.__dict__, "workers": 2}))
    assert one.lower_bound == pytest.approx(two.lower_bound, rel=1e-12)
    assert np.array_equal(one.plan.receipts, two.plan.receipts)


def test_capped_dp_respects_position_and_receipt_caps():
    from model.inventory.lotsizing import sku_row, solve_capped
    d = one_sku([10] * 6, holding=0.01, order_cost=50, lost=20.0)
    p = prepare(d, ReplenishmentParams(max_states=128, max_cover_weeks=8))
    (idx, grp), = p.chunks
    free = solve_capped(sku_row(grp, 0), np.full(6, np.inf), np.full(6, np.inf))
    assert free.receipts[0].max() > 25                      # uncapped: one or two big lots
    capped = solve_capped(sku_row(grp, 0), np.full(6, 15.0), np.full(6, 12.0))
    assert capped.position[0].max() <= 15 and capped.receipts[0].max() <= 12
    assert capped.lost[0].sum() == 0 and capped.value[0] > free.value[0]
