"""Targeted re-plan: each signal re-solves only what it touches, with the planning programs' own functions.

* ``reorder`` / ``demand_shift`` (surge) → a purchase-order proposal for that SKU: order up to the
  base-stock level over lead time + review period, in whole case packs and at least the MOQ.
* ``competitor_price`` → the SKU's price re-optimised on its ladder by the pricing program
  (:func:`model.pricing.program.best_ladder_price`) with the demand response re-anchored at the new competitor price.
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
from solvers import InfeasibleModelError
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


def _ladder(list_price: float, lo: float = 0.7, hi: float = 1.15, steps: int = 12) -> list[float]:
    return sorted({round(list_price * f, 2) for f in np.linspace(lo, hi, steps)})


def price_changes(con, signals: list[Signal], g: Guardrails, cfg: SignalsConfig) -> list[Action]:
    from model.pricing.program import best_ladder_price
    skus = [s.subject for s in signals]
    sk = _sku_rows(con, skus)
    el = _elasticities(con, skus)
    out = []
    for s in signals:
        if s.subject not in sk.index:
            continue
        r = sk.loc[s.subject]
        p0, cost = float(r.list_price), float(r.unit_cost)
        det = s.details
        if s.rule == "slow_mover":
            new = round(p0 * (1 - cfg.slow_mover.markdown_pct / 100), 2)
            change = (new / p0 - 1) * 100
            out.append(Action("price_change", s.subject, s, p0, new, None, None,
                              {"clears_units": det["on_hand"]}, _price_status(change, g), "markdown of slow mover",
                              {"days_without_sale": det["days_without_sale"]}))
            continue
        e = el.get(s.subject, DEFAULT_ELASTICITY)
        ratio = det["new_price"] / det["old_price"]

        def demand(p, e=e, ratio=ratio, p0=p0):
            return (p / p0) ** e * ratio ** DEFAULT_CROSS

        try:
            best = best_ladder_price(_ladder(p0), cost, demand, min_margin=0.0)
        except InfeasibleModelError:  # every ladder price is below cost: a master-data issue, not a price move
            continue
        change = (best.price / p0 - 1) * 100
        out.append(Action(
            "price_change", s.subject, s, p0, float(best.price), None, None,
            {"expected_units_index": float(best.quantity), "profit_index": float(best.profit),
             "elasticity": e, "elasticity_source": "store" if s.subject in el else "default"},
            _price_status(change, g), f"competitor {det['competitor']} moved {det['change_pct']:+.1f}%",
            {"binding": getattr(best, "binding", None)}))
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


def replan(con, signals: list[Signal], cfg: SignalsConfig) -> list[Action]:
    by = lambda *rules: [s for s in signals if s.rule in rules]  # noqa: E731
    g = cfg.guardrails
    return (purchase_orders(con, by("reorder", "demand_shift"), g)
            + price_changes(con, by("competitor_price", "slow_mover"), g, cfg)
            + staffing_changes(by("workload", "backlog"), g))
