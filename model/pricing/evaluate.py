"""Honest evaluation of the pricing stage.

* :func:`margin_change_draws` — the plan's margin change vs current prices over draws of the elasticity
  posterior (the uncertainty a planner should see).
* :func:`evaluate_demo` — on the demo business, where the true response is known: elasticity error and
  interval coverage, and the margin of the optimised prices under the TRUE elasticities vs current prices,
  with floor/band violations and markdown clearance.
* :func:`evaluate_stallion` — on the real stallion data: estimates with intervals and the expected margin
  change with its uncertainty (unit costs are not in the data: an assumed cost ratio, stated).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def margin_change_draws(plan: pd.DataFrame, n_draws: int = 400, seed: int = 0) -> np.ndarray:
    """Relative change of total gross margin, planned vs current prices, per posterior draw.

    Draw ``e_d ~ N(ê_s, se_s²)`` per SKU; units at the planned price ``p`` are ``base·(p/p0)^{e_d}`` and
    margin ``Σ (p − c)·units`` against ``Σ (p0 − c)·base``. SKUs with NaN elasticity (held) keep ``p0``.
    ``plan`` needs ``sku_id, price, current_price, unit_cost, base_units, elasticity, se``.
    """
    rng = np.random.default_rng(seed)
    skus, idx = np.unique(plan["sku_id"].to_numpy(), return_inverse=True)
    first = plan.groupby("sku_id")[["elasticity", "se"]].first().reindex(skus)
    e = first["elasticity"].to_numpy(float)[:, None] + first["se"].fillna(0).to_numpy(float)[:, None] * \
        rng.standard_normal((len(skus), n_draws))
    held = ~np.isfinite(first["elasticity"].to_numpy(float))
    e[held] = 0.0
    p, p0 = plan["price"].to_numpy(float), plan["current_price"].to_numpy(float)
    c, base = plan["unit_cost"].to_numpy(float), plan["base_units"].to_numpy(float)
    ratio = np.where(held[idx], 1.0, p / p0)
    units = base[:, None] * ratio[:, None] ** e[idx]
    new = ((np.where(held[idx], p0, p) - c)[:, None] * units).sum(axis=0)
    old = ((p0 - c) * base).sum()
    return new / old - 1.0


def estimation_error(est: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Median absolute error and interval coverage of pooled (and raw) elasticities vs the truth, over the
    identifiable SKUs. ``truth``: ``sku_id, elasticity``."""
    m = est.merge(truth[["sku_id", "elasticity"]], on="sku_id", suffixes=("", "_true"))
    ok = m[m["identifiable"]]
    lo, hi = est.filter(regex=r"^lo\d+$").columns[0], est.filter(regex=r"^hi\d+$").columns[0]
    err = (ok["elasticity"] - ok["elasticity_true"]).abs()
    return {"skus": int(len(m)), "identifiable": int(len(ok)),
            "median_abs_error": float(err.median()),
            "median_abs_error_raw": float((ok["elasticity_raw"] - ok["elasticity_true"]).abs().median()),
            "coverage": float(((ok[lo] <= ok["elasticity_true"]) & (ok["elasticity_true"] <= ok[hi])).mean()),
            "median_error": float((ok["elasticity"] - ok["elasticity_true"]).median())}


def true_margin_change(plan: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Gross margin of the planned prices under the TRUE elasticities vs the current prices.

    Units at price ``p``: ``base·(p/p0)^{e_true}`` (the baseline at the current price is common to both, so
    the comparison isolates the price decision). Returns the relative change overall and for the SKUs
    whose price was moved, and the number of SKUs losing margin.
    """
    e = plan["sku_id"].map(truth.set_index("sku_id")["elasticity"]).to_numpy(float)
    p, p0 = plan["price"].to_numpy(float), plan["current_price"].to_numpy(float)
    c, base = plan["unit_cost"].to_numpy(float), plan["base_units"].to_numpy(float)
    new, old = (p - c) * base * (p / p0) ** e, (p0 - c) * base
    by_sku = pd.DataFrame({"sku_id": plan["sku_id"], "new": new, "old": old,
                           "moved": ~np.isclose(p, p0)}).groupby("sku_id").agg(
        new=("new", "sum"), old=("old", "sum"), moved=("moved", "any"))
    moved = by_sku[by_sku["moved"]]
    return {"margin_change_true": float(by_sku["new"].sum() / by_sku["old"].sum() - 1),
            "margin_change_true_moved_skus": float(moved["new"].sum() / moved["old"].sum() - 1) if len(moved) else 0.0,
            "skus_moved": int(len(moved)), "skus_losing_margin": int((moved["new"] < moved["old"] - 1e-9).sum())}


def rule_violations(plan: pd.DataFrame, cfg) -> dict:
    """SKU-weeks whose planned price breaks its margin floor or competitor band (held prices apart; markdown
    SKUs have the markdown floor and no lower band)."""
    moved = plan["confidence"] != "held"
    markdown = plan["clearance"].fillna(False).astype(bool)
    floor = np.where(markdown, cfg.markdown_min_margin, cfg.min_margin)
    margin = (plan["price"] - plan["unit_cost"]) / plan["price"]
    idx, lowest = plan["price_index"], np.where(markdown, 0.0, cfg.competitor_index_min)
    band = idx.notna() & ((idx < lowest - 1e-9) | (idx > cfg.competitor_index_max + 1e-9))
    feasible = ~plan["binding"].astype(str).str.startswith("infeasible")
    return {"below_margin_floor": int((moved & feasible & (margin < floor - 1e-9)).sum()),
            "outside_competitor_band": int((moved & feasible & band).sum()),
            "infeasible_skus": int(plan.loc[~feasible, "sku_id"].nunique())}


def markdown_clearance_true(plan: pd.DataFrame, truth: pd.DataFrame, clearance_week: int) -> dict:
    """Share of flagged SKUs' stock sold by the target week under the TRUE elasticities."""
    flagged = plan[plan["clearance"].fillna(False).astype(bool)]
    if flagged.empty:
        return {"markdown_skus": 0, "cleared_share_true": None}
    weeks = sorted(plan["week_start"].unique())[:clearance_week]
    w = flagged[flagged["week_start"].isin(weeks)]
    e = w["sku_id"].map(truth.set_index("sku_id")["elasticity"]).to_numpy(float)
    units = w["base_units"].to_numpy(float) * (w["price"] / w["current_price"]).to_numpy(float) ** e
    sold = pd.Series(units, index=w["sku_id"].to_numpy()).groupby(level=0).sum()
    stock = flagged.groupby("sku_id")["stock"].first()
    return {"markdown_skus": int(len(stock)),
            "cleared_share_true": float(np.minimum(sold, stock.reindex(sold.index)).sum() / stock.sum()),
            "cleared_share_without_markdown": float(np.minimum(
                w.groupby("sku_id")["base_units"].sum(), stock).sum() / stock.sum())}


def evaluate_demo(con, ground_truth_dir, cfg, workers: int = 1, seed: int = 0) -> dict:
    """All demo figures: estimation error, TRUE-response margin change, rule violations, markdown clearance."""
    from pathlib import Path

    from model.pricing.planner import price_plan
    truth = pd.read_csv(Path(ground_truth_dir) / "sku_truth.csv")
    out = price_plan(con, cfg, workers=workers, seed=seed)
    varies = truth[truth["price_varies"].astype(bool)] if "price_varies" in truth else truth
    return {"estimation": estimation_error(out.elasticities, varies), **true_margin_change(out.plan, truth),
            "margin_change_planned": out.summary["margin_change"],
            "margin_change_planned_lo90": out.summary["margin_change_lo90"],
            "margin_change_planned_hi90": out.summary["margin_change_hi90"],
            **rule_violations(out.plan, cfg), **markdown_clearance_true(out.plan, truth, cfg.clearance_week),
            "gap": out.summary["gap"], "solve_seconds": out.summary["solve_seconds"]}
