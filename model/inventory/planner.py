"""The inventory plan from SSOT data and a forecast: reorder points, replenishment program, classes, replay.

Shared by the study stage (:mod:`model.inventory.stage`) and the CLI (:mod:`model.inventory.commands`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from model.forecast.contract import QCOLS
from model.inventory import evaluate as ev
from model.inventory.classify import cash_by_class, classify
from model.inventory.replenishment import (ReplenishmentInput, ReplenishmentParams, ReplenishmentResult,
                                           solve_replenishment)
from model.inventory.safety import reorder_points, sample_weekly
from model.ssot import derived
from scenarios.schema import InventoryConfig


@dataclass
class InventoryOutcome:
    tables: dict[str, pd.DataFrame]
    summary: dict
    solves: list[dict] = field(default_factory=list)
    result: ReplenishmentResult | None = None      # the solved program (arrays in granules)
    reorder: pd.DataFrame | None = None            # reorder points, one row per SKU in program order


def adjust_to_prices(forecast: pd.DataFrame, plan_prices: pd.DataFrame | None) -> pd.DataFrame:
    """Scale mean and quantiles of each SKU-week by ``expected_units / mean`` from the pricing plan."""
    if plan_prices is None or plan_prices.empty:
        return forecast
    pp = plan_prices.assign(sku_id=plan_prices["sku_id"].astype(str),
                            week_start=pd.to_datetime(plan_prices["week_start"]))
    f = forecast.assign(_week=pd.to_datetime(forecast["period_start"]))
    f = f.merge(pp[["sku_id", "week_start", "expected_units"]], how="left",
                left_on=["series_id", "_week"], right_on=["sku_id", "week_start"])
    ratio = np.where(f["expected_units"].notna() & (f["mean"] > 0), f["expected_units"] / f["mean"], 1.0)
    for c in ("mean", *QCOLS):
        f[c] = f[c] * ratio
    return f[forecast.columns]


def json_safe(obj):
    """Summary values as plain JSON: numpy scalars to Python, non-finite numbers to None."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def sku_inputs(con, as_of: dt.date | None = None) -> pd.DataFrame:
    """SKU master joined with measured lead times and stock (latest snapshot on or before ``as_of``)
    summed over locations."""
    m = derived.sku_master(con)
    lt = derived.lead_time_stats(con)[["sku_id", "lead_time_mean_days", "lead_time_sd_days"]]
    lt = lt.rename(columns={"lead_time_mean_days": "lt_mean", "lead_time_sd_days": "lt_sd"})
    st = derived.stock_positions(con, as_of).groupby("sku_id", as_index=False)[["on_hand", "on_order"]].sum()
    out = m.merge(lt, on="sku_id", how="left").merge(st, on="sku_id", how="left")
    out["lead_time_mean_days"] = out["lt_mean"].fillna(out["lead_time_days"]).astype(float)
    out["lead_time_sd_days"] = out["lt_sd"].fillna(out["lead_time_sd_days"]).fillna(0.0).astype(float)
    for c in ("unit_cost", "volume_m3", "moq"):
        out[c] = out[c].astype(float)
    out["case_pack"] = out["case_pack"].fillna(1).astype(int)
    return out.drop(columns=["lt_mean", "lt_sd"]).fillna({"on_hand": 0.0, "on_order": 0.0})


def order_quantity(items: pd.DataFrame, weekly_mean: np.ndarray, cfg: InventoryConfig) -> np.ndarray:
    """EOQ ``sqrt(2 K D / h)`` per SKU (D annual units, h = holding rate × cost), at least one case / MOQ."""
    h = np.maximum(cfg.holding_rate * items["unit_cost"].to_numpy(float), 1e-9)
    q = np.sqrt(2 * cfg.order_cost * 52 * weekly_mean / h)
    return np.maximum(q, np.maximum(items["case_pack"].to_numpy(float), items["moq"].to_numpy(float)))


def capacities(con, cfg: InventoryConfig, items: pd.DataFrame, weeks: int) -> dict:
    """Weekly storage, inbound and budget rows. Storage is the config value, else the SSOT's summed
    location storage raised, if needed, to 102 % of the volume already on hand and on order (an explicit
    capacity below that is reported as infeasible instead)."""
    storage = cfg.storage_m3
    if storage is None:
        total = con.execute("SELECT sum(storage_m3) FROM location").fetchone()[0]
        held = float((items["volume_m3"] * (items["on_hand"] + items["on_order"])).sum())
        storage = max(float(total), 1.02 * held) if total else None
    budget = cfg.budget_per_week
    if budget is None and cfg.budget_share_of_baseline is not None:
        budget = cfg.budget_share_of_baseline * float(((items["on_hand"] + items["on_order"]) * items["unit_cost"]).sum())
    full = lambda v: None if v is None else np.full(weeks, float(v))  # noqa: E731
    return {"storage_m3": full(storage), "inbound_units": full(cfg.inbound_units_per_week), "budget": full(budget)}


def program_input(items: pd.DataFrame, fc: pd.DataFrame, safety: np.ndarray, cfg: InventoryConfig,
                  caps: dict) -> ReplenishmentInput:
    """The replenishment program's data: forecast mean demand, safety stock, open orders by arrival week."""
    weeks = pd.DatetimeIndex(sorted(pd.to_datetime(fc["period_start"]).unique()))
    n, t = len(items), len(weeks)
    demand = fc.pivot(index="series_id", columns="horizon", values="mean").loc[items["sku_id"]].to_numpy(float)
    lead_w = np.rint(items["lead_time_mean_days"].to_numpy(float) / 7).astype(int)
    scheduled = np.zeros((n, t))
    scheduled[np.arange(n), np.minimum(np.maximum(lead_w, 0), t - 1)] = items["on_order"].to_numpy(float)
    cost = items["unit_cost"].to_numpy(float)
    price = items["list_price"].fillna(1.5 * items["unit_cost"]).to_numpy(float)
    skus = pd.DataFrame({
        "sku_id": items["sku_id"].to_numpy(), "unit_cost": cost, "holding_cost": cfg.holding_rate * cost / 52,
        "order_cost": cfg.order_cost, "case_pack": items["case_pack"].to_numpy(int),
        "moq": items["moq"].to_numpy(float), "lead_time_weeks": lead_w, "volume_m3": items["volume_m3"].to_numpy(float),
        "on_hand": items["on_hand"].to_numpy(float), "lost_sale_cost": cfg.stockout_penalty * price,
        "shortfall_cost": cfg.shortfall_penalty_rate * cost / 52})
    demand = np.maximum(demand, 0.0)
    if caps.get("budget") is not None:  # a budget cannot un-buy stock already held or on order
        caps = {**caps, "budget": np.maximum(caps["budget"], 1.01 * committed_value(
            cost, items["on_hand"].to_numpy(float), scheduled, demand))}
    return ReplenishmentInput(skus=skus, weeks=weeks, demand=demand,
                              safety_stock=np.repeat(safety[:, None], t, axis=1), scheduled=scheduled, **caps)


def committed_value(unit_cost: np.ndarray, on_hand: np.ndarray, scheduled: np.ndarray,
                    demand: np.ndarray) -> np.ndarray:
    """Cash tied up per week if nothing more is ordered: ``V_t = Σ_i c_i (E_i,t−1 + S_it)`` with end stock
    ``E_it = max(E_i,t−1 + S_it − d_it, 0)``, ``E_i,−1`` = on hand (units; c in currency/unit; S = open
    orders arriving in week t; d = forecast demand). A cash budget below ``V_t`` would be infeasible
    whatever is decided, so the budget row is lifted to it: in such weeks the plan orders nothing new."""
    end = on_hand.astype(float).copy()
    out = np.zeros(demand.shape[1])
    for t in range(demand.shape[1]):
        after = end + scheduled[:, t]
        out[t] = float(unit_cost @ after)
        end = np.maximum(after - demand[:, t], 0.0)
    return out


def plan_tables(res: ReplenishmentResult) -> dict[str, pd.DataFrame]:
    """Tidy plan: ``plan_orders``, ``plan_inventory``, ``plan_cash`` (units, currency, m³)."""
    p, plan, d = res.prepared, res.plan, res.prepared.data
    s, weeks, g = d.skus, d.weeks, p.granule[:, None]
    i, t = np.nonzero(plan.receipts)
    lead = s["lead_time_weeks"].to_numpy(int)
    units = (plan.receipts * g)[i, t]
    orders = pd.DataFrame({
        "sku_id": s["sku_id"].to_numpy()[i], "week_start": weeks[t - lead[i]], "order_units": units,
        "cases": units / s["case_pack"].to_numpy(float)[i], "arrival_week": weeks[t],
        "cost": s["order_cost"].to_numpy(float)[i] + s["unit_cost"].to_numpy(float)[i] * units})
    n, tt = plan.stock.shape
    inv = pd.DataFrame({
        "sku_id": np.repeat(s["sku_id"].to_numpy(), tt), "week_start": np.tile(weeks, n),
        "projected_on_hand": (plan.stock * g).ravel(), "position_after_receipts": (plan.position * g).ravel(),
        "safety_stock": np.asarray(d.safety_stock).ravel(), "demand": np.asarray(d.demand).ravel(),
        "shortfall": (np.maximum(p.safety - plan.stock, 0) * g).ravel(), "lost_sales": (plan.lost * g).ravel()})
    caps = d.caps
    cash = pd.DataFrame({
        "week_start": weeks, "cash_tied_up": p.coef[2] @ plan.position, "budget": caps[2],
        "storage_used_m3": p.coef[0] @ plan.position, "capacity_m3": caps[0],
        "inbound_units": p.coef[1] @ (plan.receipts + p.scheduled), "inbound_capacity": caps[1],
        "price_storage": res.prices[0], "price_inbound": res.prices[1], "price_cash": res.prices[2]})
    return {"plan_orders": orders, "plan_inventory": inv, "plan_cash": cash.replace({np.inf: np.nan})}


def sample_paths(fc_q: np.ndarray, n_paths: int, seed: int) -> np.ndarray:
    """Demand paths (paths, SKUs, weeks) sampled from forecast quantiles ``fc_q`` (SKUs, weeks, 9)."""
    rng = np.random.default_rng(seed)
    n, t, _ = fc_q.shape
    return sample_weekly(fc_q, rng.random((n, t, n_paths))).transpose(2, 0, 1)


def evaluate_plan(res: ReplenishmentResult, rp: pd.DataFrame, target_fill: float, demand: np.ndarray,
                  minmax_cover_weeks: float = 4.0, shifts: tuple[float, float] | None = None) -> dict:
    """Replay the plan and a min/max baseline on ``demand`` (paths, SKUs, weeks): the plan as planned,
    and both tuned to ``target_fill`` so that stock is compared at equal fill rate (see :mod:`evaluate`).
    With ``shifts = (k_plan, k_minmax)`` (e.g. calibrated on forecast samples) both are replayed at those
    shifts instead of being tuned on ``demand`` — an out-of-sample comparison."""
    p, d = res.prepared, res.prepared.data
    s = d.skus
    items = ev.ReplayItems(lead=s["lead_time_weeks"].to_numpy(int), case=s["case_pack"].to_numpy(float),
                           moq=s["moq"].to_numpy(float), on_hand=s["on_hand"].to_numpy(float),
                           unit_cost=s["unit_cost"].to_numpy(float))
    g = p.granule[:, None]
    sd = rp["protection_sd"].to_numpy(float)
    plan_pol = ev.plan_policy(res.plan.receipts * g, res.plan.position * g, np.asarray(d.scheduled), items.lead,
                              rp["reorder_point"].to_numpy(float), sd)
    weekly = np.asarray(d.demand).mean(axis=1)
    base_pol = ev.minmax_policy(rp["protection_mean"].to_numpy(float), sd, weekly, minmax_cover_weeks,
                                demand.shape[2])
    as_planned = ev.replay(items, demand, *plan_pol(0.0))
    if shifts is None:
        k_plan, tuned = ev.tune(items, demand, plan_pol, target_fill)
        k_base, base = ev.tune(items, demand, base_pol, target_fill)
    else:
        (k_plan, k_base), tuned = shifts, ev.replay(items, demand, *plan_pol(shifts[0]))
        base = ev.replay(items, demand, *base_pol(shifts[1]))
    released = base.avg_stock_value - tuned.avg_stock_value
    return {"as_planned": as_planned.as_dict(), "plan_tuned": {**tuned.as_dict(), "k": k_plan},
            "minmax_tuned": {**base.as_dict(), "k": k_base}, "cash_released": released,
            "cash_released_share": released / base.avg_stock_value if base.avg_stock_value > 0 else 0.0}


def inventory_plan(con, cfg: InventoryConfig, forecast: pd.DataFrame, *, horizon: int, workers: int, seed: int,
                   plan_prices: pd.DataFrame | None = None, as_of: dt.date | None = None,
                   progress=lambda msg: None) -> InventoryOutcome:
    """Reorder points, replenishment program, classification and replay for every SKU with a forecast;
    stock is the latest snapshot on or before ``as_of`` (default: the latest)."""
    items, fc = _planning_scope(sku_inputs(con, as_of), forecast, horizon, plan_prices)
    progress(f"inventory: reorder points for {len(items)} SKUs ({cfg.service_type} {cfg.service_level:.0%})")
    weekly = fc.groupby("series_id")["mean"].mean().loc[items["sku_id"]].to_numpy(float)
    rp = reorder_points(fc, items.rename(columns={"sku_id": "series_id"}), service_level=cfg.service_level,
                        service_type=cfg.service_type,
                        order_qty=pd.Series(order_quantity(items, weekly, cfg), index=items["sku_id"]),
                        n_samples=max(cfg.evaluation_samples, 500), seed=seed)
    data = program_input(items, fc, rp["safety_stock"].to_numpy(float), cfg,
                         capacities(con, cfg, items, fc["horizon"].nunique()))
    res = solve_replenishment(data, ReplenishmentParams(
        max_states=cfg.max_states, max_cover_weeks=cfg.max_cover_weeks, time_limit_s=cfg.time_limit_s,
        target_gap=cfg.target_gap, max_iterations=cfg.max_iterations, workers=cfg.workers or workers), progress)
    fc_q = fc[list(QCOLS)].to_numpy(float).reshape(len(items), -1, len(QCOLS))
    evaluation = evaluate_plan(res, rp, cfg.service_level, sample_paths(fc_q, cfg.evaluation_samples, seed + 1))
    shift = evaluation["plan_tuned"]["k"] * rp["protection_sd"]
    rp = rp.assign(policy_shift=shift, reorder_point_policy=np.maximum(rp["reorder_point"] + shift, 0.0))
    today = pd.to_datetime(fc["period_start"]).min().date() - dt.timedelta(days=1)
    classes = classify(items, items[["sku_id", "on_hand"]], derived.demand_history(con, "W", "sku"), fc, today,
                       abc_shares=cfg.abc_shares, xyz_cv=cfg.xyz_cv, slow_cover_weeks=cfg.slow_mover_cover_weeks,
                       dead_days=cfg.dead_stock_days)
    tables = {**plan_tables(res), "inventory_classes": classes, "reorder_points": rp,
              "inventory_cash_by_class": cash_by_class(classes)}
    summary = {**res.summary(), "service_type": cfg.service_type, "service_target": cfg.service_level,
               "fill_rate": evaluation["as_planned"]["fill_rate"],
               "fill_rate_calibrated": evaluation["plan_tuned"]["fill_rate"],
               "cash_released": evaluation["cash_released"], "evaluation": evaluation,
               "stock_value_now": float((items["on_hand"] * items["unit_cost"]).sum()),
               "orders": len(tables["plan_orders"]), "actions": classes["action"].value_counts().to_dict()}
    solve = {**res.summary(), "solver": "dp+lagrangian+highs", "n_vars": int(res.prepared.n * len(data.weeks)),
             "message": f"{len(res.solves)} price-master LPs"}
    return InventoryOutcome(tables, json_safe(summary), [json_safe(solve)], res, rp)


def _planning_scope(items: pd.DataFrame, forecast: pd.DataFrame, horizon: int,
                    plan_prices: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SKUs of the master that have a forecast, and their forecast up to ``horizon`` adjusted to prices."""
    fc = adjust_to_prices(forecast[forecast["horizon"] <= horizon], plan_prices)
    fc = fc.assign(series_id=fc["series_id"].astype(str))
    items = items[items["sku_id"].isin(set(fc["series_id"]))].sort_values("sku_id").reset_index(drop=True)
    if items.empty:
        raise ValueError("inventory: no SKU of the SSOT's sku table has a forecast (series_id = sku_id)")
    return items, fc[fc["series_id"].isin(set(items["sku_id"]))].sort_values(["series_id", "horizon"])
