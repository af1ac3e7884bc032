"""Reorder points from forecast quantiles: agree with the normal closed forms where they apply."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import brentq

from model.forecast.contract import QCOLS, QUANTILES
from model.inventory.safety import protection_demand, reorder_point, reorder_points, sample_weekly


def normal_forecast(ids, mean, sd, weeks=12):
    q = mean + sd * stats.norm.ppf(QUANTILES)
    rows = [{"series_id": s, "period_start": pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=h), "horizon": h + 1,
             "mean": mean, **dict(zip(QCOLS, q))} for s in ids for h in range(weeks)]
    return pd.DataFrame(rows)


def test_sampling_reproduces_the_quantiles():
    q = np.array([[[10, 14, 17, 19, 21, 23, 25, 28, 32]]], float)
    x = sample_weekly(q, np.random.default_rng(1).random((1, 1, 200_000)))
    assert np.quantile(x, QUANTILES) == pytest.approx(q[0, 0], abs=0.15)
    assert np.quantile(x, 0.95) == pytest.approx(32 + 4, abs=0.2)      # exponential tail: θ ln 2 = q0.9 - q0.8


def test_cycle_service_matches_normal_protection_demand():
    # lead time 2 weeks fixed + 1 review week: protection demand ≈ N(3·100, 3·15²)
    fc = normal_forecast(["A"], 100.0, 15.0)
    lead = pd.DataFrame({"series_id": ["A"], "lead_time_mean_days": [14.0], "lead_time_sd_days": [0.0]})
    r = reorder_points(fc, lead, service_level=0.95, service_type="cycle", n_samples=40_000, seed=3)
    expected = 300 + stats.norm.ppf(0.95) * 15 * np.sqrt(3)
    # exponential tails beyond q0.1/q0.9 are a little heavier than the normal's
    assert r["reorder_point"].iloc[0] == pytest.approx(expected, rel=0.02)
    assert r["safety_stock"].iloc[0] == pytest.approx(expected - 300, rel=0.15)


def test_fill_rate_matches_normal_loss_function():
    # fill rate β with order quantity Q: σ L(z) = (1 - β) Q  (S&S eq. 5.33)
    fc = normal_forecast(["A"], 100.0, 15.0)
    lead = pd.DataFrame({"series_id": ["A"], "lead_time_mean_days": [14.0], "lead_time_sd_days": [0.0]})
    r = reorder_points(fc, lead, service_level=0.99, service_type="fill_rate", order_qty=pd.Series({"A": 200.0}),
                       n_samples=40_000, seed=3)
    sig = 15 * np.sqrt(3)
    z = brentq(lambda z: sig * (stats.norm.pdf(z) - z * stats.norm.sf(z)) - 0.01 * 200, -5, 5)
    assert r["reorder_point"].iloc[0] == pytest.approx(300 + z * sig, rel=0.02)


def test_lead_time_variability_raises_safety_stock_and_seed_is_reproducible():
    fc = normal_forecast(["A", "B"], 50.0, 10.0)
    lead = pd.DataFrame({"series_id": ["A", "B"], "lead_time_mean_days": [14.0, 14.0],
                         "lead_time_sd_days": [0.0, 7.0]})
    r1 = reorder_points(fc, lead, service_level=0.95, service_type="cycle", n_samples=20_000, seed=5)
    r2 = reorder_points(fc, lead, service_level=0.95, service_type="cycle", n_samples=20_000, seed=5)
    assert r1["safety_stock"].iloc[1] > 1.5 * r1["safety_stock"].iloc[0]
    pd.testing.assert_frame_equal(r1, r2)


def test_protection_demand_interpolates_fractional_lead_times():
    q = np.tile(np.full(9, 10.0), (1, 6, 1))       # deterministic 10 per week
    d = protection_demand(q, np.array([1.5]), np.array([0.0]), 1.0, 10, np.random.default_rng(0))
    assert d == pytest.approx(np.full((1, 10), 25.0))


def test_invalid_inputs():
    with pytest.raises(ValueError, match="service_type"):
        reorder_point(np.ones((1, 5)), 0.9, "cycles")
    with pytest.raises(ValueError, match="order_qty"):
        reorder_point(np.ones((1, 5)), 0.9, "fill_rate")
    with pytest.raises(ValueError, match="missing columns"):
        reorder_points(pd.DataFrame({"series_id": ["A"]}), pd.DataFrame(), service_level=0.9, service_type="cycle")
    fc = normal_forecast(["A"], 5.0, 1.0)
    with pytest.raises(ValueError, match="no lead time"):
        reorder_points(fc, pd.DataFrame({"series_id": ["B"], "lead_time_mean_days": [7.0], "lead_time_sd_days": [0.0]}),
                       service_level=0.9, service_type="cycle")
