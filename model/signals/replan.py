"""Targeted re-plan: each signal re-solves only what it touches, with the planning programs' own functions.

* ``reorder`` / ``demand_shift`` (surge) → a purchase-order proposal for that SKU: order up to the
  base-stock level over lead time + review period, in whole case packs and at least the MOQ.
* ``competitor_price`` → the affected SKUs re-priced together, one week ahead, by the planner's pricing
  program (:func:`model.pricing.plan.solve_plan`) at the competitor's new price.
* ``slow_mover`` → a markdown on the price ladder.
* ``workload`` / ``backlog`` → extra shifts for the day from the shift-cover program
  (:func:`model.workforce.shift_cover.solve_shift_cover`) over the hourly gap.

Guardrails decide the status: inside them an action is ``auto-approved``, beyond them ``proposed``.
"""
from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd

from model.signals.outbox import Action, Signal
from scenarios.schema.signals import Guardrails, SignalsConfig

DEFAULT_ELASTICITY = -1.5   # used when the store has no estimate for the SKU (stated in the action)
DEFAULT_CROSS = 0.5


def _sku_rows(con, skus: list[str]) -> pd.DataFrame:
    if not skus:
        return pd.DataFrame(columns=["sku_id"]).set_index("sku_id")
    return con.execute(
        "SELECT sku_id, unit_cost, list_price, coalesce(case_pack, 1) AS case_pack, coalesce(moq, 0) AS moq "
        "FROM sku WHERE sku_id IN (SELECT unnest(?))", [skus]).df().set_index("sku_id")


def order_quantity(order_up_to: float, position: float, case_pack: int, moq: int) -> float:
    """``q = max(MOQ, ⌈(S − IP) / pack⌉ · pack)`` when ``S > IP``, else 0 (units)."""
    need = order_up_to - position
    if need <= 0:
        return 0.0
    q = math.ceil(need / case_pack) * case_pack
    return float(max(q, math.ceil(moq / case_pack) * case_pack if moq else q))


def purchase_orders(con, signals: list[Signal], g: Guardrails) -> list[Action]:
    sk = _sku_rows(con, [s.subject for s in signals])
    out = []
    for s in signals:
        if s.subject not in sk.index:
            continue
        r = sk.loc[s.subject]
        det = s.details
        if s.rule == "demand_shift":
            if det["direction"] != "surge":
                continue
            # re-plan with the recent demand rate over lead time + a week
            ip_row = con.execute("SELECT coalesce(sum(on_hand + coalesce(on_order, 0)), 0) FROM ("
                                 "SELECT *, row_number() OVER (PARTITION BY location_id ORDER BY snapshot_date DESC) rn "
                                 "FROM inventory WHERE sku_id = ? AND snapshot_date <= ?) WHERE rn = 1",
                                 [s.subject, s.as_of]).fetchone()
            position = float(ip_row[0])
            order_up_to = det["recent_daily"] * 21.0
        else:
            position, order_up_to = det["inventory_position"], det["order_up_to"]
        q = order_quantity(order_up_to, position, int(r.case_pack), int(r.moq))
        if q <= 0:
            continue
        value = q * float(r.unit_cost or 0.0)
        auto = value <= g.max_order_value
        out.append(Action(
            "purchase_order", s.subject, s, before_value=position, after_value=position + q, quantity=q,
            value=value, expected_impact={"inventory_position_after": position + q, "order_up_to": order_up_to},
            status="auto-approved" if auto else "proposed",
            reason=("within" if auto else "exceeds") + f" max order value {g.max_order_value:,.0f}",
            details={"case_pack": int(r.case_pack), "moq": int(r.moq)}))
    return out


def _elasticities(con, skus: list[str]) -> dict[str, float]:
    try:
        df = con.execute("SELECT sku_id, elasticity FROM price_elasticities WHERE run_id = (SELECT run_id FROM "
                         "price_elasticities ORDER BY run_id DESC LIMIT 1) AND sku_id IN (SELECT unnest(?))",
                         [skus]).df()
    except duckdb.Error:
        return {}
    return {r.sku_id: float(r.elasticity) for r in df.itertuples() if np.isfinite(r.elasticity) and r.elasticity < -1}


def markdowns(con, signals: list[Signal], g: Guardrails, cfg: SignalsConfig) -> list[Action]:
    """Slow movers: list price × (1 − markdown %), proposed or auto-approved by the price guardrail."""
    out = []
    for s in signals:
        p0 = s.details.get("list_price")
        if p0 is None or not np.isfinite(p0):
            continue
        new = round(p0 * (1 - cfg.slow_mover.markdown_pct / 100), 2)
        change = (new / p0 - 1) * 100
        out.append(Action("price_change", s.subject, s, p0, new, None, None,
                          {"clears_units": s.details["on_hand"]}, _price_status(change, g),
                          "markdown of slow mover", {"days_without_sale": s.details["days_without_sale"]}))
    return out


def _pricing_inputs(con, signals: list[Signal], as_of: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One planning week for the affected SKUs that sold in the last 28 days: current price and weekly units
    from those sales, the competitor's new price, elasticity from the store's latest
    estimate (else :data:`DEFAULT_ELASTICITY`)."""
    skus = [s.subject for s in signals]
    df = con.execute("""
        SELECT s.sku_id, s.unit_cost, s.list_price, s.price_family AS family,
               coalesce(sum(x.units * x.unit_price) / nullif(sum(x.units), 0), s.list_price) AS current_price,
               coalesce(sum(x.units), 0) / 4.0 AS base_units
        FROM sku s LEFT JOIN sales x ON x.sku_id = s.sku_id AND x.ts >= ?::DATE - INTERVAL 28 DAY
             AND x.ts < ?::DATE + INTERVAL 1 DAY AND x.unit_price IS NOT NULL
        WHERE s.sku_id IN (SELECT unnest(?)) AND s.unit_cost IS NOT NULL AND s.list_price > 0
        GROUP BY s.sku_id, s.unit_cost, s.list_price, s.price_family ORDER BY s.sku_id""", [as_of, as_of, skus]).df()
    df = df[df["base_units"] > 0].reset_index(drop=True)  # unsold SKUs: a competitor move changes nothing
    el = _elasticities(con, skus)
    df["elasticity"] = df["sku_id"].map(el).fillna(DEFAULT_ELASTICITY)
    df["family"] = None  # a competitor move re-prices this SKU alone; families are re-planned in the study
    comp = {s.subject: s.details["new_price"] for s in signals}
    weeks = pd.DataFrame({"sku_id": df["sku_id"], "week_start": pd.Timestamp(as_of),
                          "base_units": df["base_units"], "competitor_price": df["sku_id"].map(comp)})
    return df, weeks


def price_changes(con, signals: list[Signal], g: Guardrails, cfg: SignalsConfig,
                  pricing_cfg=None) -> list[Action]:
    """Competitor moves: the affected SKUs re-priced together, one week ahead, by the planner's pricing
    program (:func:`model.pricing.plan.solve_plan`: ladder, margin floor, competitor-index band, max change)."""
    from model.pricing.plan import solve_plan
    from scenarios.schema.pricing import PricingConfig
    comp = [s for s in signals if s.rule == "competitor_price"]
    out = markdowns(con, [s for s in signals if s.rule == "slow_mover"], g, cfg)
    if not comp:
        return out
    skus, weeks = _pricing_inputs(con, comp, comp[0].as_of)
    if skus.empty:
        return out
    plan, _ = solve_plan(skus, weeks, pricing_cfg or PricingConfig())
    plan = plan.set_index("sku_id")
    sig = {s.subject: s for s in comp}
    el = skus.set_index("sku_id")["elasticity"]
    for sku, r in plan.iterrows():
        s = sig[sku]
        if not np.isfinite(r.price) or abs(r.price - r.current_price) < 0.005:
            continue
        change = (r.price / r.current_price - 1) * 100
        out.append(Action(
            "price_change", sku, s, float(r.current_price), float(r.price), None, None,
            {"expected_units": float(r.expected_units), "margin": float(r.margin),
             "margin_change": float(r.margin - r.base_margin), "elasticity": float(el[sku])},
            _price_status(change, g), f"competitor {s.details['competitor']} moved {s.details['change_pct']:+.1f}%",
            {"binding": r.binding, "competitor_price": s.details["new_price"]}))
    return out


def _price_status(change_pct: float, g: Guardrails) -> str:
    return "auto-approved" if abs(change_pct) <= g.max_price_change_pct else "proposed"


def staffing_changes(signals: list[Signal], g: Guardrails) -> list[Action]:
    """Extra hours for the day: cover the hourly gap (spread over the 8:00–20:00 operating window) with
    4-hour and 8-hour shifts at minimum total hours via the shift-cover program."""
    from model.workforce.shift_cover import solve_shift_cover
    out = []
    hours = list(range(8, 20))
    shifts = {f"{h:02d}:00+{n}h": [p for p in range(h, h + n) if p in hours]
              for n in (4, 8) for h in range(8, 20 - n + 1)}
    for s in signals:
        gap_h = s.details.get("extra_hours") if s.rule == "backlog" else s.details["required_hours"] - \
            s.details["capacity_hours"]
        per_hour = math.ceil(gap_h / len(hours) - 1e-9)
        if per_hour <= 0:
            continue
        res = solve_shift_cover({h: per_hour for h in hours}, shifts,
                                costs={k: len(v) for k, v in shifts.items()})
        extra = float(sum(res.counts[k] * len(shifts[k]) for k in shifts))
        auto = extra <= g.max_extra_hours
        out.append(Action(
            "staffing_change", s.subject, s, s.details.get("capacity_hours"), None, extra, None,
            {"hours_gap": gap_h, "shifts": {k: int(v) for k, v in res.counts.items() if v}},
            "auto-approved" if auto else "proposed",
            ("within" if auto else "exceeds") + f" max extra hours {g.max_extra_hours:g}",
            {"solver_status": str(res.status)}))
    return out


def replan(con, signals: list[Signal], cfg: SignalsConfig, pricing_cfg=None) -> list[Action]:
    by = lambda *rules: [s for s in signals if s.rule in rules]  # noqa: E731
    g = cfg.guardrails
    return (purchase_orders(con, by("reorder", "demand_shift"), g)
            + price_changes(con, by("competitor_price", "slow_mover"), g, cfg, pricing_cfg)
            + staffing_changes(by("workload", "backlog"), g))
