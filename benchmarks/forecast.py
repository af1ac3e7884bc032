"""Forecast benchmark on real data: every model and the selected pipeline, scored on held-out periods.

    python benchmarks/forecast.py [--datasets stallion walmart demo scale] [--no-neural] [--origins 3]

stallion: monthly, 350 series, last 6 months held out, 3 rolling origins (cutoffs T−6, T−7, T−8).
walmart_recruiting: weekly, 3,331 store × department series, last 13 weeks held out (one origin).
demo: the demo business from an SSOT (``--demo-db``), last 13 weeks held out.
scale: N synthetic weekly series (``--scale-series``), the production pipeline's fit + forecast time.
Each model runs in a forked child: wall and CPU seconds (its worker processes' CPU included) and the
child's peak RSS are its own. The
``selected`` row is the full pipeline (inner backtest on ``--inner-folds`` folds, default 3, one horizon
apart → per-segment choice/ensemble → recalibration → final fit), which never sees the held-out periods.
Ratios are against AutoETS in the same run.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model.forecast import datasets  # noqa: E402
from model.forecast.backtest import cutoffs  # noqa: E402
from model.forecast.metrics import METRICS, mase_scale, score  # noqa: E402
from model.forecast.models import build_models  # noqa: E402
from model.forecast.pipeline import PipelineSettings, run_pipeline  # noqa: E402
from scenarios.schema import ForecastConfig  # noqa: E402

BOOSTING = {"max_iter": 120, "max_origins": 40, "max_rows": 200_000}  # the measured setting (study default is lighter)
DATA = Path(os.environ.get("SCALEPLAN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _child(task):
    """Run one fit + forecast in this (forked) process; report its own CPU, wall and peak RSS."""
    warnings.filterwarnings("ignore")
    import torch
    torch.set_num_threads(1)
    fn, args = task
    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    fc = fn(*args)
    cpu = time.process_time() - c0 + _children_cpu() - k0  # + worker processes (AutoETS n_jobs > 1)
    return fc, time.perf_counter() - t0, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_cpu() -> float:
    """CPU seconds of this process's terminated, waited-for children."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def isolated(fn, *args):
    """Run ``fn(*args)`` in a forked child (closures need no pickling); return its result and costs."""
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    child = ctx.Process(target=lambda: queue.put(_child((fn, args))))
    child.start()
    out = queue.get()
    child.join()
    return out


def fit_predict(make, h, train, spec, future):
    return make(h).fit(train, spec).predict(h, future)


def pipeline(models, h, train, spec, future, inner_folds):
    settings = PipelineSettings(h=h, folds=inner_folds, step=h)
    r = run_pipeline(train, spec, models, settings, future)
    return r.forecast.assign(model="selected"), r.selected


def scored(fc, test, train, spec):
    scale = train.groupby("series_id")["y"].apply(lambda s: mase_scale(s.to_numpy(float), spec.season_length))
    out = fc.merge(test[["series_id", "period_start", "y"]].dropna(), on=["series_id", "period_start"])
    return out.join(scale.rename("scale"), on="series_id")


def evaluate(name, hist, spec, h, origins, step, model_names, cfg, inner_folds, log, pool_names=None):
    """Score each model alone and the pipeline choosing among ``pool_names`` (default: all) per origin."""
    models = build_models(model_names, cfg, seed=0)
    pool = {m: models[m] for m in (pool_names or model_names)}
    rows = []
    for o, cut in enumerate(cutoffs(hist, spec, h, origins, step)):
        train, test = hist[hist.period_start <= cut], hist[(hist.period_start > cut)]
        test = test[test.period_start <= sorted(test.period_start.unique())[h - 1]]
        future = test.drop(columns=["y"])
        for m in [*model_names, "selected"]:
            if m == "selected":
                (fc, chosen), wall, cpu, rss = isolated(pipeline, pool, h, train, spec, future, inner_folds)
                log(f"  {name} origin {o}: selected = {chosen}")
            else:
                fc, wall, cpu, rss = isolated(fit_predict, models[m], h, train, spec, future)
            s = score(scored(fc, test, train, spec))
            rows.append({"dataset": name, "origin": o, "model": m, **s, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss})
            log(f"  {name} origin {o} {m:<15} wape {s['wape']:.4f} pinball {s['pinball']:.4f} "
                f"cov80 {s['coverage80']:.3f} wall {wall:.1f}s cpu {cpu:.1f}s rss {rss:.0f}MB")
    return pd.DataFrame(rows)


def demo_history(db):
    from model.forecast.inputs import history_from_ssot
    from model.ssot.store import open_store
    con = open_store(db, read_only=True)
    try:
        return history_from_ssot(con, "W", "sku")
    finally:
        con.close()


def synthetic(n, periods=156, seed=0):
    """n weekly series: yearly season, trend, Poisson noise, price/promo covariates (for the scale test)."""
    rng = np.random.default_rng(seed)
    t = np.arange(periods)
    level = rng.lognormal(2.0, 1.0, n)[:, None]
    season = 1 + 0.3 * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 52, n)[:, None]) / 52)
    promo = (rng.random((n, periods)) < 0.1).astype(float)
    y = rng.poisson(level * season * (1 + 0.5 * promo)).astype(float)
    weeks = pd.date_range("2022-01-03", periods=periods, freq="W-MON")
    df = pd.DataFrame({"series_id": np.repeat([f"s{i:05d}" for i in range(n)], periods),
                       "period_start": np.tile(weeks, n), "y": y.ravel(), "promo": promo.ravel(),
                       "category": np.repeat([f"c{i % 20}" for i in range(n)], periods)})
    from model.forecast.contract import FrameSpec
    return df, FrameSpec.for_freq("W", known=("promo",), static=("category",))


def summary_table(res: pd.DataFrame) -> pd.DataFrame:
    agg = res.groupby(["dataset", "model"])[[*METRICS, "wall_s", "cpu_s", "peak_rss_mb"]].mean()
    ref = agg.xs("ets", level="model") if "ets" in agg.index.get_level_values("model") else None
    if ref is not None:
        for m in ("wape", "pinball"):
            agg[f"{m}_vs_ets"] = agg[m] / agg.index.get_level_values("dataset").map(ref[m]).to_numpy()
    return agg.round(4)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["stallion", "walmart"])
    ap.add_argument("--no-neural", action="store_true")
    ap.add_argument("--origins", type=int, default=3)
    ap.add_argument("--only-neural", action="store_true", help="stallion: neural models only (one origin each)")
    ap.add_argument("--inner-folds", type=int, default=3)
    ap.add_argument("--demo-db", type=Path)
    ap.add_argument("--scale-series", type=int, default=10_000)
    ap.add_argument("--walmart-series", type=int, default=None, help="first N walmart series (quick runs)")
    ap.add_argument("--out", type=Path, default=Path("out/benchmarks/forecast.csv"))
    a = ap.parse_args(argv)
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    neural = [] if a.no_neural else ["nhits", "tft"]
    results = []
    if "stallion" in a.datasets and a.only_neural:
        hist, spec = datasets.stallion(DATA)
        cfg = ForecastConfig(neural={"encoder_length": 12, "epochs": 20, "batches_per_epoch": 30,
                                     "learning_rate": 0.03, "hidden_size": 16, "batch_size": 64}, boosting=BOOSTING)
        results.append(evaluate("stallion", hist, spec, 6, a.origins, 1, ["ets", "nhits", "tft"], cfg,
                                a.inner_folds, log, ["ets", "nhits"]))
    elif "stallion" in a.datasets:
        hist, spec = datasets.stallion(DATA)
        cfg = ForecastConfig(neural={"encoder_length": 12, "epochs": 20, "batches_per_epoch": 30,
                                     "learning_rate": 0.03, "hidden_size": 16, "batch_size": 64}, boosting=BOOSTING)
        results.append(evaluate("stallion", hist, spec, 6, a.origins, 1,
                                ["seasonal_naive", "ets", "boosting", *neural], cfg, a.inner_folds, log,
                                ["ets", "boosting", *neural[:1]]))
    if "walmart" in a.datasets:
        hist, spec = datasets.walmart(DATA, a.walmart_series)
        cfg = ForecastConfig(neural={"encoder_length": 52, "epochs": 10, "batches_per_epoch": 50,
                                     "learning_rate": 0.01, "hidden_size": 16, "batch_size": 128}, ets_jobs=2,
                             boosting=BOOSTING)
        results.append(evaluate("walmart", hist, spec, 13, 1, 13,
                                ["seasonal_naive", "ets", "boosting", *neural], cfg, a.inner_folds, log,
                                ["seasonal_naive", "ets", "boosting", *neural[:1]]))
    if "demo" in a.datasets and a.demo_db:
        hist, spec = demo_history(a.demo_db)
        cfg = ForecastConfig(boosting=BOOSTING)
        results.append(evaluate("demo", hist, spec, 13, 1, 13,
                                ["seasonal_naive", "ets", "tsb", "boosting", *neural[:1]], cfg, a.inner_folds, log))
    if "scale" in a.datasets:
        hist, spec = synthetic(a.scale_series)
        cfg = ForecastConfig(ets_jobs=2)
        results.append(evaluate(f"synthetic{a.scale_series}", hist, spec, 13, 1, 13,
                                ["seasonal_naive", "tsb", "boosting"], cfg, a.inner_folds, log))
    res = pd.concat(results, ignore_index=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    res.to_csv(a.out, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary_table(res).to_string())


if __name__ == "__main__":
    main()
