"""Catalogue-scale solution of the pricing program (:mod:`model.pricing.program`) by decomposition.

Structure: the program separates by price unit ``u`` (a family, or a lone SKU): every constraint lives
inside one unit. Within a unit the only coupling over weeks is

* the max-change chain ``compat(k_{t−1}, k_t)`` — a path through a [T × K] trellis, solved exactly by dynamic
  programming (``V_t(k) = r_t(k) + max_{j: compat(j,k)} V_{t−1}(j)``), vectorised over all units at once;
* the knapsack rows ``inventory`` (Σ q·x ≤ stock) and ``markdown_clearance`` (Σ_{t<t_c} q̃·x ≥ γ·stock,
  ``q̃`` the target's cautious units) of stock-limited and markdown SKUs. They are dualised with multipliers
  ``λ_s ∈ [0, P^over_s]``, ``μ_s ∈ [0, P_s]`` (the slack prices, so the dual of the soft program is bounded
  there): the DP with rewards ``r − λ·q + μ·q̃·[t < t_c]`` gives the upper bound ``L(λ, μ) = DP value + λ·stock − μ·γ·stock`` and a
  plan whose true objective is a lower bound. ``λ`` and ``μ`` are found by bisection on the sign of the
  constraint violation, nested (outer μ, inner λ).

While the total gap exceeds the tolerance, the units with the largest Lagrangian gaps are re-solved exactly
with HiGHS (the same program, built directly: :mod:`model.pricing.highs_direct`), so the reported gap
``(Σ UB − Σ LB)/|Σ LB|`` is a certified bound.
Partitions of units are independent: each is a plain DataFrame → DataFrame call
(:func:`model.pricing.plan.plan_partition`) for a process pool or Spark ``applyInPandas``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from model.pricing.instance import PricingInstance, infeasibility_reason, subset
from model.pricing.highs_direct import solve_direct
from model.pricing.trellis import chain_dp

OUTER_STEPS, INNER_STEPS = 16, 12  # bisection steps on μ (markdown rows) and on λ (stock rows) per μ


@dataclass
class _Search:
    """Best plan (lower bound) and best Lagrangian bound (upper bound) seen per unit."""

    choice: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lam: np.ndarray
    mu: np.ndarray


class Decomposition:
    """Per-unit DP with Lagrangian multipliers for the knapsack rows of one :class:`PricingInstance`."""

    def __init__(self, inst: PricingInstance):
        self.inst = inst
        S, T, K = inst.shape
        self.R = np.nan_to_num(inst.reward(), nan=0.0)
        self.bad_u = (inst.membership() @ (~inst.allowed()).reshape(S, -1)).reshape(-1, T, K) > 0
        self.early = (np.arange(T) < inst.clear_week)[None, :, None]
        self.stock = np.where(np.isfinite(inst.stock), inst.stock, 0.0)

    def solve(self, lam: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """DP at multipliers (λ, μ): plan [U,T] and Lagrangian upper bound per unit [U]."""
        inst, (S, T, K) = self.inst, self.inst.shape
        adj = self.R + mu[:, None, None] * self.early * inst.clear_q - lam[:, None, None] * inst.units
        Ru = (inst.membership() @ adj.reshape(S, -1)).reshape(-1, T, K)
        choice, value = chain_dp(np.where(self.bad_u, -np.inf, Ru), inst.compat, inst.first_ok)
        const = np.bincount(inst.unit_of, lam * self.stock - mu * inst.clear_units, minlength=inst.n_units)
        return choice, value + const

    def evaluate(self, choice: np.ndarray) -> dict[str, np.ndarray]:
        """True objective of a plan per SKU: reward minus slack penalties; sold and cleared units."""
        inst = self.inst
        k = choice[inst.unit_of]                                        # [S,T]
        q = np.take_along_axis(inst.units, k[:, :, None], axis=2)[:, :, 0]
        r = np.take_along_axis(self.R, k[:, :, None], axis=2)[:, :, 0]
        qc = np.take_along_axis(inst.clear_q, k[:, :, None], axis=2)[:, :inst.clear_week, 0]
        sold, cleared = q.sum(axis=1), qc.sum(axis=1)
        over = np.maximum(0.0, sold - inst.stock)
        short = np.maximum(0.0, inst.clear_units - cleared)
        return {"objective": r.sum(axis=1) - inst.over_penalty * over - inst.penalty * short, "sold": sold,
                "cleared": cleared, "over": over, "short": short}

    def _record(self, st: _Search, lam, mu) -> dict[str, np.ndarray]:
        choice, upper = self.solve(lam, mu)
        ev = self.evaluate(choice)
        lower = np.bincount(self.inst.unit_of, ev["objective"], minlength=self.inst.n_units)
        better = (lower > st.lower) & np.isfinite(upper)
        st.choice[better], st.lower[better] = choice[better], lower[better]
        st.upper = np.minimum(st.upper, upper)
        return ev

    def _bisect_lambda(self, st: _Search) -> dict[str, np.ndarray]:
        """For the current μ, bisection on λ ∈ [0, P] per SKU whose stock row is violated at λ = 0."""
        inst = self.inst
        st.lam[:] = 0.0
        ev = self._record(st, st.lam, st.mu)
        viol = ev["over"] > 1e-9
        lo, hi = np.zeros_like(st.lam), np.where(viol, inst.over_penalty, 0.0)
        for _ in range(INNER_STEPS if viol.any() else 0):
            st.lam[:] = (lo + hi) / 2
            v = self._record(st, st.lam, st.mu)["over"] > 1e-9
            lo, hi = np.where(v, st.lam, lo), np.where(v, hi, st.lam)
        st.lam[:] = hi
        return self._record(st, st.lam, st.mu)

    def run(self) -> _Search:
        """Nested bisection: outer on μ (markdown rows), inner on λ (stock rows) given μ.

        ``min_λ L(λ, μ)`` is convex in ``μ`` with subgradient ``γ·stock − cleared`` at the inner optimum, so
        bisection on the sign of the shortfall finds its minimiser; the DP runs once per (λ, μ) probe for all
        units at once. Every probe updates the best plan and the best bound of each unit.
        """
        inst, S = self.inst, len(self.inst.sku_ids)
        st = _Search(choice=np.zeros((inst.n_units, inst.shape[1]), np.int64),
                     lower=np.full(inst.n_units, -np.inf), upper=np.full(inst.n_units, np.inf),
                     lam=np.zeros(S), mu=np.zeros(S))
        ev = self._bisect_lambda(st)
        short = ev["short"] > 1e-9
        lo, hi = np.zeros(S), np.where(short, inst.penalty, 0.0)
        for _ in range(OUTER_STEPS if short.any() else 0):
            st.mu[:] = (lo + hi) / 2
            v = self._bisect_lambda(st)["short"] > 1e-9
            lo, hi = np.where(v, st.mu, lo), np.where(v, hi, st.mu)
        st.mu[:] = hi
        self._bisect_lambda(st)
        return st


@dataclass
class PlanSolution:
    """Chosen ladder slot per unit and week, bounds, multipliers and how it was obtained."""

    choice: np.ndarray                 # [U,T], −1 where the unit has no feasible plan
    lower: np.ndarray                  # [U] objective of the plan
    upper: np.ndarray                  # [U] proven upper bound
    lam: np.ndarray                    # [S]
    mu: np.ndarray                     # [S]
    infeasible: dict[int, str]         # unit → constraint families that conflict
    stats: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        ok = self.choice[:, 0] >= 0
        lo, up = self.lower[ok].sum(), self.upper[ok].sum()
        return float((up - lo) / max(abs(lo), 1e-9)) if ok.any() else 0.0


def _search_by_parts(inst: PricingInstance) -> _Search:
    """One DP for the units without knapsack rows; the multiplier search only on the units with them."""
    knap_sku = np.isfinite(inst.stock) | (inst.clear_units > 0)
    knap = np.zeros(inst.n_units, bool)
    knap[inst.unit_of[knap_sku]] = True
    S, (U, T) = len(inst.sku_ids), (inst.n_units, inst.shape[1])
    st = _Search(choice=np.zeros((U, T), np.int64), lower=np.zeros(U), upper=np.zeros(U), lam=np.zeros(S),
                 mu=np.zeros(S))
    for units in (np.flatnonzero(~knap), np.flatnonzero(knap)):
        if units.size == 0:
            continue
        part = Decomposition(subset(inst, units)).run()
        skus = np.flatnonzero(np.isin(inst.unit_of, units))
        st.choice[units], st.lower[units], st.upper[units] = part.choice, part.lower, part.upper
        st.lam[skus], st.mu[skus] = part.lam, part.mu
    return st


def solve_decomposed(inst: PricingInstance, rel_gap: float = 0.005, time_limit_s: float = 60.0) -> PlanSolution:
    """Solve ``inst`` by the decomposition; while the total gap exceeds ``rel_gap``, re-solve the units with
    the largest Lagrangian gaps exactly with HiGHS (largest first, within ``time_limit_s``)."""
    t0 = time.perf_counter()
    st = _search_by_parts(inst)
    infeasible = {int(u): infeasibility_reason(inst, u) for u in np.flatnonzero(~np.isfinite(st.upper))}
    st.choice[list(infeasible)] = -1
    t_dp = time.perf_counter() - t0
    st.lower[list(infeasible)] = st.upper[list(infeasible)] = 0.0
    todo = [int(u) for u in np.argsort(-(st.upper - st.lower)) if st.upper[u] - st.lower[u] > 1e-9]
    polished = 0
    for u in todo:
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 1.0 or st.upper.sum() - st.lower.sum() <= rel_gap * abs(st.lower.sum()):
            break
        ch, obj, bound, _ = solve_direct(subset(inst, np.array([u])), min(left, 30.0), rel_gap / 2,
                                         start=st.choice[u:u + 1])
        if obj >= st.lower[u] - 1e-9:
            st.choice[u], st.lower[u] = ch[0], obj
            st.upper[u] = min(st.upper[u], bound)
            polished += 1
    stats = {"dp_seconds": round(t_dp, 4), "units_polished": polished, "units_above_gap": len(todo),
             "seconds": round(time.perf_counter() - t0, 4)}
    return PlanSolution(st.choice, st.lower, st.upper, st.lam, st.mu, infeasible, stats)
