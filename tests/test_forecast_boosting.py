"""Global boosting internals with known answers: seasonal index, group (hierarchy) aggregates, weighted
binning; and the model learning a shared seasonal shape from its group."""
import numpy as np
import pandas as pd
import pytest

from model.forecast.boosting import GlobalBoosting, GroupPanel, WeightedBinner, group_features, seasonal_index
from model.forecast.contract import FrameSpec


def test_seasonal_index_recovers_a_multiplicative_pattern():
    pattern = np.array([0.5, 1.5, 1.0, 1.0])  # mean 1 over a season of m = 4
    level = np.array([[10.0], [200.0]])
    Y = level * np.tile(pattern, 5)[None, :]
    S = seasonal_index(Y, 4, n_hist=20)
    assert np.isnan(S[:, :3]).all()  # no full trailing season yet
    assert np.allclose(S[:, 3:20], np.tile(pattern, 5)[None, 3:20])
    Y2 = Y.copy()
    Y2[:, 13] *= 2  # one odd period: its ratio is averaged with the earlier seasons' ratios
    S2 = seasonal_index(Y2, 4, n_hist=20)
    assert S2[0, 13] > pattern[1] and S2[0, 13] < 2 * pattern[1] + 1e-9
    assert np.isclose(S2[0, 5], pattern[1])  # periods before the odd one are untouched


def test_group_panel_sums_series_and_features_scale_by_the_group():
    Y = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 1.0, 0.0], [5.0, 5.0, 5.0, 5.0]])
    grp = GroupPanel(np.array([0, 0, 1]), Y, m=2, n_hist=4)
    assert np.allclose(grp.G, [[4, 4, 4, 4], [5, 5, 5, 5]])
    i, t, k = np.array([0, 2]), np.array([3, 3]), np.array([1, 1])
    f = group_features(grp, "sku", i, t, k, m=2, w=2, s=np.array([2.0, 5.0]))
    assert np.allclose(f["sku_lag0"], 1.0) and np.allclose(f["sku_season1"], 1.0)
    assert np.allclose(f["sku_share"], [2 / 4, 5 / 5])
    assert np.allclose(f["sku_yoy"], 1.0)


def test_weighted_binner_puts_bins_where_the_weight_is():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1000, 20_000)
    w = np.where(x > 900, 100.0, 1.0)  # ~92 % of the weight above 900
    X = pd.DataFrame({"x": x, "few": rng.integers(0, 5, len(x)).astype(float)})
    X.loc[:9, "x"] = np.nan
    b = WeightedBinner().fit(X, w, skip=[])
    edges = b.edges_["x"]
    assert "few" not in b.edges_  # ≤ 255 distinct values: left for HistGradientBoosting as they are
    assert len(edges) <= 254 and (edges > 900).mean() > 0.85
    out = b.transform(X)
    assert out["x"].isna().sum() == 10 and out["x"].nunique() <= 255
    ok = X["x"].notna()
    order = np.argsort(X.loc[ok, "x"].to_numpy())
    assert (np.diff(out.loc[ok, "x"].to_numpy()[order]) >= 0).all()  # monotone: same splits possible


def test_boosting_learns_the_seasonal_shape_its_group_shares():
    """Monthly panel: each series' season (peak in month 7) is scaled noise of its SKU's common shape.
    The model should put the peak in month 7 for every series, and the forecast's mean WAPE on the last
    6 months should beat seasonal naive's, which carries last year's noise."""
    rng = np.random.default_rng(3)
    months = pd.date_range("2015-01-01", periods=60, freq="MS")
    shape = 1 + 0.6 * (months.month == 7) - 0.3 * (months.month == 1)
    rows = []
    for s in range(24):
        lam = (50 + 10 * s) * shape * rng.lognormal(0, 0.05, len(months))
        rows.append(pd.DataFrame({"series_id": f"a{s % 6}|k{s // 6}", "period_start": months,
                                  "y": rng.poisson(lam).astype(float), "category": f"k{s // 6}",
                                  "location": f"a{s % 6}"}))
    hist = pd.concat(rows, ignore_index=True)
    spec = FrameSpec.for_freq("M", static=("category", "location"))
    train, test = hist[hist.period_start < months[-6]], hist[hist.period_start >= months[-6]]
    fc = GlobalBoosting(6, max_iter=60, max_origins=30).fit(train, spec).predict(6)
    peak = fc.loc[fc.groupby("series_id")["mean"].idxmax(), "period_start"]
    assert (peak.dt.month == 7).all()
    got = fc.merge(test, on=["series_id", "period_start"])
    wape = (got["y"] - got["mean"]).abs().sum() / got["y"].sum()
    last_year = train[train.period_start >= months[-18]].assign(period_start=lambda d: d.period_start + pd.DateOffset(years=1))
    snaive = last_year.merge(test, on=["series_id", "period_start"], suffixes=("_f", ""))
    wape_snaive = (snaive["y"] - snaive["y_f"]).abs().sum() / snaive["y"].sum()
    assert wape < 0.9 * wape_snaive  # measured 0.084 vs 0.105
