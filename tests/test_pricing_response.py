"""Price-response estimation: recovery of known elasticities, interval coverage, pooling, flags."""
import numpy as np
import pandas as pd
import pytest

from model.pricing.response import estimate_response, fit_poisson, shrink
from model.pricing.simulate import simulate_price_history


@pytest.fixture(scope="module")
def fitted():
    history, truth = simulate_price_history(n_skus=150, n_weeks=156, seed=11)
    est = estimate_response(history)
    return est.merge(truth, on=["sku_id", "category"], suffixes=("", "_true"))


def test_elasticities_recovered_within_tolerance(fitted):
    ok = fitted[fitted["identifiable"]]
    err = (ok["elasticity"] - ok["elasticity_true"]).abs()
    assert err.median() <= 0.25                             # the goal, on data with known truth
    raw = (ok["elasticity_raw"] - ok["elasticity_true"]).abs()
    assert err.median() < raw.median()                      # pooling toward the category helps


def test_intervals_cover_about_ninety_percent(fitted):
    ok = fitted[fitted["identifiable"]]
    cover = ((ok["lo90"] <= ok["elasticity_true"]) & (ok["elasticity_true"] <= ok["hi90"])).mean()
    assert 0.82 <= cover <= 0.97                            # 90 % ± ~3 binomial s.e. at n ≈ 135


def test_cross_price_and_promotion_effects_have_the_right_sign(fitted):
    ok = fitted[fitted["identifiable"]]
    assert ok["cross_elasticity"].median() == pytest.approx(ok["cross_elasticity_true"].median(), abs=0.15)
    assert np.log1p(ok["promo_lift"]).median() == pytest.approx(ok["promo_log_lift"].median(), abs=0.1)


def test_fixed_price_skus_are_flagged_not_invented(fitted):
    fixed = fitted[fitted["fixed_price"]]
    assert len(fixed) > 0
    assert not fixed["identifiable"].any()
    assert fixed["elasticity"].isna().all()
    assert fixed["reason"].str.contains("no price variation").all()
    assert fitted.loc[~fitted["fixed_price"], "identifiable"].mean() > 0.95


def test_poisson_fit_recovers_exact_coefficients():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(4000), rng.normal(size=4000)])
    y = rng.poisson(np.exp(X @ np.array([2.0, -1.5]))).astype(float)
    beta, cov = fit_poisson(X, y)
    assert beta == pytest.approx([2.0, -1.5], abs=4 * np.sqrt(np.diag(cov)).max())
    fisher = X.T @ (np.exp(X @ beta)[:, None] * X)          # Poisson data: sandwich ≈ inverse information
    assert np.sqrt(cov[1, 1]) == pytest.approx(np.sqrt(np.linalg.inv(fisher)[1, 1]), rel=0.2)


def test_shrinkage_pulls_noisy_estimates_to_the_category():
    est = np.array([-2.0, -2.2, -1.8, -2.1, -5.0])
    se = np.array([0.1, 0.1, 0.1, 0.1, 3.0])                # the last SKU barely moves its price
    post = shrink(est, se, np.array(["c"] * 5))
    assert post["post"].iloc[4] == pytest.approx(post["prior_mean"].iloc[4], abs=0.05)
    assert post["post"].iloc[0] == pytest.approx(-2.0, abs=0.1)
    assert post["post_se"].iloc[4] < 3.0


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="avg_price"):
        estimate_response(pd.DataFrame({"sku_id": ["a"], "category": ["c"], "period_start": ["2024-01-01"],
                                        "units": [1.0]}))
