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

    The pooled posterior of SKU ``s`` in category ``g`` is ``ê_s = (1 − B_s)·ê_raw + B_s·m_g``; its error has
    a part shared by the category (``B_s·(m_g − m)``, sd ``B_s·se_g``) and an own part (sd
    ``√((1 − B_s)·σ_s²)``), so draws are ``e = ê + B·se_g·z_g + √((1 − B)·σ²)·z_s`` with one ``z_g`` per
    category and draw — errors of a category's SKUs move together, as they do when the category mean is off.
    Units at the planned price ``p`` are ``base·(p/p0)^e``, margin ``Σ (p − c)·units`` against
    ``Σ (p0 − c)·base``. SKUs with NaN elasticity (held) keep ``p0``. ``plan`` needs ``sku_id, category,
    price, current_price, unit_cost, base_units, elasticity`` and ``se_raw, weight_own, category_se`` (else
    ``se``, drawn independently).
    """
    rng = np.random.default_rng(seed)
    skus, idx = np.unique(plan["sku_id"].to_numpy(), return_inverse=True)
    first = plan.groupby("sku_id").first().reindex(skus)
    e_hat = first["elasticity"].to_numpy(float)
    held = ~np.isfinite(e_hat)
    if {"se_raw", "weight_own", "category_se"} <= set(first.columns):
        w = first["weight_own"].fillna(1.0).to_numpy(float)
        own_sd = np.sqrt(w * first["se_raw"].fillna(0).to_numpy(float) ** 2)
        shared_sd = (1 - w) * first["category_se"].fillna(0).to_numpy(float)
    else:
        own_sd, shared_sd = first["se"].fillna(0).to_numpy(float), np.zeros(len(skus))
    cats, cat_idx = np.unique(first["category"].astype(str).to_numpy(), return_inverse=True)
    z_g = rng.standard_normal((len(cats), n_draws))[cat_idx]
    e = e_hat[:, None] + shared_sd[:, None] * z_g + own_sd[:, None] * rng.standard_normal((len(skus), n_draws))
    e[held] = 0.0
    p, p0 = plan["price"].to_numpy(float), plan["current_price"].to_numpy(float)
    c, base = plan["unit_cost"].to_numpy(float), plan["base_units"].to_numpy(float)
    p = np.where(held[idx], p0, p)
    units = base[:, None] * (p / p0)[:, None] ** e[idx]
    return ((p - c)[:, None] * units).sum(axis=0) / ((p0 - c) * base).sum() - 1.0


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
    the comparison isolates the price decision); with ``stock`` and ``clearance`` columns, a flagged SKU's
    sales (planned and current prices alike) stop when its stock runs out. Returns the relative change
    overall and for the SKUs whose price was moved, and the number of SKUs losing margin.
    """
    if "week_start" in plan:
        plan = plan.sort_values(["sku_id", "week_start"], kind="stable")
    e = plan["sku_id"].map(truth.set_index("sku_id")["elasticity"]).to_numpy(float)
    p, p0 = plan["price"].to_numpy(float), plan["current_price"].to_numpy(float)
    c, base = plan["unit_cost"].to_numpy(float), plan["base_units"].to_numpy(float)
    q_new, q_old = _within_stock(plan, base * (p / p0) ** e), _within_stock(plan, base)
    new, old = (p - c) * q_new, (p0 - c) * q_old
    by_sku = pd.DataFrame({"sku_id": plan["sku_id"], "new": new, "old": old,
                           "moved": ~np.isclose(p, p0)}).groupby("sku_id").agg(
        new=("new", "sum"), old=("old", "sum"), moved=("moved", "any"))
    moved = by_sku[by_sku["moved"]]
    return {"margin_change_true": float(by_sku["new"].sum() / by_sku["old"].sum() - 1),
            "margin_change_true_moved_skus": float(moved["new"].sum() / moved["old"].sum() - 1) if len(moved) else 0.0,
            "skus_moved": int(len(moved)), "skus_losing_margin": int((moved["new"] < moved["old"] - 1e-9).sum())}


def _within_stock(plan: pd.DataFrame, units: np.ndarray) -> np.ndarray:
    """Weekly units (rows sorted by SKU and week) cut where a flagged SKU's cumulative sales reach its stock."""
    if not {"stock", "clearance", "week_start"} <= set(plan.columns):
        return units
    cap = np.where(plan["clearance"].fillna(False).astype(bool), plan["stock"].fillna(np.inf), np.inf)
    cum = pd.Series(units, index=plan.index).groupby(plan["sku_id"].to_numpy()).cumsum().to_numpy()
    done = np.minimum(cum, cap)
    return done - np.minimum(cum - units, cap)


def rule_violations(plan: pd.DataFrame, cfg) -> dict:
    """SKU-weeks whose planned price breaks its margin floor or competitor band (held prices apart; markdown
    SKUs have the markdown floor and no lower band)."""
    moved = plan["confidence"] != "held"
    markdown = (plan["markdown"].isin(["clear", "sell_down"]) if "markdown" in plan
                else plan["clearance"].fillna(False).astype(bool))
    floor = np.where(markdown, cfg.markdown_min_margin, cfg.min_margin)
    margin = (plan["price"] - plan["unit_cost"]) / plan["price"]
    idx, lowest = plan["price_index"], np.where(markdown, 0.0, cfg.competitor_index_min)
    band = idx.notna() & ((idx < lowest - 1e-9) | (idx > cfg.competitor_index_max + 1e-9))
    feasible = ~plan["binding"].astype(str).str.startswith("infeasible")
    return {"below_margin_floor": int((moved & feasible & (margin < floor - 1e-9)).sum()),
            "outside_competitor_band": int((moved & feasible & band).sum()),
            "infeasible_skus": int(plan.loc[~feasible, "sku_id"].nunique())}


def markdown_clearance_true(plan: pd.DataFrame, truth: pd.DataFrame, cfg) -> dict:
    """Share of stock sold by the target week under the TRUE elasticities (units capped at each SKU's stock,
    summed, over the summed stock), for three sets of SKUs:

    * ``cleared_share_true`` — every flagged SKU (the planner's flag: stock beyond
      ``slow_mover_cover_weeks`` of demand, or end of life), markdown or liquidation candidate alike; split
      by the flag's reason into ``cleared_share_true_slow_movers`` (slow movers and end of life) and
      ``cleared_share_true_excess`` (over ``excess_cover_weeks`` of supply);
    * ``cleared_share_true_markdown`` — the flagged SKUs the planner marks down (``markdown == "clear"``: its
      estimated response says an allowed price path sells ``clearance_share`` of the stock by the target);
    * ``cleared_share_true_clearable`` — the flagged SKUs that truly can be cleared: TRUE demand at their
      lowest allowed markdown price (``max(p0·(1 + markdown_ladder_min), c/(1 − markdown_min_margin))``)
      reaches ``clearance_share`` of the stock in the window (an oracle set, for reference).
    """
    flagged = plan[plan["clearance"].fillna(False).astype(bool)]
    if flagged.empty:
        return {"markdown_skus": 0, "cleared_share_true": None}
    w = flagged[flagged["week_start"].isin(sorted(plan["week_start"].unique())[:cfg.clearance_week])]
    e = w["sku_id"].map(truth.set_index("sku_id")["elasticity"]).to_numpy(float)
    p_min = np.maximum(w["current_price"] * (1 + cfg.markdown_ladder_min),
                       w["unit_cost"] / (1 - cfg.markdown_min_margin)).to_numpy(float)
    base, p0 = w["base_units"].to_numpy(float), w["current_price"].to_numpy(float)
    frame = pd.DataFrame({"sold": base * (w["price"].to_numpy(float) / p0) ** e, "most": base * (p_min / p0) ** e,
                          "none": base}, index=w["sku_id"].to_numpy()).groupby(level=0).sum()
    frame["stock"] = flagged.groupby("sku_id")["stock"].first()
    frame["markdown"] = flagged.groupby("sku_id")["markdown"].first() if "markdown" in flagged else "clear"
    frame["reason"] = (flagged.groupby("sku_id")["flag_reason"].first() if "flag_reason" in flagged
                       else "slow_mover")
    share = lambda col, rows: float(np.minimum(rows[col], rows["stock"]).sum() / rows["stock"].sum()) \
        if len(rows) else None
    clearable = frame[frame["most"] >= cfg.clearance_share * frame["stock"]]
    marked = frame[frame["markdown"] == "clear"]
    liq = frame[frame["markdown"].isin(["liquidate", "sell_down"])]
    slow, excess = frame[frame["reason"].isin(["slow_mover", "end_of_life"])], frame[frame["reason"] == "excess"]
    return {"markdown_skus": int(len(frame)), "cleared_share_true": share("sold", frame),
            "slow_mover_skus": int(len(slow)), "cleared_share_true_slow_movers": share("sold", slow),
            "excess_skus": int(len(excess)), "cleared_share_true_excess": share("sold", excess),
            "excess_stock_share": float(excess["stock"].sum() / frame["stock"].sum()),
            "cleared_share_without_markdown": share("none", frame),
            "markdown_clear_skus": int(len(marked)), "markdown_clear_stock_share": float(
                marked["stock"].sum() / frame["stock"].sum()),
            "cleared_share_true_markdown": share("sold", marked),
            "markdown_clear_skus_reaching_target": int((np.minimum(marked["sold"], marked["stock"])
                                                        >= cfg.clearance_share * marked["stock"] - 1e-9).sum()),
            "liquidation_skus": int(len(liq)), "liquidation_stock_sold_true": share("sold", liq),
            "clearable_skus": int(len(clearable)), "cleared_share_true_clearable": share("sold", clearable),
            "clearable_marked_down": int((clearable["markdown"] == "clear").sum()),
            **_by_truth_class(frame, truth, share)}


def _by_truth_class(frame: pd.DataFrame, truth: pd.DataFrame, share) -> dict:
    """Flagged SKUs by their TRUE class (demo ground truth: popularity fast | medium | slow | dead_stock,
    lifecycle eol): SKUs, share of flagged stock, share cleared by the target under the TRUE response."""
    if not {"popularity", "lifecycle"} <= set(truth.columns):
        return {}
    t = truth.set_index("sku_id")
    cls = np.where(t["lifecycle"].reindex(frame.index).eq("eol"), "eol",
                   t["popularity"].reindex(frame.index).fillna("unknown").to_numpy())
    return {"flagged_by_true_class": {c: {"skus": int((cls == c).sum()),
                                          "stock_share": float(frame["stock"][cls == c].sum() / frame["stock"].sum()),
                                          "cleared_share_true": share("sold", frame[cls == c])}
                                      for c in sorted(set(cls))}}


def evaluate_demo(con, ground_truth_dir, cfg, workers: int = 1, seed: int = 0) -> dict:
    """All demo figures: estimation error, TRUE-response margin change, rule violations, markdown clearance."""
    from pathlib import Path

    from model.pricing.planner import price_plan
    truth = pd.read_csv(Path(ground_truth_dir) / "sku_truth.csv")
    out = price_plan(con, cfg, workers=workers, seed=seed)
    varies = truth[truth["price_varies"].astype(bool)] if "price_varies" in truth else truth
    regular = out.plan[~out.plan["clearance"].fillna(False).astype(bool)]
    return {"estimation": estimation_error(out.elasticities, varies), **true_margin_change(out.plan, truth),
            "regular_skus": {k: v for k, v in true_margin_change(regular, truth).items()},
            "margin_change_planned": out.summary["margin_change"],
            "margin_change_planned_lo90": out.summary["margin_change_lo90"],
            "margin_change_planned_hi90": out.summary["margin_change_hi90"],
            **rule_violations(out.plan, cfg), **markdown_clearance_true(out.plan, truth, cfg),
            "liquidation_units_planned": out.summary["liquidation_units"],
            "liquidation_value_at_cost": out.summary["liquidation_value_at_cost"],
            "gap": out.summary["gap"], "solve_seconds": out.summary["solve_seconds"]}


def stallion_history(path) -> pd.DataFrame:
    """Stallion (monthly beverage volume per agency × SKU) as a price history: one series per agency × SKU
    (``sku_id = "<agency>|<sku>"``), pooled by product (``category = sku``); the actual price already
    carries the discount, so there is no separate promotion regressor."""
    d = pd.read_parquet(path)
    return pd.DataFrame({
        "sku_id": d["agency"].astype(str) + "|" + d["sku"].astype(str), "category": d["sku"].astype(str),
        "period_start": pd.to_datetime(d["date"]), "units": d["volume"].astype(float),
        "avg_price": d["price_actual"].where(d["price_actual"] > 0).astype(float),  # 0 = not recorded
        "list_price": d["price_regular"].where(d["price_regular"] > 0).astype(float),
        "promo_share": 0.0})


def evaluate_stallion(path, cost_ratio: float = 0.6, recent_periods: int = 6, seed: int = 0) -> dict:
    """Elasticities with intervals on real data and the expected margin change of a 3-month plan with its
    uncertainty. Stallion has no unit costs: ``unit_cost = cost_ratio · regular price`` is an assumption."""
    from model.pricing.plan import plan_prices
    from model.pricing.response import estimate_response
    from scenarios.schema.pricing import PricingConfig
    h = stallion_history(path)
    est = estimate_response(h, min_obs=24)
    last = h.sort_values("period_start").groupby("sku_id").tail(recent_periods)
    state = last.groupby("sku_id").agg(current_price=("avg_price", "last"), regular=("list_price", "last"),
                                       base=("units", "mean"))
    cols = ["category", "elasticity", "se", "se_raw", "weight_own", "category_se", "identifiable"]
    skus = state.join(est.set_index("sku_id")[cols]).reset_index()
    skus = skus[skus["current_price"] > 0]
    hold = ~skus["identifiable"].astype(bool) | ~(skus["elasticity"] < 0)
    sk = pd.DataFrame({"sku_id": skus["sku_id"], "unit_cost": cost_ratio * skus["regular"],
                       "list_price": skus["current_price"], "current_price": skus["current_price"],
                       "elasticity": skus["elasticity"].where(~hold, 0.0), "hold": hold})
    months = pd.DataFrame({"sku_id": np.repeat(sk["sku_id"].to_numpy(), 3),
                           "week_start": np.tile(np.arange(3), len(sk)),
                           "base_units": np.repeat(skus["base"].to_numpy(), 3)})
    cfg = PricingConfig(horizon_weeks=3, clearance_week=3, price_endings=[])
    plan, stats = plan_prices(sk, months, cfg)
    plan = plan.merge(skus[["sku_id", *cols[:-1]]], on="sku_id")
    plan.loc[plan["sku_id"].isin(sk.loc[hold, "sku_id"]), "elasticity"] = np.nan
    draws = margin_change_draws(plan, n_draws=1000, seed=seed)
    by_product = est[est["identifiable"]].groupby("category").agg(
        series=("sku_id", "size"), elasticity_median=("elasticity", "median"), se_median=("se", "median"),
        pooled_mean=("category_mean", "first"))
    return {"series": int(est["sku_id"].nunique()), "identifiable": int(est["identifiable"].sum()),
            "elasticity_median": float(est.loc[est["identifiable"], "elasticity"].median()),
            "interval_width_median": float((est["hi90"] - est["lo90"]).median()),
            "priced_series": int((~hold).sum()), "cost_ratio_assumed": cost_ratio,
            "margin_change_expected": float(draws.mean()), "margin_change_lo90": float(np.quantile(draws, 0.05)),
            "margin_change_hi90": float(np.quantile(draws, 0.95)), "gap": stats["gap"],
            "by_product": by_product.round(3).reset_index().to_dict("records")}


def main(argv: list[str] | None = None) -> None:
    """``python -m model.pricing.evaluate [--db SSOT --truth GROUND_TRUTH_DIR] [--stallion PARQUET]``."""
    import argparse
    import json

    from model.ssot.store import open_store
    from scenarios.schema.pricing import PricingConfig
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--db")
    ap.add_argument("--truth")
    ap.add_argument("--stallion")
    a = ap.parse_args(argv)
    out = {}
    if a.db and a.truth:
        con = open_store(a.db, read_only=True)
        out["demo"] = evaluate_demo(con, a.truth, PricingConfig())
        con.close()
    if a.stallion:
        out["stallion"] = evaluate_stallion(a.stallion)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
