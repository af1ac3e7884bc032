"""The pricing stage end to end on an SSOT: history → response model → planning inputs → plan → summary.

Shared by ``run.py plan --only pricing`` (:mod:`model.pricing.commands`) and the annual study
(:mod:`model.pricing.stage`); they differ only in where the baseline demand comes from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.pricing.evaluate import margin_change_draws
from model.pricing.inputs import load_history, planning_inputs
from model.pricing.plan import plan_prices
from model.pricing.response import estimate_response
from scenarios.schema.pricing import PricingConfig


@dataclass
class PricingOutcome:
    plan: pd.DataFrame            # plan_prices: one row per SKU × week
    elasticities: pd.DataFrame    # price_elasticities: one row per SKU
    summary: dict                 # JSON-able KPIs
    solve: dict                   # decomposition statistics (bounds, gap, seconds)


def confidence_label(se: pd.Series, held: pd.Series) -> pd.Series:
    """``high`` (se < 0.3), ``medium`` (< 0.7), ``low``; ``held`` when the price is not optimised
    (``price_plan`` labels markdowns priced on the category's pooled elasticity ``category``)."""
    lab = pd.Series(np.select([se < 0.3, se < 0.7], ["high", "medium"], "low"), index=se.index)
    return lab.where(~held, "held")


def price_plan(con, cfg: PricingConfig, baseline: pd.DataFrame | None = None, workers: int = 1,
               seed: int = 0) -> PricingOutcome:
    """Estimate, plan and summarise. ``baseline``: ``sku_id, week_start, base_units`` (units at the current
    price per week, e.g. the forecast's mean) or ``None`` for the recent weekly mean."""
    history = load_history(con)
    est = estimate_response(history, min_obs=cfg.min_observations, min_price_sd=cfg.min_price_variation,
                            confidence=cfg.confidence)
    skus, weeks = planning_inputs(con, history, est, cfg, baseline)
    plan, solve = plan_prices(skus, weeks, cfg, workers=workers)
    info = skus[["sku_id", "hold", "clearance", "flag_reason", "cover_weeks", "stock", "elasticity_source",
                 "elasticity_se"]].merge(
        est[["sku_id", "category", "elasticity", "se", "se_raw", "weight_own", "category_se"]], on="sku_id",
        how="left")
    pooled = (info["elasticity_source"] == "category_pooled").to_numpy()
    used = skus.set_index("sku_id")["elasticity"].reindex(info["sku_id"]).to_numpy()
    info.loc[pooled, "elasticity"] = used[pooled]      # the category's pooled elasticity the markdown used
    for c in ("se", "se_raw"):
        info.loc[pooled, c] = info.loc[pooled, "elasticity_se"]
    info.loc[pooled, "weight_own"] = 1.0               # its uncertainty is drawn per SKU (spread + mean's se)
    info["confidence"] = confidence_label(info["se"], info["hold"]).where(~pooled, "category")
    info = info.drop(columns=["elasticity_se"])
    plan = plan.merge(info.drop(columns=["hold"]), on="sku_id", how="left")
    draws = margin_change_draws(plan.assign(elasticity=plan["elasticity"].where(~plan["sku_id"].isin(
        skus.loc[skus["hold"], "sku_id"]))), n_draws=400, seed=seed)
    return PricingOutcome(plan, est, summarize(plan, est, solve, draws, cfg), solve)


def summarize(plan: pd.DataFrame, est: pd.DataFrame, solve: dict, draws: np.ndarray, cfg: PricingConfig) -> dict:
    """Headline figures: changes vs current prices (with a 90 % interval over the elasticity posterior),
    SKUs priced / held, binding constraints, markdown clearance and the solve's gap and time."""
    tot = plan[["margin", "base_margin", "revenue", "base_revenue", "expected_units", "base_units"]].sum()
    change = lambda a, b: float(tot[a] / tot[b] - 1) if tot[b] else None
    first = plan.sort_values("week_start").groupby("sku_id").first()
    md = markdown_figures(plan, cfg)
    return {
        "skus": int(plan["sku_id"].nunique()), "weeks": int(plan["week_start"].nunique()),
        "identifiable": int(est["identifiable"].sum()), "held": int((first["confidence"] == "held").sum()),
        "price_changed_week1": int((~np.isclose(first["price"], first["current_price"])).sum()),
        "margin_change": change("margin", "base_margin"),
        "margin_change_lo90": float(np.quantile(draws, 0.05)), "margin_change_hi90": float(np.quantile(draws, 0.95)),
        "revenue_change": change("revenue", "base_revenue"), "units_change": change("expected_units", "base_units"),
        "binding_skus": first["binding"].value_counts().to_dict(),
        **md,
        "gap": solve["gap"], "solve_seconds": solve["seconds_max_partition"], "binaries": solve["binaries"],
        "infeasible_units": solve["infeasible_units"],
    }


def markdown_figures(plan: pd.DataFrame, cfg: PricingConfig) -> dict:
    """Expected clearance by the target week (units sold, capped at each SKU's stock, over its stock).

    ``markdown_skus`` / ``markdown_cleared_share``: every flagged SKU (stock beyond
    ``slow_mover_cover_weeks`` of demand, or end of life). By why it was flagged (``flag_reason``):
    ``slow_mover_*`` — slow movers and end-of-life stock; ``excess_*`` — over ``excess_cover_weeks`` of
    supply. By the decision: ``markdown_clear_*`` — the flagged SKUs marked down (``markdown == "clear"``);
    ``liquidation_*`` — the others (``liquidate``, or ``sell_down`` when sold down first): units the plan
    does not expect to sell by the target and their value at unit cost (recommendation: liquidate or
    write off).
    """
    weeks = np.sort(plan["week_start"].unique())
    window = plan[plan["week_start"] <= weeks[min(cfg.clearance_week, len(weeks)) - 1]]
    sold = window.groupby("sku_id")["expected_units"].sum()
    per = plan.groupby("sku_id").first()
    per["sold"] = sold.reindex(per.index).fillna(0.0)
    share = lambda rows: (float(np.minimum(rows["sold"], rows["stock"]).sum() / rows["stock"].sum())
                          if len(rows) and rows["stock"].sum() > 0 else None)
    flagged = per[per["clearance"].fillna(False).astype(bool)]
    clear, liq = flagged[flagged["markdown"] == "clear"], flagged[flagged["markdown"].isin(["liquidate", "sell_down"])]
    reason = flagged["flag_reason"] if "flag_reason" in flagged else pd.Series("slow_mover", index=flagged.index)
    slow, excess = flagged[reason.isin(["slow_mover", "end_of_life"])], flagged[reason == "excess"]
    return {"markdown_skus": int(len(flagged)), "markdown_cleared_share": share(flagged),
            "slow_mover_skus": int(len(slow)), "slow_mover_cleared_share": share(slow),
            "excess_skus": int(len(excess)), "excess_cleared_share": share(excess),
            "excess_stock_share": (float(excess["stock"].sum() / flagged["stock"].sum())
                                   if len(flagged) and flagged["stock"].sum() > 0 else None),
            "markdown_clear_skus": int(len(clear)), "markdown_clear_share": share(clear),
            "liquidation_skus": int(len(liq)), "liquidation_units": float(liq["liquidate_units"].sum()),
            "liquidation_value_at_cost": float((liq["liquidate_units"] * liq["unit_cost"]).sum())}
