"""The pricing program (Pyomo + HiGHS): one ladder price per SKU per week.

Sets (see :mod:`model.pricing.instance`): SKUs ``s``, weeks ``t``, ladder slots ``k`` with price ``L[s,k]``
(currency/unit; a SKU's ladder is its price family's). Decision ``x[s,t,k] ∈ {0,1}``: SKU ``s`` carries
price ``L[s,k]`` in week ``t``. Penalised slacks ``over[s] ≥ 0`` (expected units beyond stock, units) and
``short[s] ≥ 0`` (markdown target missed, units) keep the program feasible; the shortfall's price ``P[s]``
(twice the SKU's highest ladder price, currency/unit; 1000 times in :func:`best_ladder_price`, where stock
is hard) makes it a last resort, used when the target cannot be met. ``P^over[s] = P[s]`` too, except for
markdown SKUs, where a planned unit beyond stock is a lost sale priced at the highest margin an allowed
price earns: never worth planning for itself, cheaper than missing the target. Objective::

    max  Σ_{s,t,k} r[s,t,k]·x[s,t,k] − Σ_s (P^over[s]·over[s] + P[s]·short[s])

with ``r = (L − c)·q`` (gross margin) or ``L·q`` (revenue under the margin floor), ``q[s,t,k]`` the
expected units of the response model.

This is the program the planner uses; :mod:`model.pricing.decompose` solves the same program at
catalogue scale by dynamic programming per price family (exact for it) and checks itself against it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from model.pricing.instance import PricingInstance, infeasibility_reason
from solvers import InfeasibleModelError, SolveOptions, SolveResult, solve_or_explain


def add_choice_variables(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``x[s,t,k] ∈ {0,1}`` for every SKU ``s``, week ``t`` and used ladder slot ``k``; slacks ``over, short``."""
    S, T, _ = inst.shape
    prices = inst.sku_prices()
    m.STK = pyo.Set(dimen=3, initialize=[(s, t, k) for s in range(S) for t in range(T)
                                         for k in np.flatnonzero(np.isfinite(prices[s]))], ordered=True)
    m.S, m.T = pyo.RangeSet(0, S - 1), pyo.RangeSet(0, T - 1)
    m.x = pyo.Var(m.STK, domain=pyo.Binary)
    m.over = pyo.Var(m.S, domain=pyo.NonNegativeReals)
    m.short = pyo.Var(m.S, domain=pyo.NonNegativeReals)
    m.slots = {(s, t): [k for k in np.flatnonzero(np.isfinite(prices[s]))] for s in range(S) for t in range(T)}


def add_one_price_per_week(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``Σ_k x[s,t,k] = 1`` ∀ s, t: exactly one ladder price per SKU-week (multiple choice)."""
    m.one_price_per_week = pyo.Constraint(m.S, m.T, rule=lambda m, s, t: sum(m.x[s, t, k] for k in m.slots[s, t]) == 1)


def add_margin_floor(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``Σ_{k: L[s,k] − c[s] < μ[s]·L[s,k]} x[s,t,k] = 0`` ∀ s, t: no price below the margin floor ``μ[s]``."""
    def rule(m, s, t):
        bad = [m.x[s, t, k] for k in m.slots[s, t] if not inst.ok_margin[s, t, k]]
        return sum(bad) == 0 if bad else pyo.Constraint.Skip
    m.margin_floor = pyo.Constraint(m.S, m.T, rule=rule)


def add_competitor_index(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``Σ_{k: L[s,k]/comp[s,t] ∉ [ι_lo, ι_hi]} x[s,t,k] = 0`` ∀ s, t with an observed competitor price."""
    def rule(m, s, t):
        bad = [m.x[s, t, k] for k in m.slots[s, t] if not inst.ok_index[s, t, k]]
        return sum(bad) == 0 if bad else pyo.Constraint.Skip
    m.competitor_index = pyo.Constraint(m.S, m.T, rule=rule)


def add_max_change(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """Week-to-week change ``|L_k − L_j| ≤ δ·L_j`` as an exact linear chain over the one-hot choices.

    ``x[s,t,k] ≤ Σ_{j: compat(j,k)} x[s,t−1,j]`` ∀ s, k, t ≥ 1, and in week 0
    ``Σ_{k: |L_k − p0[s]| > δ·p0[s]} x[s,0,k] = 0`` (the first move starts from the current price ``p0``).
    """
    def chain(m, s, t, k):
        if t == 0:
            return pyo.Constraint.Skip
        u = inst.unit_of[s]
        prev = [m.x[s, t - 1, j] for j in m.slots[s, t - 1] if inst.compat[u, j, k]]
        return m.x[s, t, k] <= sum(prev)
    m.max_change = pyo.Constraint(m.STK, rule=chain)

    def first(m, s):
        bad = [m.x[s, 0, k] for k in m.slots[s, 0] if not inst.first_ok[inst.unit_of[s], k]]
        return sum(bad) == 0 if bad else pyo.Constraint.Skip
    m.max_change_first_week = pyo.Constraint(m.S, rule=first)


def add_price_family(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``x[s,t,k] = x[lead(f),t,k]`` ∀ members s of family f: one price per family and week."""
    lead = {u: int(np.flatnonzero(inst.unit_of == u)[0]) for u in np.unique(inst.unit_of)}

    def rule(m, s, t, k):
        ls = lead[inst.unit_of[s]]
        return pyo.Constraint.Skip if ls == s else m.x[s, t, k] == m.x[ls, t, k]
    m.price_family = pyo.Constraint(m.STK, rule=rule)


def add_inventory(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``Σ_{t,k} q[s,t,k]·x[s,t,k] − over[s] ≤ stock[s]`` ∀ stock-limited s (stock + inbound, units)."""
    def rule(m, s):
        if not np.isfinite(inst.stock[s]):
            return pyo.Constraint.Skip
        sold = sum(inst.units[s, t, k] * m.x[s, t, k] for t in m.T for k in m.slots[s, t])
        return sold - m.over[s] <= inst.stock[s]
    m.inventory = pyo.Constraint(m.S, rule=rule)


def add_markdown_clearance(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``Σ_{t < t_clear, k} q̃[s,t,k]·x[s,t,k] + short[s] ≥ γ·stock[s]`` ∀ markdown SKUs (flagged and clearable);
    ``q̃`` the cautious units of the target (the response at ``e + z·se`` where it sells fewer)."""
    def rule(m, s):
        if inst.clear_units[s] <= 0:
            return pyo.Constraint.Skip
        sold = sum(inst.clear_q[s, t, k] * m.x[s, t, k] for t in range(inst.clear_week) for k in m.slots[s, t])
        return sold + m.short[s] >= inst.clear_units[s]
    m.markdown_clearance = pyo.Constraint(m.S, rule=rule)


def add_objective(m: pyo.ConcreteModel, inst: PricingInstance) -> None:
    """``max Σ r[s,t,k]·x[s,t,k] − Σ_s (P^over[s]·over[s] + P[s]·short[s])`` (currency over the horizon)."""
    r = inst.reward()
    m.objective = pyo.Objective(
        expr=sum(r[s, t, k] * m.x[s, t, k] for (s, t, k) in m.STK)
        - sum(inst.over_penalty[s] * m.over[s] + inst.penalty[s] * m.short[s] for s in m.S), sense=pyo.maximize)


def build_pricing_model(inst: PricingInstance) -> pyo.ConcreteModel:
    """The pricing program of ``inst`` as a Pyomo model (see the module docstring)."""
    m = pyo.ConcreteModel(name="pricing")
    for add in (add_choice_variables, add_one_price_per_week, add_margin_floor, add_competitor_index,
                add_max_change, add_price_family, add_inventory, add_markdown_clearance, add_objective):
        add(m, inst)
    return m


def extract_choice(m: pyo.ConcreteModel, inst: PricingInstance) -> np.ndarray:
    """[U,T] chosen ladder slot of each price unit and week, read from the solved ``x``."""
    _, T, _ = inst.shape
    out = np.full((inst.n_units, T), -1)
    for (s, t, k) in m.STK:
        if pyo.value(m.x[s, t, k]) > 0.5:
            out[inst.unit_of[s], t] = k
    return out


def solve_program(inst: PricingInstance, options: SolveOptions | None = None) -> tuple[np.ndarray, SolveResult]:
    """Build and solve the program with HiGHS; returns the [U,T] choice and the typed solve result.

    Raises :class:`solvers.InfeasibleModelError` naming the constraint families when no plan exists.
    """
    no_price = {}
    for u in np.flatnonzero(inst.bad_weeks().any(axis=1)):
        reason = infeasibility_reason(inst, u)
        no_price[reason] = no_price.get(reason, 0) + 1
    if no_price:  # no ladder price meets the per-price rules in some week: name them, not the choice row
        raise InfeasibleModelError("pricing", no_price)
    m = build_pricing_model(inst)
    res = solve_or_explain(m, options or SolveOptions(time_limit_s=60, mip_rel_gap=1e-6))
    return extract_choice(m, inst), res


@dataclass(frozen=True)
class LadderChoice:
    """Best ladder ``price``, its ``quantity`` and ``profit`` ((p − c)·q), and the ``binding`` constraint."""

    price: float
    quantity: float
    profit: float
    binding: str          # "none" | "margin_floor" | "inventory"
    shortfall: float      # expected units beyond the inventory (0 when the inventory can cover demand)


def best_ladder_price(ladder, unit_cost: float, demand, min_margin: float | None = None,
                      inventory: float | None = None) -> LadderChoice:
    """Single-SKU, single-week pricing through :func:`build_pricing_model` (the planner's program).

    ``ladder``: candidate prices (currency/unit); ``demand``: callable price → expected units (negative
    values are read as 0); ``min_margin``:
    floor on ``(p − c)/p``; ``inventory``: units available. ``binding`` names the constraint that moves the
    choice away from the best ladder price without constraints ("none" when nothing does).
    """
    inst = _single_sku_instance(ladder, unit_cost, demand, min_margin, inventory)
    choice, _ = solve_program(inst)
    k = int(choice[0, 0])
    free = int(np.nanargmax(np.where(np.isfinite(inst.ladder[0]), inst.reward()[0, 0], -np.inf)))
    price, q = float(inst.ladder[0, k]), float(inst.units[0, 0, k])
    binding = "none"
    if k != free:
        binding = "margin_floor" if not inst.ok_margin[0, 0, free] else "inventory"
    return LadderChoice(price=price, quantity=q, profit=(price - unit_cost) * q, binding=binding,
                        shortfall=max(0.0, q - inst.stock[0]) if np.isfinite(inst.stock[0]) else 0.0)


def _single_sku_instance(ladder, unit_cost, demand, min_margin, inventory) -> PricingInstance:
    prices = np.unique(np.asarray(list(ladder), dtype=float))
    if prices.size == 0 or not np.isfinite(prices).all() or (prices <= 0).any():
        raise ValueError(f"ladder must be a non-empty list of positive prices, got {list(ladder)!r}")
    if not np.isfinite(unit_cost) or unit_cost < 0:
        raise ValueError(f"unit_cost must be a finite number ≥ 0, got {unit_cost!r}")
    q = np.array([float(demand(p)) for p in prices])
    if not np.isfinite(q).all():
        bad = int(np.flatnonzero(~np.isfinite(q))[0])
        raise ValueError(f"demand(price) must return finite units; demand({prices[bad]}) = {q[bad]}")
    q = np.maximum(q, 0.0)  # a demand curve below zero sells nothing (the kink of a − b·p)
    if inventory is not None and not (np.isfinite(inventory) and inventory >= 0):
        raise ValueError(f"inventory must be a finite number ≥ 0, got {inventory!r}")
    K = prices.size
    floor = -np.inf if min_margin is None else float(min_margin)
    one = np.ones(1)
    return PricingInstance(
        sku_ids=np.array(["sku"]), unit_ids=np.array(["sku"]), unit_of=np.zeros(1, int), weeks=np.array([0]),
        ladder=prices[None, :], cost=one * unit_cost, p0=one * prices[0], list_price=one * prices[-1],
        elasticity=one * np.nan, base=q[None, :1], units=q[None, None, :], competitor=np.full((1, 1), np.nan),
        ok_margin=(prices * (1 - floor) >= unit_cost - 1e-12)[None, None, :], ok_index=np.ones((1, 1, K), bool),
        compat=np.ones((1, K, K), bool), first_ok=np.ones((1, K), bool),
        stock=one * (np.inf if inventory is None else float(inventory)), clear_units=np.zeros(1), clear_week=1,
        penalty=one * 1e3 * prices.max(), held=np.zeros(1, bool), objective="margin")  # stock is hard here
