"""From tidy inputs to a tidy price plan: build the instance, solve it, explain each choice.

:func:`solve_plan` works on one partition (any set of whole price families); :func:`plan_partition` is the
same as a plain DataFrame → DataFrame function; :func:`plan_prices` fans partitions out with
:func:`model.fanout.map_groups` (local processes, or Spark ``applyInPandas``).
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from model.fanout import map_groups
from model.pricing.decompose import PlanSolution, solve_decomposed
from model.pricing.instance import PricingInstance, make_instance
from scenarios.schema.pricing import PricingConfig

PLAN_COLUMNS = ["sku_id", "price_unit", "week_start", "price", "current_price", "unit_cost", "expected_units",
                "revenue", "margin", "base_units", "base_revenue", "base_margin", "competitor_price",
                "price_index", "binding", "markdown", "clear_max_units", "clear_confidence", "liquidate_units"]


def binding_reasons(inst: PricingInstance, sol: PlanSolution, sold: np.ndarray, cleared: np.ndarray) -> np.ndarray:
    """[S,T] the rule that moves each SKU-week away from its own best ladder price.

    The first that applies, in this order: ``held`` (not identifiable), ``none`` (own best price chosen),
    ``margin_floor`` / ``competitor_index`` (own best price breaks it), ``inventory`` / ``markdown_clearance``
    (row tight or priced by its multiplier), ``price_family`` (shares a price), else ``max_change``.
    """
    S, T, _ = inst.shape
    own = np.nan_to_num(inst.reward(), nan=-np.inf).argmax(axis=2)       # [S,T] own best ladder slot
    k = sol.choice[inst.unit_of]
    pick = lambda a: np.take_along_axis(a, own[:, :, None], axis=2)[:, :, 0]
    tight_inv = (sol.lam > 0) | (np.isfinite(inst.stock) & (sold >= inst.stock * (1 - 1e-6)))
    tight_clear = (sol.mu > 0) | ((inst.clear_units > 0) & (cleared <= inst.clear_units * (1 + 1e-6)))
    family = np.bincount(inst.unit_of)[inst.unit_of] > 1
    out = np.full((S, T), "max_change", dtype=object)
    rules = [(family[:, None], "price_family"), (tight_clear[:, None], "markdown_clearance"),
             (tight_inv[:, None], "inventory"), (~pick(inst.ok_index), "competitor_index"),
             (~pick(inst.ok_margin), "margin_floor"), (k == own, "none"), (inst.held[:, None], "held")]
    for cond, name in rules:                                            # later rules take precedence
        out = np.where(np.broadcast_to(cond, (S, T)), name, out)
    infeasible = np.isin(inst.unit_of, list(sol.infeasible))
    for s in np.flatnonzero(infeasible):
        out[s, :] = "infeasible:" + sol.infeasible[inst.unit_of[s]]
    return out


def plan_frame(inst: PricingInstance, sol: PlanSolution) -> pd.DataFrame:
    """Tidy plan, one row per SKU × week (infeasible units keep their current price). ``expected_units``
    (and revenue, margin) are expected sales: a stock-limited SKU's demand beyond its stock is not sold.

    Per SKU (repeated on its rows): ``markdown`` — ``clear`` (marked down toward the target), ``liquidate``
    (flagged, but no allowed price path sells ``clearance_share`` of its stock by the target week: regular
    rules), ``sell_down`` (such a SKU sold down on the markdown ladder first, ``liquidation_recovery``) or
    ``none``; ``clear_max_units`` — the most units any allowed path sells by the target (flagged SKUs);
    ``clear_confidence`` — about the probability a markdown meets its target under the elasticity's
    uncertainty (the cautious response it is planned on);
    ``liquidate_units`` — stock the plan does not expect to sell by the target week (liquidation candidates
    only: the liquidation or write-off recommendation)."""
    S, T, _ = inst.shape
    k = sol.choice[inst.unit_of]
    infeasible = k < 0
    kk = np.where(infeasible, 0, k)
    price = np.where(infeasible, inst.p0[:, None], np.take_along_axis(inst.sku_prices(), kk, axis=1))
    base = inst.base
    units = np.where(infeasible, base, np.take_along_axis(inst.units, kk[:, :, None], axis=2)[:, :, 0])
    cleared = np.take_along_axis(inst.clear_q, kk[:, :, None], axis=2)[:, :inst.clear_week, 0]
    units = np.diff(np.minimum(np.cumsum(units, axis=1), inst.stock[:, None]), axis=1, prepend=0.0)
    c = inst.cost[:, None]
    rep = lambda a: np.repeat(a, T)
    frame = pd.DataFrame({
        "sku_id": rep(inst.sku_ids), "price_unit": rep(inst.unit_ids[inst.unit_of]),
        "week_start": np.tile(inst.weeks, S), "price": price.ravel(), "current_price": rep(inst.p0),
        "unit_cost": rep(inst.cost), "expected_units": units.ravel(), "revenue": (price * units).ravel(),
        "margin": ((price - c) * units).ravel(), "base_units": base.ravel(),
        "base_revenue": (inst.p0[:, None] * base).ravel(), "base_margin": ((inst.p0[:, None] - c) * base).ravel(),
        "competitor_price": inst.competitor.ravel(), "price_index": (price / inst.competitor).ravel(),
        "binding": binding_reasons(inst, sol, units.sum(axis=1), cleared.sum(axis=1)).ravel(),
        "markdown": rep(np.select([inst.markdown, inst.sold_down, inst.liquidate],
                                  ["clear", "sell_down", "liquidate"], "none")),
        "clear_max_units": rep(inst.clear_max), "clear_confidence": rep(inst.clear_confidence),
        "liquidate_units": rep(np.where(inst.liquidate, np.maximum(0.0, np.where(
            np.isfinite(inst.stock), inst.stock, 0.0) - units[:, :inst.clear_week].sum(axis=1)), 0.0)),
    })
    return frame[PLAN_COLUMNS]


def solve_plan(skus: pd.DataFrame, weeks: pd.DataFrame, cfg: PricingConfig) -> tuple[pd.DataFrame, dict]:
    """Plan one partition; returns the plan frame and solve statistics (bounds, gap, seconds)."""
    inst = make_instance(skus, weeks, cfg)
    sol = solve_decomposed(inst, rel_gap=cfg.mip_rel_gap, time_limit_s=cfg.time_limit_s)
    ok = sol.choice[:, 0] >= 0
    stats = {**sol.stats, "skus": len(inst.sku_ids), "price_units": inst.n_units,
             "binaries": int(np.isfinite(inst.sku_prices()).sum() * inst.shape[1]),
             "objective": float(sol.lower[ok].sum()), "bound": float(sol.upper[ok].sum()),
             "infeasible_units": len(sol.infeasible)}
    return plan_frame(inst, sol), stats


SKU_INPUTS = ("sku_id", "unit_cost", "list_price", "current_price", "elasticity", "family", "stock", "clearance",
              "min_margin", "hold", "elasticity_se")
WEEK_INPUTS = ("sku_id", "week_start", "base_units", "competitor_price")
STAT_COLUMNS = ("objective", "bound", "seconds", "units_polished", "units_above_gap", "infeasible_units",
                "binaries", "price_units")


def plan_partition(frame: pd.DataFrame, cfg: PricingConfig) -> pd.DataFrame:
    """DataFrame → DataFrame form of :func:`solve_plan` for a process pool or Spark ``applyInPandas``.

    ``frame``: one row per SKU × week with the SKU columns of :func:`make_instance` repeated on every row and
    a ``partition`` key. Returns the plan with ``partition`` and the partition's solve statistics
    (``part_objective``, ``part_bound``, …) repeated on its rows.
    """
    skus = frame[[c for c in SKU_INPUTS if c in frame.columns]].drop_duplicates("sku_id")
    weeks = frame[[c for c in WEEK_INPUTS if c in frame.columns]]
    plan, stats = solve_plan(skus, weeks, cfg)
    plan.insert(0, "partition", frame["partition"].iloc[0])
    for k in STAT_COLUMNS:
        plan[f"part_{k}"] = float(stats[k])
    return plan


def partition_key(skus: pd.DataFrame, n: int) -> np.ndarray:
    """Partition of each SKU: a hash of its price family (whole families stay together) modulo ``n``."""
    fam = skus["family"] if "family" in skus.columns else pd.Series(np.nan, index=skus.index)
    key = fam.where(fam.notna(), skus["sku_id"]).astype(str)
    return (pd.util.hash_pandas_object(key, index=False).to_numpy() % np.uint64(max(n, 1))).astype(np.int64)


def plan_prices(skus: pd.DataFrame, weeks: pd.DataFrame, cfg: PricingConfig, workers: int = 1,
                engine: str | None = None, spark=None) -> tuple[pd.DataFrame, dict]:
    """Plan the whole catalogue: ``workers`` partitions of whole families, fanned out by
    :func:`model.fanout.map_groups` (process pool, or Spark with ``engine="spark"``)."""
    skus = skus.assign(partition=partition_key(skus, workers))
    frame = weeks.merge(skus, on="sku_id", how="left", validate="many_to_one")
    out = map_groups(frame, "partition", partial(plan_partition, cfg=cfg), engine=engine, workers=workers,
                     spark=spark)
    parts = out.groupby("partition")[[f"part_{k}" for k in STAT_COLUMNS]].first()
    stats = {k: float(parts[f"part_{k}"].sum()) for k in STAT_COLUMNS if k != "seconds"}
    stats["seconds_max_partition"] = float(parts["part_seconds"].max())
    stats["gap"] = (stats["bound"] - stats["objective"]) / max(abs(stats["objective"]), 1e-9)
    stats["skus"] = int(out["sku_id"].nunique())
    plan = out.drop(columns=["partition", *[f"part_{k}" for k in STAT_COLUMNS]])
    return plan.sort_values(["sku_id", "week_start"], kind="stable").reset_index(drop=True), stats
