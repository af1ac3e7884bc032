"""Evaluation helpers: margin-change draws (analytic limits) and the real stallion data."""
import numpy as np
import pandas as pd
import pytest

from model.pricing.evaluate import evaluate_stallion, margin_change_draws, true_margin_change


def plan_rows(e=-2.0, se=0.0):
    return pd.DataFrame({"sku_id": ["a", "a", "b"], "category": ["c", "c", "c"], "price": [12.0, 12.0, 10.0],
                         "current_price": [10.0, 10.0, 10.0], "unit_cost": [5.0, 5.0, 5.0],
                         "base_units": [100.0, 50.0, 80.0], "elasticity": [e, e, np.nan], "se": [se, se, np.nan]})


def test_draws_without_uncertainty_equal_the_point_change():
    d = margin_change_draws(plan_rows(), n_draws=5, seed=0)
    old = 5 * 150 + 5 * 80                      # (p0 − c)·base; SKU b is held at p0
    new = 7 * 150 * 1.2 ** -2.0 + 5 * 80
    assert np.allclose(d, new / old - 1)


def test_draws_spread_with_the_standard_error_and_are_reproducible():
    d1, d2 = margin_change_draws(plan_rows(se=0.5), 2000, seed=3), margin_change_draws(plan_rows(se=0.5), 2000, 3)
    assert np.array_equal(d1, d2)
    assert d1.std() > 0.01
    point = margin_change_draws(plan_rows(), 1, 0)[0]
    assert np.median(d1) == pytest.approx(point, abs=0.02)     # median of a monotone map of a normal draw


def test_true_margin_change_is_exact_for_known_elasticity():
    truth = pd.DataFrame({"sku_id": ["a", "b"], "elasticity": [-2.0, -3.0]})
    r = true_margin_change(plan_rows(), truth)
    assert r["margin_change_true"] == pytest.approx((7 * 150 * 1.2 ** -2.0 + 400) / 1150 - 1)
    # with e = −2 and c = 5 the current price 10 = 2c is already optimal: the move to 12 loses margin
    assert r["skus_moved"] == 1 and r["skus_losing_margin"] == 1 and r["margin_change_true"] < 0


def test_stallion_estimates_and_margin_interval(shared_data):
    r = evaluate_stallion(shared_data / "stallion" / "stallion.parquet")
    assert r["series"] == 350 and r["identifiable"] >= 250
    assert r["elasticity_median"] < 0                             # demand falls with price on real data
    assert r["margin_change_lo90"] <= r["margin_change_expected"] <= r["margin_change_hi90"]
    assert r["gap"] <= 0.005


def test_true_margin_of_a_flagged_sku_stops_when_its_stock_runs_out():
    # b: flagged, 100 units of stock; at 8 (e = −2) it would sell 80·1.5625 = 125/week, so only 100 sell
    plan = pd.DataFrame({"sku_id": ["b", "b"], "week_start": [0, 1], "price": [8.0, 8.0],
                         "current_price": [10.0, 10.0], "unit_cost": [5.0, 5.0], "base_units": [80.0, 80.0],
                         "stock": [100.0, 100.0], "clearance": [True, True]})
    r = true_margin_change(plan, pd.DataFrame({"sku_id": ["b"], "elasticity": [-2.0]}))
    assert r["margin_change_true"] == pytest.approx((3 * 100) / (5 * 100) - 1)   # current: 80 + 20 of week 2


def test_clearance_split_by_true_class():
    """Flagged stock is split by the demo's TRUE class: a dead-stock SKU (no demand at any price) clears
    nothing, a slow mover whose planned markdown doubles its demand clears exactly what it sells."""
    from model.pricing.evaluate import markdown_clearance_true
    from scenarios.schema.pricing import PricingConfig
    cfg = PricingConfig(clearance_week=2)
    weeks = pd.to_datetime(["2026-01-05", "2026-01-12"])
    plan = pd.DataFrame({"sku_id": ["S", "S", "D", "D"], "week_start": list(weeks) * 2, "clearance": True,
                         "current_price": 10.0, "price": [5.0, 5.0, 10.0, 10.0], "unit_cost": 2.0,
                         "base_units": [10.0, 10.0, 0.0, 0.0], "stock": [50.0, 50.0, 30.0, 30.0],
                         "markdown": ["clear", "clear", "liquidate", "liquidate"],
                         "flag_reason": ["slow_mover", "slow_mover", "excess", "excess"]})
    truth = pd.DataFrame({"sku_id": ["S", "D"], "elasticity": [-1.0, -2.0], "popularity": ["slow", "dead_stock"],
                          "lifecycle": ["regular", "regular"]})
    out = markdown_clearance_true(plan, truth, cfg)
    by = out["flagged_by_true_class"]
    assert by["slow"]["cleared_share_true"] == pytest.approx(40 / 50)     # 2 weeks × 10 × (5/10)^−1
    assert by["dead_stock"]["cleared_share_true"] == 0
    assert by["slow"]["stock_share"] == pytest.approx(50 / 80)
    assert out["cleared_share_true"] == pytest.approx(40 / 80)
    # by the planner's own flag reason (no ground truth needed): the slow mover clears 80 %, the excess 0 %
    assert out["cleared_share_true_slow_movers"] == pytest.approx(40 / 50)
    assert out["cleared_share_true_excess"] == 0 and out["excess_stock_share"] == pytest.approx(30 / 80)
