"""Metrics by hand, and quantile recalibration restoring nominal coverage on fresh data."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from model.forecast.calibrate import apply_scales, quantile_scales
from model.forecast.contract import QCOLS, QUANTILES
from model.forecast.metrics import mase_scale, metrics_table, score


def frame(y, mean, q, scale=1.0):
    df = pd.DataFrame({"y": y, "mean": mean, "scale": scale})
    df[list(QCOLS)] = q
    return df


def test_metrics_by_hand():
    y = np.array([10.0, 20.0])
    q = np.tile(np.array([8.0] * 4 + [12.0] * 5), (2, 1))  # q0.1..0.4 = 8, q0.5..0.9 = 12
    m = score(frame(y, [12.0, 12.0], q, scale=[2.0, 4.0]))
    assert m["wape"] == pytest.approx((2 + 8) / 30)
    assert m["bias"] == pytest.approx((2 - 8) / 30)
    assert m["mase"] == pytest.approx((2 / 2 + 8 / 4) / 2)
    assert m["coverage80"] == pytest.approx(0.5)
    # pinball: y=10 → below q=12 at α≥0.5 (loss (1-α)·2), above q=8 at α<0.5 (loss α·2); y=20 → above all
    rho = [a * 2 + a * 12 if a < 0.5 else (1 - a) * 2 + a * 8 for a in QUANTILES]
    assert m["pinball"] == pytest.approx(np.mean([2 * r / 30 for r in rho]))


def test_perfect_forecast_scores_zero():
    y = np.array([3.0, 7.0, 0.0])
    m = score(frame(y, y, np.repeat(y[:, None], 9, axis=1)))
    assert m["wape"] == m["pinball"] == m["bias"] == 0 and m["coverage80"] == 1


def test_mase_scale_uses_season_when_history_allows():
    y = np.array([1.0, 5.0, 1.0, 5.0, 2.0, 6.0])
    assert mase_scale(y, 2) == pytest.approx(0.5)  # lag-2 differences |0|, |0|, |1|, |1|
    assert mase_scale(y, 1) == pytest.approx((4 + 4 + 4 + 3 + 4) / 5)
    assert mase_scale(np.array([1.0, 3.0]), 4) == pytest.approx(2.0)  # too short → lag 1


def test_metrics_table_is_tidy():
    df = frame(np.array([1.0, 2.0]), [1.0, 2.0], np.ones((2, 9))).assign(model=["a", "b"])
    t = metrics_table(df, ["model"])
    assert set(t.columns) == {"model", "metric", "value", "n"} and len(t) == 10


def test_recalibration_restores_coverage_on_fresh_data():
    rng = np.random.default_rng(1)
    def sample(n):  # true sd 2, forecast claims sd 1 → 80 % interval covers only ~52 %
        mu = rng.uniform(50, 100, n)
        y = mu + 2 * rng.standard_normal(n)
        return frame(y, mu, mu[:, None] + norm.ppf(QUANTILES)[None, :])
    train, fresh = sample(4000), sample(4000)
    assert score(fresh)["coverage80"] < 0.6
    c = quantile_scales(train)
    assert c[0] == pytest.approx(2.0, rel=0.1) and c[-1] == pytest.approx(2.0, rel=0.1) and c[4] == 1
    assert len(set(c[:4])) == 1 and len(set(c[5:])) == 1  # one scale per side of the median
    fixed = apply_scales(fresh, c)
    assert 0.77 < score(fixed)["coverage80"] < 0.83
    assert score(fixed)["pinball"] < score(fresh)["pinball"]


def test_recalibration_shrinks_towards_one_with_few_folds():
    """c̃ = c^(K/(K+K₀)): 3 folds and a prior of 3 folds halve log c (true c = 2 → √2)."""
    rng = np.random.default_rng(2)
    mu = rng.uniform(50, 100, 6000)
    y = mu + 2 * rng.standard_normal(len(mu))
    f = frame(y, mu, mu[:, None] + norm.ppf(QUANTILES)[None, :]).assign(fold=np.arange(len(mu)) % 3)
    raw, shrunk = quantile_scales(f), quantile_scales(f, prior_folds=3)
    assert raw[-1] == pytest.approx(2.0, rel=0.1)
    assert shrunk[-1] == pytest.approx(np.sqrt(raw[-1])) and shrunk[0] == pytest.approx(np.sqrt(raw[0]))
    assert quantile_scales(f.assign(fold=0), prior_folds=3)[-1] == pytest.approx(raw[-1] ** 0.25)
