"""Benchmark of the replenishment program (SKUs × 52 weeks, storage, inbound and budget binding in peaks).

    python benchmarks/replenishment.py                 # 100 (vs monolithic MILP), 1,000, 10,000, 50,000
    python benchmarks/replenishment.py --sizes 1000 10000 --workers 2
    python benchmarks/replenishment.py --demo out/bench_demo --skus 500   # decision quality, true demand

Each size runs in its own process (so peak memory is per size) and prints: wall and CPU seconds (own +
worker processes), the certified gap (UB vs the decomposition's Lagrangian bound), iterations, peak RSS,
the wall time as a share of the limit, and how many weeks have a coupling row at ≥ 99 % of capacity.
At 100 SKUs the monolithic big-M MILP (Pyomo + HiGHS) gets the same wall-clock limit in the same run;
the ratio of the two plans' costs is the reference figure.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LIMITS = {100: 30.0, 1000: 120.0, 10_000: 120.0, 50_000: 600.0}


def cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def one(n: int, workers: int, limit: float, seed: int = 1) -> dict:
    import numpy as np

    from model.inventory.replenishment import ReplenishmentParams, solve_replenishment, usage
    from model.inventory.synthetic import synthetic_instance
    data = synthetic_instance(n, 52, seed=seed, tightness=0.8)
    c0, t0 = cpu_s(), time.perf_counter()
    r = solve_replenishment(data, ReplenishmentParams(time_limit_s=limit, target_gap=0.01, max_iterations=200,
                                                      workers=workers))
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    util = usage(r.prepared, r.plan) / data.caps
    out = {"skus": n, "weeks": 52, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "limit_s": limit,
           "wall_over_limit": round(wall / limit, 3), "gap": r.gap, "upper_bound": r.upper_bound,
           "lower_bound": r.lower_bound, "iterations": r.iterations, "status": r.status,
           "binding_weeks": int((util >= 0.99).any(axis=0).sum()),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if n <= 200:
        out.update(milp_reference(data, limit, r))
    return out


def milp_reference(data, limit: float, r) -> dict:
    """The monolithic MILP on the same instance (same granules), the same wall-clock limit."""
    from model.inventory.replenishment_milp import build_replenishment_model
    from solvers import SolveOptions, solve
    t0 = time.perf_counter()
    m = build_replenishment_model(r.prepared)
    build = time.perf_counter() - t0
    res = solve(m, SolveOptions(time_limit_s=max(limit - build, 1.0), mip_rel_gap=0.01))
    return {"milp_status": res.status.value, "milp_objective": res.objective, "milp_bound": res.bound,
            "milp_gap": res.gap, "milp_wall_s": round(time.perf_counter() - t0, 2),
            "decomposition_over_milp": (r.upper_bound / res.objective) if res.objective else None}


def demo_forecast(history, start, weeks: int):
    """Forecast contract from the 26 weeks before ``start``: mean of uncensored weeks, normal quantiles with
    the observed weekly sd (floored at √mean), clipped at 0 — a transparent baseline, not a tuned model."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    from model.forecast.contract import QCOLS, QUANTILES
    h = history.assign(period_start=pd.to_datetime(history["period_start"]))
    h = h[(h["period_start"] < start) & (h["period_start"] >= start - pd.Timedelta(weeks=26))]
    h = h[~h["censored"].astype(bool)]
    g = h.groupby("series_id")["units"]
    mu, sd = g.mean(), np.maximum(g.std().fillna(0), np.sqrt(g.mean()))
    idx = mu.index.to_numpy()
    fc = pd.DataFrame({"series_id": np.repeat(idx, weeks), "horizon": np.tile(np.arange(1, weeks + 1), len(idx)),
                       "period_start": np.tile(pd.date_range(start, periods=weeks, freq="7D").date, len(idx)),
                       "mean": np.repeat(mu.to_numpy(), weeks), "model": "mean26"})
    q = fc["mean"].to_numpy()[:, None] + np.repeat(sd.to_numpy(), weeks)[:, None] * stats.norm.ppf(QUANTILES)
    for j, c in enumerate(QCOLS):
        fc[c] = np.maximum(q[:, j], 0.0)
    return fc


def oracle_forecast(truth, start, weeks: int):
    """Forecast contract from the generator's true expected demand per SKU × week, Poisson quantiles:
    isolates the inventory decisions from forecast error."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    from model.forecast.contract import QCOLS, QUANTILES
    w = truth[(truth["week"] >= start) & (truth["week"] < start + pd.Timedelta(weeks=weeks))]
    mu = w.groupby(["sku_id", "week"])["expected"].sum().unstack(fill_value=0.0)
    mu = mu.reindex(columns=pd.date_range(start, periods=weeks, freq="7D"), fill_value=0.0)
    fc = pd.DataFrame({"series_id": np.repeat(mu.index.to_numpy(), weeks),
                       "horizon": np.tile(np.arange(1, weeks + 1), len(mu)),
                       "period_start": np.tile(mu.columns.date, len(mu)), "mean": mu.to_numpy().ravel(),
                       "model": "oracle"})
    for c, q in zip(QCOLS, QUANTILES):
        fc[c] = stats.poisson.ppf(q, fc["mean"].clip(lower=1e-9)).astype(float)
    return fc


def demo_backtest(root: Path, skus: int, seed: int, weeks: int, order_cost: float, budget_share: float | None,
                  oracle: bool = False) -> dict:
    """Plan at a cut-off ``weeks`` before the end of the demo history (stock as of the cut-off, forecast
    from the history before it, or the true expected demand with ``oracle``), then replay the plan and a
    tuned min/max on the true, uncensored demand."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    from model.inventory.planner import evaluate_plan, inventory_plan
    from model.ssot import derived
    from model.ssot.demo import generate
    from model.ssot.ingest import ingest_manifest
    from model.ssot.store import open_store
    from scenarios.schema import InventoryConfig
    fresh = not (root / "ssot.duckdb").exists()
    if fresh:
        generate(root / "raw", skus=skus, years=3.0, seed=seed)
    con = open_store(root / "ssot.duckdb")
    try:
        if fresh:
            ingest_manifest(con, root / "raw" / "sources.yaml")
        hist = derived.demand_history(con, "W", "sku")
        last = pd.to_datetime(hist["period_start"]).max()
        start = last - pd.Timedelta(weeks=weeks)                # the last (possibly partial) week is left out
        truth = pd.read_parquet(root / "raw" / "ground_truth" / "demand.parquet",
                                columns=["date", "sku_id", "demand", "expected"])
        truth["week"] = pd.to_datetime(truth["date"]).dt.to_period("W-SUN").dt.start_time
        cfg = InventoryConfig(order_cost=order_cost, budget_share_of_baseline=budget_share, time_limit_s=120,
                              evaluation_samples=100)
        fc = oracle_forecast(truth, start, weeks) if oracle else demo_forecast(hist, start, weeks)
        out = inventory_plan(con, cfg, fc, horizon=weeks, workers=1, seed=seed,
                             as_of=(start - pd.Timedelta(days=1)).date())
    finally:
        con.close()
    wk = truth[(truth["week"] >= start) & (truth["week"] < start + pd.Timedelta(weeks=weeks))]
    ids = out.result.prepared.data.skus["sku_id"]
    true = (wk.groupby(["sku_id", "week"])["demand"].sum().unstack(fill_value=0)
            .reindex(index=ids, columns=pd.date_range(start, periods=weeks, freq="7D"), fill_value=0))
    ev = evaluate_plan(out.result, out.reorder, cfg.service_level, true.to_numpy(float)[None])
    sample_ev = out.summary["evaluation"]
    shifts = (sample_ev["plan_tuned"]["k"], sample_ev["minmax_tuned"]["k"])
    ev_oos = evaluate_plan(out.result, out.reorder, cfg.service_level, true.to_numpy(float)[None], shifts=shifts)
    cash = out.tables["plan_cash"]
    return {"skus": len(ids), "weeks": weeks, "cutoff": str(start.date()), "order_cost": order_cost,
            "forecast": "oracle" if oracle else "mean26",
            "gap": out.summary["gap"], "evaluation_true_demand": ev,
            "evaluation_true_demand_calibrated_on_samples": ev_oos,
            "evaluation_forecast_samples": out.summary["evaluation"],
            "plan_cash_max_over_budget": float((cash["cash_tied_up"] / cash["budget"]).max())
            if cash["budget"].notna().any() else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 10_000, 50_000])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=float, help="wall-clock limit per size, s (default per size)")
    ap.add_argument("--demo", type=Path, help="folder for a demo business: backtest decision quality instead")
    ap.add_argument("--skus", type=int, default=500)
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--order-cost", type=float, default=25.0)
    ap.add_argument("--budget-share", type=float, default=None)
    ap.add_argument("--oracle", action="store_true", help="plan on the true expected demand (no forecast error)")
    a = ap.parse_args()
    if a.demo:
        print(json.dumps(demo_backtest(a.demo, a.skus, 7, a.weeks, a.order_cost, a.budget_share, a.oracle), indent=1,
                         default=float))
        return
    if a.one:
        print(json.dumps(one(a.one, a.workers, a.limit or LIMITS.get(a.one, 120.0)), default=float))
        return
    rows = []
    for n in a.sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--workers", str(a.workers)]
        if a.limit:
            cmd += ["--limit", str(a.limit)]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        if res.returncode:
            print(f"{n} SKUs failed:\n{res.stderr[-2000:]}")
            continue
        row = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{n:>6} SKUs x 52 wk: wall {row['wall_s']:7.1f}s ({row['wall_over_limit']:.0%} of limit) "
              f"cpu {row['cpu_s']:7.1f}s  gap {row['gap']:.3%}  iterations {row['iterations']:3d}  "
              f"peak {row['peak_rss_mb']:.0f} MB  binding weeks {row['binding_weeks']}", flush=True)
        if "milp_objective" in row:
            mg = row["milp_gap"]
            print(f"        monolithic MILP, same limit: {row['milp_status']} cost {row['milp_objective']} "
                  f"gap {'n/a' if mg is None else f'{mg:.1%}'} -> decomposition/MILP cost = "
                  f"{row['decomposition_over_milp']}", flush=True)
    base = next((r for r in rows if r["skus"] == 1000), None)
    if base:
        for r in rows:
            print(f"  {r['skus']:>6} SKUs: wall per SKU x{(r['wall_s'] / r['skus']) / (base['wall_s'] / 1000):.2f} "
                  f"of the 1,000-SKU run")
    print(json.dumps(rows, default=float))


if __name__ == "__main__":
    main()
