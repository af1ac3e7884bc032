"""The monolithic big-M MILP of the replenishment program: the reference the decomposition must beat.

Same model and units (granules) as :mod:`model.inventory.replenishment`, written as one Pyomo program.
It is exact but does not scale (measured: 100 SKUs × 52 weeks stays at a 37–65 % gap after 30–90 s in
HiGHS); it serves small instances with known optima in tests, the reference run of the benchmark, and
infeasibility diagnosis (:func:`solvers.solve_or_explain` names the constraint family).

Index sets: SKUs i ∈ I, weeks t ∈ T = 0..T-1. Variables per (i, t): cases m (integer), order flag y
(binary), stock-out flag w (binary), post-receipt position P, end stock x, lost sales u, safety-stock
shortfall s (≥ 0, granules).
"""
from __future__ import annotations

import pyomo.environ as pyo

from model.inventory.lotsizing import SkuGroup
from model.inventory.replenishment import Prepared


def _sku_table(p: Prepared) -> dict[int, tuple[SkuGroup, int]]:
    """SKU index → (its DP group, row inside the group)."""
    out = {}
    for idx, grp in p.chunks:
        for row, i in enumerate(idx):
            out[int(i)] = (grp, row)
    return out


def add_order_size(m: pyo.ConcreteModel, p: Prepared) -> None:
    """order_min / order_max: ``m_min,i y_it ≤ m_it ≤ M_i y_it`` (cases), ``M_i = ⌊(S_i - 1)/c_i⌋``;
    ``m_it = 0`` for t < L_i (lead time) by variable bounds."""
    tab = m._sku
    m.order_min = pyo.Constraint(m.I, m.T, rule=lambda m, i, t: m.cases[i, t] >= int(tab[i][0].min_cases[tab[i][1]]) * m.order[i, t])
    m.order_max = pyo.Constraint(m.I, m.T, rule=lambda m, i, t: m.cases[i, t] <= (
        (tab[i][0].n_states - 1) // tab[i][0].case) * m.order[i, t])


def add_inventory_balance(m: pyo.ConcreteModel, p: Prepared) -> None:
    """position: ``P_it = x_i,t-1 + r_it + c_i m_it`` (x_i,-1 = x0_i); inventory_balance:
    ``x_it = P_it - d_it + u_it`` (granules)."""
    tab = m._sku

    def pos(m, i, t):
        prev = int(p.init[i]) if t == 0 else m.stock[i, t - 1]
        return m.position[i, t] == prev + int(p.scheduled[i, t]) + tab[i][0].case * m.cases[i, t]
    m.position_balance = pyo.Constraint(m.I, m.T, rule=pos)
    m.inventory_balance = pyo.Constraint(m.I, m.T, rule=lambda m, i, t: m.stock[i, t] == m.position[i, t]
                                         - int(p.demand[i, t]) + m.lost[i, t])


def add_lost_sales(m: pyo.ConcreteModel, p: Prepared) -> None:
    """lost_sales: sales are lost only in a stock-out week (w_it = 1): ``u_it ≤ d_it w_it`` and
    ``x_it ≤ (S_i - 1)(1 - w_it)``, so ``u = max(0, d - P)`` exactly as in the DP."""
    top = {i: m._sku[i][0].n_states - 1 for i in m.I}
    m.lost_only_when_out = pyo.Constraint(m.I, m.T, rule=lambda m, i, t: m.lost[i, t] <= int(p.demand[i, t]) * m.out[i, t])
    m.no_stock_when_out = pyo.Constraint(m.I, m.T, rule=lambda m, i, t: m.stock[i, t] <= top[i] * (1 - m.out[i, t]))


def add_safety_stock(m: pyo.ConcreteModel, p: Prepared) -> None:
    """safety_stock: ``s_it ≥ SS_it - x_it`` (penalised shortfall below the safety-stock target)."""
    m.safety_stock = pyo.Constraint(m.I, m.T, rule=lambda m, i, t: m.short[i, t] >= int(p.safety[i, t]) - m.stock[i, t])


def add_coupling(m: pyo.ConcreteModel, p: Prepared) -> None:
    """storage_capacity ``Σ_i v_i g_i P_it ≤ V_t`` (m³); inbound_capacity ``Σ_i g_i (c_i m_it + r_it) ≤ R_t``
    (units); cash_budget ``Σ_i c_i g_i P_it ≤ B_t`` (currency). Absent families are skipped."""
    caps = p.data.caps
    tab = m._sku

    def rule(f):
        def r(m, t):
            if not pyo.value(caps[f, t]) < float("inf"):
                return pyo.Constraint.Skip
            if f == 1:
                expr = sum(p.coef[1, i] * (tab[i][0].case * m.cases[i, t] + int(p.scheduled[i, t])) for i in m.I)
            else:
                expr = sum(p.coef[f, i] * m.position[i, t] for i in m.I)
            return expr <= float(caps[f, t])
        return r
    m.storage_capacity = pyo.Constraint(m.T, rule=rule(0))
    m.inbound_capacity = pyo.Constraint(m.T, rule=rule(1))
    m.cash_budget = pyo.Constraint(m.T, rule=rule(2))


def build_replenishment_model(p: Prepared) -> pyo.ConcreteModel:
    """Monolithic MILP: ``min Σ K y + c_g c m + h_g x + p_g u + b_g s`` subject to the families above."""
    m = pyo.ConcreteModel(name="replenishment_milp")
    m._sku = _sku_table(p)
    m.I = pyo.RangeSet(0, p.n - 1)
    m.T = pyo.RangeSet(0, p.demand.shape[1] - 1)
    lead = {i: int(m._sku[i][0].lead[m._sku[i][1]]) for i in m.I}
    top = {i: m._sku[i][0].n_states - 1 for i in m.I}
    m.cases = pyo.Var(m.I, m.T, domain=pyo.NonNegativeIntegers,
                      bounds=lambda m, i, t: (0, 0 if t < lead[i] else top[i]))
    m.order = pyo.Var(m.I, m.T, domain=pyo.Binary)
    m.position = pyo.Var(m.I, m.T, bounds=lambda m, i, t: (0, top[i]))
    m.stock = pyo.Var(m.I, m.T, domain=pyo.NonNegativeReals)
    m.lost = pyo.Var(m.I, m.T, domain=pyo.NonNegativeReals)
    m.short = pyo.Var(m.I, m.T, domain=pyo.NonNegativeReals)
    m.out = pyo.Var(m.I, m.T, domain=pyo.Binary)
    add_order_size(m, p)
    add_inventory_balance(m, p)
    add_lost_sales(m, p)
    add_safety_stock(m, p)
    add_coupling(m, p)
    m.cost = pyo.Objective(expr=sum(
        p.fixed_cost[i] * m.order[i, t] + p.unit_cost_g[i] * m._sku[i][0].case * m.cases[i, t]
        + p.hold_g[i] * m.stock[i, t] + p.lost_g[i] * m.lost[i, t] + p.short_g[i] * m.short[i, t]
        for i in m.I for t in m.T))
    return m
