"""Rolling-origin backtest, per-segment selection on folds only, ensembles, the pipeline and the cache."""
import numpy as np
import pandas as pd
import pytest

from model.forecast.backtest import backtest, cutoffs
from model.forecast.baselines import Naive, SeasonalNaive
from model.forecast.cache import ModelCache
from model.forecast.intermittent import TSB
from model.forecast.pipeline import PipelineSettings, run_pipeline
from model.forecast.select import choose, combine
from tests.forecast_helpers import SPEC, panel

H = 4


@pytest.fixture(scope="module")
def seasonal():
    """Strongly seasonal weekly panel (season 4 for speed): seasonal naive must beat naive."""
    spec = SPEC.__class__(SPEC.freq, 4, SPEC.known, SPEC.static)
    hist = panel(n_series=4, periods=40, seed=5)
    pattern = np.tile([1.0, 3.0, 0.5, 2.0], 10)
    hist["y"] = hist.groupby("series_id")["y"].transform(lambda s: s.mean() * pattern)
    return hist, spec


def test_cutoffs_roll_back_by_step(seasonal):
    hist, spec = seasonal
    last = hist["period_start"].max()
    assert cutoffs(hist, spec, H, 3, 2) == [last - pd.Timedelta(weeks=H + 2 * k) for k in range(3)]
    with pytest.raises(ValueError, match="at least"):
        cutoffs(hist, spec, 20, 3)


def test_backtest_scores_every_fold_and_selection_prefers_the_seasonal_model(seasonal):
    hist, spec = seasonal
    bt = backtest(hist, spec, {"naive": lambda h: Naive(), "seasonal_naive": lambda h: SeasonalNaive()}, H, folds=3)
    assert sorted(bt.scored["fold"].unique()) == [0, 1, 2] and bt.skipped == []
    assert len(bt.scored) == 2 * 3 * 4 * H
    assert bt.scored.groupby("fold")["cutoff"].nunique().eq(1).all()
    assert (bt.scored["period_start"] > bt.scored["cutoff"]).all()  # never scored on training periods
    chosen = choose(bt.scored.assign(segment="fast"), "wape")
    assert chosen == {"fast": {"seasonal_naive": 1.0}}


def test_ensemble_averages_mean_and_quantiles(seasonal):
    hist, spec = seasonal
    a = Naive().fit(hist, spec).predict(H).assign(model="naive")
    b = SeasonalNaive().fit(hist, spec).predict(H).assign(model="seasonal_naive")
    ens = combine(pd.concat([a, b]), ["naive", "seasonal_naive"])
    assert ens["model"].iloc[0] == "ensemble(naive+seasonal_naive)"
    assert np.allclose(ens["mean"], (a["mean"].to_numpy() + b["mean"].to_numpy()) / 2)
    assert np.allclose(ens["q0.9"], (a["q0.9"].to_numpy() + b["q0.9"].to_numpy()) / 2)
    w = combine(pd.concat([a, b]), {"naive": 0.25, "seasonal_naive": 0.75})
    assert np.allclose(w["mean"], 0.25 * a["mean"].to_numpy() + 0.75 * b["mean"].to_numpy())
    assert w["model"].iloc[0] == "ensemble(0.25*naive+0.75*seasonal_naive)"


def test_pipeline_end_to_end_with_cold_start_and_cache(seasonal, tmp_path):
    hist, spec = seasonal
    new = hist[hist.series_id == "s0"].tail(3).assign(series_id="fresh")
    models = {"naive": lambda h: Naive(), "seasonal_naive": lambda h: SeasonalNaive(), "tsb": lambda h: TSB()}
    cache = ModelCache(tmp_path)
    settings = PipelineSettings(h=H, folds=2, min_periods=8)
    r1 = run_pipeline(pd.concat([hist, new]), spec, models, settings, cache=cache)
    assert set(r1.forecast["series_id"]) == {"s0", "s1", "s2", "s3", "fresh"}
    assert (r1.forecast.loc[r1.forecast.series_id == "fresh", "model"] == "cold_start").all()
    assert set(r1.metrics["model"]) >= {"naive", "seasonal_naive", "tsb", "selected"}
    sel = r1.metrics.query("model == 'selected' and segment == 'all' and metric == 'wape'")["value"].item()
    naive = r1.metrics.query("model == 'naive' and segment == 'all' and metric == 'wape'")["value"].item()
    assert sel < naive
    misses = cache.misses
    r2 = run_pipeline(pd.concat([hist, new]), spec, models, settings, cache=cache)
    assert cache.misses == misses and cache.hits == misses  # unchanged re-run: nothing refitted
    pd.testing.assert_frame_equal(r1.forecast, r2.forecast)
    changed = pd.concat([hist.assign(y=hist["y"] + 1), new])
    run_pipeline(changed, spec, models, settings, cache=cache)
    assert cache.misses > misses  # new data → new fingerprint → refit


def test_choice_scores_candidates_after_their_recalibration():
    """'sharp' has the right median but intervals 5× too narrow; 'wide' is biased with wide intervals.
    On raw quantiles 'sharp' loses on pinball; once each candidate is recalibrated (as it will be
    shipped) 'sharp' wins alone."""
    from scipy.stats import norm

    from model.forecast.calibrate import apply_scales, quantile_scales
    from model.forecast.contract import QCOLS, QUANTILES
    rng = np.random.default_rng(4)
    n = 600
    mu = rng.uniform(20, 40, n)
    y = mu + rng.standard_normal(n)
    z = norm.ppf(QUANTILES)[None, :]
    base = pd.DataFrame({"series_id": [f"s{i % 200}" for i in range(n)], "fold": np.arange(n) // 200,
                         "period_start": pd.Timestamp("2024-01-01"), "horizon": 1, "y": y, "scale": 1.0,
                         "segment": "fast"})
    sharp = base.assign(model="sharp", mean=mu)
    sharp[list(QCOLS)] = mu[:, None] + 0.2 * z
    wide = base.assign(model="wide", mean=mu + 1.0)
    wide[list(QCOLS)] = mu[:, None] + 1.0 + 1.5 * z
    scored = pd.concat([sharp, wide], ignore_index=True)
    assert choose(scored, "pinball")["fast"] != {"sharp": 1.0}
    fix = lambda comb: apply_scales(comb, quantile_scales(comb))  # noqa: E731
    assert choose(scored, "pinball", calibrate=fix) == {"fast": {"sharp": 1.0}}


def test_refit_false_fits_a_refilterable_model_once_at_the_earliest_cutoff(seasonal):
    hist, spec = seasonal
    calls = []

    class Refilterable(Naive):
        def fit(self, history, spec):
            calls.append(("fit", history["period_start"].max()))
            return super().fit(history, spec)

        def refiltered(self, history):
            calls.append(("refiltered", history["period_start"].max()))
            return Naive().fit(history, spec)

    models = {"r": lambda h: Refilterable(), "seasonal_naive": lambda h: SeasonalNaive()}
    bt = backtest(hist, spec, models, H, folds=3, refit=False)
    cuts = sorted(cutoffs(hist, spec, H, 3))
    assert calls == [("fit", cuts[0]), ("refiltered", cuts[1]), ("refiltered", cuts[2])]
    refit = backtest(hist, spec, models, H, folds=3)  # refiltered == refitted for the naive method
    cols = ["series_id", "period_start", "model", "fold", "mean", "q0.1", "q0.9"]
    order = ["model", "fold", "series_id", "period_start"]
    pd.testing.assert_frame_equal(bt.scored[cols].sort_values(order).reset_index(drop=True),
                                  refit.scored[cols].sort_values(order).reset_index(drop=True))
