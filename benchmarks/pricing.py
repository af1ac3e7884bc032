"""Pricing program at catalogue scale: 5,000 SKUs × 13 weeks × 12 ladder prices (780,000 binaries).

Prints build + solve seconds, the certified optimality gap, peak memory, and — as the reference measured in
the same run — the monolithic Pyomo/HiGHS program on a sub-catalogue (its objective must equal the
decomposition's on that sub-catalogue; its seconds per binary give the speed-up ratio).

    python benchmarks/pricing.py [--skus 5000] [--weeks 13] [--ladder 12] [--reference-skus 150] [--workers 1]
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

from model.pricing.instance import make_instance
from model.pricing.plan import plan_prices
from model.pricing.program import solve_program
from scenarios.schema.pricing import PricingConfig
from solvers import SolveOptions


def catalogue(n_skus: int, n_weeks: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic catalogue: 10 % of SKUs in price families of 3, 10 % flagged slow movers (overstocked),
    competitor prices around the list price, weekly base demand with seasonality."""
    rng = np.random.default_rng(seed)
    lp = np.floor(np.exp(rng.normal(np.log(20), 0.6, n_skus))) + 0.99
    fam = np.where(np.arange(n_skus) < n_skus // 10, np.arange(n_skus) // 3, -1)
    skus = pd.DataFrame({
        "sku_id": [f"S{i:06d}" for i in range(n_skus)], "list_price": lp,
        "elasticity": rng.uniform(-3.5, -1.2, n_skus),
        "family": [f"F{f}" if f >= 0 else None for f in fam], "clearance": rng.random(n_skus) < 0.1,
    })
    first = skus.groupby(skus["family"].fillna(skus["sku_id"]))["list_price"].transform("first")
    skus["list_price"] = skus["current_price"] = first
    skus["unit_cost"] = np.round(first * rng.uniform(0.4, 0.7, n_skus), 2)
    base = np.exp(rng.normal(np.log(30), 1.0, n_skus))
    # flagged SKUs are overstocked: 1–2 × the horizon's demand at the current price (slow movers)
    skus["stock"] = np.where(skus["clearance"], base * n_weeks * rng.uniform(1.0, 2.0, n_skus), np.nan)
    season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(n_weeks) / 52)
    weeks = pd.DataFrame({"sku_id": np.repeat(skus["sku_id"].to_numpy(), n_weeks),
                          "week_start": np.tile(np.arange(n_weeks), n_skus),
                          "base_units": (base[:, None] * season[None, :]).ravel()})
    comp = skus["list_price"].to_numpy()[:, None] * np.exp(rng.normal(0, 0.05, (n_skus, n_weeks)))
    weeks["competitor_price"] = comp.ravel()
    return skus, weeks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=5000)
    ap.add_argument("--weeks", type=int, default=13)
    ap.add_argument("--ladder", type=int, default=12)
    ap.add_argument("--reference-skus", type=int, default=150)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    cfg = PricingConfig(horizon_weeks=a.weeks, ladder_steps=a.ladder, clearance_week=a.weeks,
                        price_endings=[], min_margin=0.1, mip_rel_gap=0.005, time_limit_s=25.0)
    skus, weeks = catalogue(a.skus, a.weeks)
    t0 = time.perf_counter()
    plan, stats = plan_prices(skus, weeks, cfg, workers=a.workers)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # reference: the monolithic Pyomo + HiGHS program on a sub-catalogue, same process
    sub = skus.iloc[: a.reference_skus]
    rsk, rwk = sub, weeks[weeks["sku_id"].isin(sub["sku_id"])]
    inst = make_instance(rsk, rwk, cfg)
    t1 = time.perf_counter()
    _, res = solve_program(inst, SolveOptions(time_limit_s=300, mip_rel_gap=1e-6))
    ref_wall = time.perf_counter() - t1
    ref_cfg = cfg.model_copy(update={"mip_rel_gap": 1e-6})
    t2 = time.perf_counter()
    _, sub_stats = plan_prices(rsk, rwk, ref_cfg)
    sub_wall = time.perf_counter() - t2
    ref_bin = int(np.isfinite(inst.sku_prices()).sum() * inst.shape[1])
    out = {
        "skus": a.skus, "weeks": a.weeks, "ladder": a.ladder, "binaries": stats["binaries"],
        "seconds_build_and_solve": round(wall, 2), "gap": stats["gap"], "peak_rss_mb": round(peak_mb),
        "units_polished": stats["units_polished"], "infeasible_units": stats["infeasible_units"],
        "flagged_skus": int(skus["clearance"].sum()),
        "markdown_skus": int(plan.loc[plan["markdown"] == "clear", "sku_id"].nunique()),
        "liquidation_skus": int(plan.loc[plan["markdown"] == "liquidate", "sku_id"].nunique()),
        "reference_skus": a.reference_skus, "reference_binaries": ref_bin,
        "reference_pyomo_seconds": round(ref_wall, 2), "reference_objective": res.objective,
        "decomposition_objective_on_reference": sub_stats["objective"],
        "decomposition_seconds_on_reference": round(sub_wall, 3),
        "objective_ratio_decomposition_vs_pyomo": sub_stats["objective"] / res.objective,
        "speedup_per_binary_vs_pyomo": (ref_wall / ref_bin) / (wall / stats["binaries"]),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
