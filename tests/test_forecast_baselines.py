"""Baselines and TSB against closed forms: naive random-walk intervals, exact seasonal repetition,
TSB recursions by hand and the zero-inflated quantile formula."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from model.forecast.baselines import Naive, SeasonalNaive
from model.forecast.contract import FrameSpec
from model.forecast.intermittent import TSB, tsb_state, zero_inflated_quantiles

SPEC = FrameSpec.for_freq("W")


def one_series(y, sid="a"):
    return pd.DataFrame({"series_id": sid, "period_start": pd.date_range("2023-01-02", periods=len(y), freq="W-MON"),
                         "y": np.asarray(y, float)})


def test_naive_point_and_random_walk_quantiles():
    y = np.array([10.0, 12.0, 11.0, 15.0, 14.0, 18.0])
    fc = Naive().fit(one_series(y), SPEC).predict(3)
    sigma = np.std(np.diff(y), ddof=1)
    assert (fc["mean"] == 18.0).all()
    for k in (1, 2, 3):
        row = fc[fc.horizon == k].iloc[0]
        assert row["q0.9"] == pytest.approx(18.0 + norm.ppf(0.9) * sigma * np.sqrt(k))
        assert row["q0.5"] == pytest.approx(18.0)
    assert fc["period_start"].iloc[0] == pd.Timestamp("2023-02-13")  # the Monday after the last week


def test_seasonal_naive_repeats_an_exact_season_with_zero_width():
    season = [5.0, 9.0, 2.0, 7.0]
    fc = SeasonalNaive(season_length=4).fit(one_series(season * 5), SPEC).predict(6)
    assert fc["mean"].tolist() == season + season[:2]
    assert np.allclose(fc["q0.1"], fc["q0.9"])  # no seasonal change ever → no uncertainty


def test_seasonal_naive_falls_back_to_naive_on_short_history():
    fc = SeasonalNaive(season_length=52).fit(one_series([3.0, 4.0, 6.0]), SPEC).predict(2)
    assert (fc["mean"] == 6.0).all()


def test_tsb_recursion_by_hand():
    y = np.array([0.0, 4.0, 0.0, 2.0])
    p, z = 2 / 4, 3.0  # start: share of non-zero periods, mean size
    for v in y:
        p += 0.2 * ((v > 0) - p)
        z = z + 0.5 * (v - z) if v > 0 else z
    assert tsb_state(y, alpha=0.5, beta=0.2) == pytest.approx((p, z))
    assert tsb_state(np.array([np.nan, 0.0, 4.0]), 0.5, 0.2) == pytest.approx(tsb_state(np.array([0.0, 4.0]), 0.5, 0.2))


def test_zero_inflated_quantiles_closed_form():
    q = zero_inflated_quantiles(0.3, np.array([2.0, 2.0, 2.0]), 4.0)  # sizes rescaled to 4
    assert q.tolist() == [0.0] * 7 + [4.0, 4.0]  # P(D=0)=0.7 → levels ≤ 0.7 are 0


def test_tsb_constant_demand_is_exact_and_intermittent_mean_is_p_times_z():
    fc = TSB().fit(one_series([5.0] * 20), SPEC).predict(3)
    assert np.allclose(fc[["mean", "q0.1", "q0.9"]].to_numpy(), 5.0)
    fc = TSB(alpha=0.1, beta=0.1).fit(one_series([0.0, 3.0] * 30), SPEC).predict(2)
    p, z = tsb_state(np.array([0.0, 3.0] * 30), 0.1, 0.1)
    assert fc["mean"].iloc[0] == pytest.approx(p * z) and 0.4 < p < 0.6 and z == pytest.approx(3.0)


def test_tsb_rejects_bad_constants():
    with pytest.raises(ValueError, match="alpha"):
        TSB(alpha=0.0)


def test_ets_refiltered_keeps_the_fit_and_moves_the_origin():
    """Re-filtering over the same history reproduces the fit's forecast exactly; over a longer history
    the forecast starts after its last period without a new fit (refit=False backtests)."""
    from model.forecast.stats import AutoETSForecaster
    from tests.forecast_helpers import SPEC, panel
    hist = panel(n_series=3, periods=70, seed=2)
    cut = sorted(hist["period_start"].unique())[-9]
    early = hist[hist["period_start"] <= cut]
    fit = AutoETSForecaster().fit(early, SPEC)
    pd.testing.assert_frame_equal(fit.predict(4), fit.refiltered(early).predict(4))
    later = fit.refiltered(hist)
    assert later.fitted_ == []  # every series reused, none refitted
    fc = later.predict(4)
    assert (fc.groupby("series_id")["period_start"].min() > hist["period_start"].max()).all()
    assert not np.allclose(fc["mean"].to_numpy(), fit.predict(4)["mean"].to_numpy())
