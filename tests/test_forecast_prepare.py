"""Demand, not sales: censored periods masked, outliers capped, segments, cold start from category."""
import numpy as np
import pandas as pd
import pytest

from model.forecast.contract import FrameSpec
from model.forecast.prepare import cold_series, cold_start, damp_outliers, fill_masked, mask_censored, segments
from model.forecast.stats import AutoETSForecaster

SPEC = FrameSpec.for_freq("W", static=("category",))


def frame(series: dict, categories: dict | None = None):
    rows = []
    for sid, y in series.items():
        rows.append(pd.DataFrame({"series_id": sid, "y": np.asarray(y, float),
                                  "period_start": pd.date_range("2024-01-01", periods=len(y), freq="W-MON")}))
    df = pd.concat(rows, ignore_index=True)
    return df.assign(category=df["series_id"].map(categories or {}).fillna("c"))


def test_censored_periods_become_unknown_and_are_not_learned_as_low_demand():
    df = frame({"a": [10, 10, 1, 10, 10, 10, 10, 10]}).assign(censored=[False, False, True] + [False] * 5)
    masked = mask_censored(df)
    assert np.isnan(masked["y"].iloc[2]) and masked["y"].notna().sum() == 7
    assert fill_masked(masked)["y"].iloc[2] == pytest.approx(10.0)
    naive_mean = AutoETSForecaster(season_length=1).fit(df, SPEC).predict(1)["mean"].iloc[0]
    masked_mean = AutoETSForecaster(season_length=1).fit(masked, SPEC).predict(1)["mean"].iloc[0]
    assert masked_mean == pytest.approx(10.0, abs=0.05) and masked_mean > naive_mean


def test_outlier_is_capped_at_median_plus_k_mad():
    y = [10, 12, 11, 9, 10, 500, 11, 10]
    out = damp_outliers(frame({"a": y}), k=5)["y"].to_numpy()
    med = np.median(y)
    mad = np.median(np.abs(np.array(y) - med))
    assert out[5] == pytest.approx(med + 5 * 1.4826 * mad)
    assert np.array_equal(out[[0, 1, 2, 3, 4, 6, 7]], np.array(y, float)[[0, 1, 2, 3, 4, 6, 7]])
    spiky = damp_outliers(frame({"b": [0, 0, 0, 7, 0, 0]}), k=5)["y"]
    assert spiky.max() == 7  # MAD 0: intermittent spikes are demand


def test_segments_fast_slow_intermittent():
    seg = segments(frame({"fast": [20] * 10, "slow": [1, 2, 1, 1, 2, 1, 1, 1, 1, 2],
                          "inter": [0, 0, 5, 0, 0, 0, 3, 0, 0, 0]}), slow_units=2.0)
    assert seg.to_dict() == {"fast": "fast", "inter": "intermittent", "slow": "slow"}


def test_cold_start_scales_the_category_profile():
    hist = frame({"a": [10] * 12, "b": [30] * 12, "new": [40, 60], "other": [100] * 12},
                 {"a": "c1", "b": "c1", "new": "c1", "other": "c2"})
    assert cold_series(hist, min_periods=8) == ["new"]
    warm = hist[hist.series_id != "new"]
    base = AutoETSForecaster(season_length=1).fit(warm, SPEC).predict(3)
    cs = cold_start(base, hist, ["new"], SPEC, 3)
    assert (cs["model"] == "cold_start").all() and len(cs) == 3
    assert cs["mean"].to_numpy() == pytest.approx(np.full(3, 50.0), rel=1e-3)  # own level 50 × flat profile
    assert cs["period_start"].iloc[0] == hist[hist.series_id == "new"]["period_start"].max() + pd.Timedelta(weeks=1)
    assert (cs["q0.9"] >= cs["q0.1"]).all()
