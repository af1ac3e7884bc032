"""The capacity- and cash-constrained replenishment program, solved by price decomposition.

Program (SKUs i ∈ I, weeks t ∈ 0..T-1; per-SKU symbols as in :mod:`model.inventory.lotsizing`)::

    min  Σ_i cost_i(plan_i)                                       (order, purchase, holding, lost sales,
                                                                   safety-stock shortfall; currency)
    s.t. plan_i feasible for SKU i (lead time, case packs, MOQ, stock cap, inventory balance)
         Σ_i v_i P_it ≤ V_t      storage_capacity  (m³ of post-receipt stock, week t)
         Σ_i (q_it + r_it) ≤ R_t inbound_capacity  (units received in week t)
         Σ_i c_i P_it ≤ B_t      cash_budget       (stock at cost after receipts, currency, week t)

Only the three coupling families link SKUs, so their Lagrangian relaxation with prices
``λ = (μ_t, ν_t, π_t) ≥ 0`` splits into independent single-SKU lot-sizing programs, each solved exactly
by dynamic programming (:func:`model.inventory.lotsizing.solve_group`):

    L(λ) = Σ_i min_{plan_i} [cost_i + μ·v_i P_i + ν·(q_i + r_i) + π·c_i P_i] - μ·V - ν·R - π·B

Every ``L(λ)`` is a lower bound on the optimum (weak duality). The prices come from a Pyomo + HiGHS
master, the cutting-plane (Kelley) model of the dual with a box trust region around the best prices so
far (boxstep method): ``max θ  s.t.  θ ≤ C_k + λ·(U_k - cap) for every evaluated price vector k``. A
feasible plan is built from the per-SKU plans of the rounds (a Lagrangian heuristic): the plans at the
best prices are repaired by switching SKUs to alternatives that free the violated rows at the least cost
per unit freed — alternatives are plans from rounds with the violated rows priced higher, the incumbent,
and the all-zero plan (it uses least of everything, so a feasible plan exists exactly when it is
feasible) — then cost-reducing switches that stay feasible are accepted; finally, in the time left,
SKUs are re-optimised one at a time by an exact DP within the capacity the others leave
(:func:`polish`), most-excess-cost first. The certified gap is
``(UB - LB) / UB``. The program is never silently infeasible: shortfalls are penalised; if even ordering
nothing breaks a coupling row (stock on hand already exceeds storage or budget), the solve raises
:class:`solvers.InfeasibleModelError` naming the family and week.
"""
from __future__ import annotations

import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from model.inventory.lotsizing import GroupPlan, SkuGroup, sku_row, solve_capped, solve_group
from solvers import InfeasibleModelError, SolveOptions, solve

FAMILIES = ("storage_capacity", "inbound_capacity", "cash_budget")
SKU_COLUMNS = {"sku_id": None, "unit_cost": (0, False), "holding_cost": (0, True), "order_cost": (0, True),
               "case_pack": (1, True), "moq": (0, True), "lead_time_weeks": (0, True), "volume_m3": (0, True),
               "on_hand": (0, True), "lost_sale_cost": (0, True), "shortfall_cost": (0, True)}
STATE_CLASSES = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096)


# ----------------------------------------------------------------------------------------- inputs


@dataclass
class ReplenishmentInput:
    """Validated data of the program.

    ``skus``: one row per SKU with ``sku_id``, ``unit_cost`` (currency/unit, > 0), ``holding_cost``
    (currency/unit-week), ``order_cost`` (currency/order), ``case_pack`` (units), ``moq`` (units),
    ``lead_time_weeks`` (whole weeks), ``volume_m3`` (m³/unit), ``on_hand`` (units), ``lost_sale_cost``
    (currency/unit), ``shortfall_cost`` (currency/unit-week below safety stock). Arrays are (SKUs, weeks)
    in units: ``demand``, ``safety_stock``, ``scheduled`` (open purchase orders by arrival week).
    Capacities are per week; ``None`` means the family is absent.
    """

    skus: pd.DataFrame
    weeks: pd.DatetimeIndex
    demand: np.ndarray
    safety_stock: np.ndarray
    scheduled: np.ndarray
    storage_m3: np.ndarray | None = None
    inbound_units: np.ndarray | None = None
    budget: np.ndarray | None = None

    def __post_init__(self):
        problems = _check_input(self)
        if problems:
            raise ValueError("invalid replenishment input:\n  - " + "\n  - ".join(problems))

    @property
    def caps(self) -> np.ndarray:
        """(3, T) capacities of :data:`FAMILIES`, ``inf`` where a family is absent."""
        t = len(self.weeks)
        return np.stack([np.full(t, np.inf) if c is None else np.asarray(c, float)
                         for c in (self.storage_m3, self.inbound_units, self.budget)])


def _check_input(d: ReplenishmentInput) -> list[str]:
    out = []
    missing = [c for c in SKU_COLUMNS if c not in d.skus.columns]
    if missing:
        return [f"skus: missing columns {missing}"]
    if d.skus["sku_id"].duplicated().any():
        out.append(f"skus: duplicated sku_id {d.skus.loc[d.skus['sku_id'].duplicated(), 'sku_id'].tolist()[:5]}")
    for col, (lo, inclusive) in ((c, r) for c, r in SKU_COLUMNS.items() if r is not None):
        v = pd.to_numeric(d.skus[col], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(v) | ((v < lo) if inclusive else (v <= lo))
        if bad.any():
            rows = d.skus.loc[bad, "sku_id"].tolist()[:5]
            out.append(f"skus.{col}: expected a finite number {'>=' if inclusive else '>'} {lo}; bad for {rows}")
    for col in ("case_pack", "lead_time_weeks"):
        v = pd.to_numeric(d.skus[col], errors="coerce").to_numpy(float)
        if np.any(np.isfinite(v) & (v != np.round(v))):
            out.append(f"skus.{col}: expected whole numbers")
    shape = (len(d.skus), len(d.weeks))
    for name in ("demand", "safety_stock", "scheduled"):
        a = np.asarray(getattr(d, name), float)
        if a.shape != shape:
            out.append(f"{name}: expected shape {shape} (SKUs x weeks), got {a.shape}")
        elif not np.all(np.isfinite(a)) or np.any(a < 0):
            i, t = np.argwhere(~np.isfinite(a) | (a < 0))[0]
            out.append(f"{name}: expected finite values >= 0; sku {d.skus['sku_id'].iloc[i]!r} week {t} is {a[i, t]}")
    for name in ("storage_m3", "inbound_units", "budget"):
        a = getattr(d, name)
        if a is not None and (np.shape(a) != (len(d.weeks),) or np.any(~(np.asarray(a, float) >= 0))):
            out.append(f"{name}: expected {len(d.weeks)} weekly capacities >= 0 (or None)")
    return out


@dataclass(frozen=True)
class ReplenishmentParams:
    max_states: int = 160          # stock grid points per SKU before switching to case granules
    max_cover_weeks: float = 16.0  # stock cap: weeks of mean demand (+ max safety stock, MOQ, one case)
    time_limit_s: float = 120.0    # overall wall-clock limit of the decomposition
    target_gap: float = 0.01       # stop at this certified relative gap
    max_iterations: int = 60       # price rounds at most
    workers: int = 1               # processes for the per-SKU programs
    chunk_size: int = 2048         # SKUs per DP call (memory: chunk × weeks × states × 4 bytes)


# ----------------------------------------------------------------------------------------- preparation


@dataclass
class Prepared:
    """The program in granules: per-SKU granule size, DP groups and resource coefficients."""

    data: ReplenishmentInput
    granule: np.ndarray            # (n,) units per granule g_i
    demand: np.ndarray             # (n, T) granules
    scheduled: np.ndarray
    safety: np.ndarray
    init: np.ndarray               # (n,)
    fixed_cost: np.ndarray
    unit_cost_g: np.ndarray
    hold_g: np.ndarray
    lost_g: np.ndarray
    short_g: np.ndarray
    coef: np.ndarray               # (3, n) resource use per granule: of position (storage, cash), received
    chunks: list[tuple[np.ndarray, SkuGroup]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.granule)


def _cum_round(a: np.ndarray) -> np.ndarray:
    """Integer series whose running sums are the rounded running sums of ``a`` (no demand lost by rounding)."""
    c = np.rint(np.cumsum(a, axis=1))
    return np.diff(c, axis=1, prepend=0).astype(np.int64)


def prepare(data: ReplenishmentInput, params: ReplenishmentParams = ReplenishmentParams()) -> Prepared:
    """Choose granules and stock grids, convert to granules and group SKUs for the vectorised DP.

    A SKU is planned in single units when its stock cap fits ``max_states`` grid points; otherwise in
    granules of ``k`` whole cases (the smallest k that fits), so its orders are multiples of ``k`` cases.
    """
    s = data.skus
    cp = s["case_pack"].to_numpy(np.int64)
    moq = s["moq"].to_numpy(float)
    dem = np.asarray(data.demand, float)
    cap_units = (params.max_cover_weeks * dem.mean(axis=1) + np.asarray(data.safety_stock).max(axis=1)
                 + moq + cp)
    k = np.maximum(1, np.ceil(cap_units / (cp * (params.max_states - 1))))
    g = np.where(cap_units + 1 <= params.max_states, 1, cp * k).astype(np.int64)
    case = np.where(g == 1, cp, 1)
    min_cases = np.maximum(1, np.ceil(moq / np.where(g == 1, cp, g))).astype(np.int64)
    demand = _cum_round(dem / g[:, None])
    scheduled = _cum_round(np.asarray(data.scheduled, float) / g[:, None])
    init = np.rint(s["on_hand"].to_numpy(float) / g).astype(np.int64)
    zero_pos = _zero_plan_position(init, scheduled, demand)
    top = np.maximum(np.ceil(cap_units / g), zero_pos.max(axis=1)) + 1
    top = np.maximum(top, min_cases * case + 1)
    classes = np.asarray(STATE_CLASSES)
    n_states = np.where(top <= classes[-1], classes[np.minimum(np.searchsorted(classes, top), len(classes) - 1)],
                        top).astype(np.int64)
    n_states = (np.ceil(n_states / case) * case).astype(np.int64)
    uc = s["unit_cost"].to_numpy(float)
    p = Prepared(
        data=data, granule=g, demand=demand, scheduled=scheduled,
        safety=np.ceil(np.asarray(data.safety_stock, float) / g[:, None] - 1e-9).astype(np.int64), init=init,
        fixed_cost=s["order_cost"].to_numpy(float), unit_cost_g=uc * g,
        hold_g=s["holding_cost"].to_numpy(float) * g, lost_g=s["lost_sale_cost"].to_numpy(float) * g,
        short_g=s["shortfall_cost"].to_numpy(float) * g,
        coef=np.stack([s["volume_m3"].to_numpy(float) * g, g.astype(float), uc * g]))
    p.chunks = _make_chunks(p, n_states, case, min_cases, s["lead_time_weeks"].to_numpy(np.int64),
                            params.chunk_size)
    return p


def _zero_plan_position(init: np.ndarray, scheduled: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Post-receipt positions P_t when nothing is ordered (the least use of every coupling resource)."""
    x = init.astype(np.int64).copy()
    pos = np.zeros_like(demand)
    for t in range(demand.shape[1]):
        pos[:, t] = x + scheduled[:, t]
        x = np.maximum(pos[:, t] - demand[:, t], 0)
    return pos


def _make_chunks(p: Prepared, n_states, case, min_cases, lead, chunk_size) -> list:
    keys = pd.DataFrame({"s": n_states, "c": case})
    chunks = []
    for (s_, c_), idx in keys.groupby(["s", "c"]).indices.items():
        for part in np.array_split(idx, max(1, math.ceil(len(idx) / chunk_size))):
            chunks.append((part, SkuGroup(
                n_states=int(s_), case=int(c_), min_cases=min_cases[part], lead=lead[part], init=p.init[part],
                demand=p.demand[part], scheduled=p.scheduled[part], safety=p.safety[part],
                fixed_cost=p.fixed_cost[part], unit_cost_g=p.unit_cost_g[part], hold_g=p.hold_g[part],
                lost_g=p.lost_g[part], short_g=p.short_g[part])))
    return chunks


# ----------------------------------------------------------------------------------------- plans


@dataclass
class Plan:
    """One plan per SKU (n, T) in granules, with its true cost per SKU."""

    receipts: np.ndarray
    position: np.ndarray
    stock: np.ndarray
    lost: np.ndarray
    cost: np.ndarray = None

    def take(self, mask: np.ndarray, other: "Plan") -> "Plan":
        """This plan with the SKUs in ``mask`` replaced by ``other``'s."""
        pick = lambda a, b: np.where(mask[:, None], b, a)  # noqa: E731
        return Plan(pick(self.receipts, other.receipts), pick(self.position, other.position),
                    pick(self.stock, other.stock), pick(self.lost, other.lost),
                    np.where(mask, other.cost, self.cost))


def sku_cost(p: Prepared, plan: Plan) -> np.ndarray:
    """True cost per SKU: Σ_t K[q>0] + c_g q + h_g x + p_g u + b_g (SS - x)⁺ (currency)."""
    return ((plan.receipts > 0).sum(axis=1) * p.fixed_cost + p.unit_cost_g * plan.receipts.sum(axis=1)
            + p.hold_g * plan.stock.sum(axis=1) + p.lost_g * plan.lost.sum(axis=1)
            + p.short_g * np.maximum(p.safety - plan.stock, 0).sum(axis=1))


def sku_usage(p: Prepared, plan: Plan, rows: np.ndarray | None = None) -> np.ndarray:
    """Use of the coupling resources per SKU, (n, 3, T): storage m³, inbound units, cash at cost."""
    recv = plan.receipts + p.scheduled
    u = np.stack([p.coef[0][:, None] * plan.position, p.coef[1][:, None] * recv,
                  p.coef[2][:, None] * plan.position], axis=1)
    return u if rows is None else u[rows]


def usage(p: Prepared, plan: Plan) -> np.ndarray:
    """Total use (3, T) of :data:`FAMILIES` by a plan."""
    recv = plan.receipts + p.scheduled
    return np.stack([p.coef[0] @ plan.position, p.coef[1] @ recv, p.coef[2] @ plan.position])


def zero_plan(p: Prepared) -> Plan:
    pos = _zero_plan_position(p.init, p.scheduled, p.demand)
    stock = np.maximum(pos - p.demand, 0)
    plan = Plan(np.zeros_like(pos), pos, stock, stock - pos + p.demand)
    plan.cost = sku_cost(p, plan)
    return plan


# ----------------------------------------------------------------------------------------- price sweep

_WORKER: dict = {}


def _init_pool_worker(chunks, coef):
    _WORKER["chunks"], _WORKER["coef"] = chunks, coef


def _solve_chunk(j: int, lam: np.ndarray) -> GroupPlan:
    idx, grp = _WORKER["chunks"][j]
    return _solve_priced(idx, grp, _WORKER["coef"], lam)


def _solve_priced(idx, grp: SkuGroup, coef, lam: np.ndarray) -> GroupPlan:
    """DP of one chunk at prices ``lam`` (3, T) (storage μ, inbound ν, cash π)."""
    c = coef[:, idx]
    pos_price = c[0][:, None] * lam[0] + c[2][:, None] * lam[2]
    inb_price = c[1][:, None] * lam[1]
    return solve_group(grp, pos_price, inb_price)


class Sweeper:
    """Solves every SKU's DP at given prices, in-process or over a process pool (``workers > 1``)."""

    def __init__(self, p: Prepared, workers: int = 1):
        self.p = p
        self.pool = (ProcessPoolExecutor(workers, initializer=_init_pool_worker, initargs=(p.chunks, p.coef))
                     if workers > 1 else None)

    def __call__(self, lam: np.ndarray) -> Plan:
        p = self.p
        if self.pool is None:
            parts = [_solve_priced(idx, grp, p.coef, lam) for idx, grp in p.chunks]
        else:
            parts = list(self.pool.map(_solve_chunk, range(len(p.chunks)), [lam] * len(p.chunks)))
        shape = p.demand.shape
        arrays = {k: np.zeros(shape, dtype=np.int32) for k in ("receipts", "position", "stock", "lost")}
        for (idx, _), part in zip(p.chunks, parts):
            for k in arrays:
                arrays[k][idx] = getattr(part, k)
        plan = Plan(**arrays)
        plan.cost = sku_cost(p, plan)
        return plan

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


# ----------------------------------------------------------------------------------------- price master


def add_price_cuts(m: pyo.ConcreteModel, cuts: list[tuple[float, np.ndarray]]) -> None:
    """price_cuts: ``θ ≤ C_k + Σ_r y_r a_kr`` for every evaluated price vector k.

    ``C_k`` is the true cost of round k's plans and ``a_kr = s_r (U_kr - cap_r)`` the scaled excess use of
    row r (both divided by a common cost scale); ``y_r ≥ 0`` are the scaled prices (price = y_r s_r).
    """
    m.price_cuts = pyo.Constraint(m.K, rule=lambda m, k: m.theta <= cuts[k][0] + sum(
        float(a) * m.price[r] for r, a in enumerate(cuts[k][1]) if a != 0.0))


def build_price_master(cuts: list[tuple[float, np.ndarray]], center: np.ndarray, box: float) -> pyo.ConcreteModel:
    """Cutting-plane model of the Lagrangian dual in a box: ``max θ`` s.t. price_cuts, ``|y - center| ≤ box``."""
    m = pyo.ConcreteModel(name="replenishment_price_master")
    m.R = pyo.RangeSet(0, len(center) - 1)
    m.K = pyo.RangeSet(0, len(cuts) - 1)
    m.price = pyo.Var(m.R, bounds=lambda m, r: (max(0.0, center[r] - box), center[r] + box))
    m.theta = pyo.Var()
    add_price_cuts(m, cuts)
    m.objective = pyo.Objective(expr=m.theta, sense=pyo.maximize)
    return m


class PriceMaster:
    """Boxstep cutting-plane coordination of the prices of the active coupling rows."""

    def __init__(self, p: Prepared, caps: np.ndarray):
        self.active = np.isfinite(caps)
        self.caps = caps
        h = p.hold_g / p.granule
        unit = p.coef / p.granule
        with np.errstate(divide="ignore", invalid="ignore"):
            typ = [np.nanmedian(np.where(unit[f] > 0, h / unit[f], np.nan)) for f in range(3)]
        self.typ = np.array([t if np.isfinite(t) and t > 0 else 1e-3 for t in typ])
        self.scale_rows = np.broadcast_to(self.typ[:, None], caps.shape)[self.active]
        self.cuts: list[tuple[float, np.ndarray]] = []
        self.cost_scale = None
        self.center = np.zeros(int(self.active.sum()))
        self.box = 1.0
        self.solves: list[dict] = []

    def prices(self, y: np.ndarray) -> np.ndarray:
        lam = np.zeros(self.caps.shape)
        lam[self.active] = y * self.scale_rows
        return lam

    def add_cut(self, cost: float, use: np.ndarray) -> None:
        self.cost_scale = self.cost_scale or max(abs(cost), 1.0)
        a = self.scale_rows * (use - self.caps)[self.active] / self.cost_scale
        self.cuts.append((cost / self.cost_scale, a))

    def next_prices(self, time_limit_s: float) -> tuple[np.ndarray, float] | None:
        """Solve the master; returns (scaled prices y, θ in currency) or None when no solution in time."""
        m = build_price_master(self.cuts, self.center, self.box)
        r = solve(m, SolveOptions(time_limit_s=max(time_limit_s, 0.05), mip_rel_gap=0.0))
        self.solves.append(r.as_dict())
        if not r.status.has_solution:
            return None
        y = np.array([pyo.value(m.price[i]) for i in m.R])
        return y, float(pyo.value(m.theta)) * self.cost_scale


# ----------------------------------------------------------------------------------------- primal repair


def _rows_usage(p: Prepared, plan: Plan, fam: np.ndarray, wk: np.ndarray) -> np.ndarray:
    """Use of the rows (fam, wk) per SKU, (n, k)."""
    pos = plan.position[:, wk]
    recv = plan.receipts[:, wk] + p.scheduled[:, wk]
    return np.where(fam == 1, recv, pos) * p.coef[fam].T


def _one_usage(p: Prepared, plan: Plan, i: int) -> np.ndarray:
    recv = plan.receipts[i] + p.scheduled[i]
    return np.stack([p.coef[0, i] * plan.position[i], p.coef[1, i] * recv, p.coef[2, i] * plan.position[i]])


def _tolerance(caps: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(caps), 1e-9 * np.abs(caps) + 1e-9, np.inf)


def repair(p: Prepared, caps: np.ndarray, start: Plan, alternatives: list[Plan], max_rounds: int = 50) -> Plan:
    """Make ``start`` feasible: switch SKUs to the alternative that frees violated rows at the least cost
    per (capacity-normalised) unit freed, never worsening another row. The zero plan must be among the
    alternatives, which guarantees success on a feasible program."""
    x = start
    tol = _tolerance(caps)
    for _ in range(max_rounds):
        viol = usage(p, x) - caps
        fam, wk = np.nonzero(viol > tol)
        if fam.size == 0:
            return x
        v = viol[fam, wk]
        base = _rows_usage(p, x, fam, wk)
        ratios, skus, alts = [], [], []
        for a, alt in enumerate(alternatives):
            freed = np.minimum(np.maximum(base - _rows_usage(p, alt, fam, wk), 0), v) / caps[fam, wk]
            red = freed.sum(axis=1)
            i = np.nonzero(red > 0)[0]
            ratios.append(np.maximum(alt.cost[i] - x.cost[i], 0) / red[i])
            skus.append(i)
            alts.append(np.full(i.size, a))
        ratio, sku, alt_of = (np.concatenate(z) for z in (ratios, skus, alts))
        order = np.argsort(ratio, kind="stable")
        x = _apply_repairs(p, caps, x, alternatives, sku[order], alt_of[order])
    raise RuntimeError("repair did not reach a feasible plan; is the zero plan among the alternatives?")


def _apply_repairs(p, caps, x, alternatives, skus: np.ndarray, alts: np.ndarray) -> Plan:
    """Apply the (SKU, alternative) switches in the given order while they reduce a violated row and
    worsen no other row past its capacity; at most one switch per SKU."""
    tol = _tolerance(caps)
    use = usage(p, x)
    choice = np.full(p.n, -1)
    for i, a in zip(skus, alts):
        if choice[i] >= 0:
            continue
        over = use - caps > tol
        if not over.any():
            break
        delta = _one_usage(p, alternatives[a], i) - _one_usage(p, x, i)
        if (delta[over] < 0).any() and np.all((delta <= 0) | (use + delta <= np.maximum(caps, use) + tol)):
            use = use + delta
            choice[i] = a
    for a, alt in enumerate(alternatives):
        if (choice == a).any():
            x = x.take(choice == a, alt)
    return x


def improve(p: Prepared, caps: np.ndarray, x: Plan, alternatives: list[Plan], max_tries: int = 20000) -> Plan:
    """Accept switches to cheaper per-SKU plans, cheapest first, while every row stays within capacity."""
    tol = _tolerance(caps)
    for alt in alternatives:
        gain = x.cost - alt.cost
        cand = np.nonzero(gain > 1e-9)[0]
        if cand.size == 0:
            continue
        cand = cand[np.argsort(-gain[cand], kind="stable")][:max_tries]
        delta = (sku_usage(p, alt, cand) - sku_usage(p, x, cand))
        use = usage(p, x)
        cum = use + np.cumsum(delta, axis=0)
        ok = np.all(cum <= caps + tol, axis=(1, 2))
        n_prefix = int(np.argmin(ok)) if not ok.all() else len(cand)
        take = np.zeros(p.n, dtype=bool)
        take[cand[:n_prefix]] = True
        use = cum[n_prefix - 1] if n_prefix else use
        for j in range(n_prefix, len(cand)):
            if np.all(use + delta[j] <= caps + tol):
                use = use + delta[j]
                take[cand[j]] = True
        x = x.take(take, alt)
    return x


def _residual_caps(p: Prepared, caps: np.ndarray, x: Plan, use: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
    """SKU i's caps in granules when every other SKU keeps its plan in ``x``: position (storage and cash
    rows) and planned receipts (inbound row, net of scheduled receipts)."""
    free = caps - use + _one_usage(p, x, i)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(p.coef[:, i, None] > 0, free / p.coef[:, i, None], np.inf)
    pos_cap = np.floor(np.minimum(per[0], per[2]) + 1e-9)
    return pos_cap, np.floor(per[1] + 1e-9) - p.scheduled[i]


def polish(p: Prepared, caps: np.ndarray, x: Plan, order: np.ndarray, deadline: float) -> Plan:
    """Re-optimise SKUs one at a time, in ``order``, exactly (:func:`solve_capped`) within the capacity the
    other SKUs leave; each accepted change lowers the cost and keeps the plan feasible."""
    x = Plan(x.receipts.copy(), x.position.copy(), x.stock.copy(), x.lost.copy(), x.cost.copy())
    where = {int(i): (grp, row) for idx, grp in p.chunks for row, i in enumerate(idx)}
    use = usage(p, x)
    for i in order:
        if time.perf_counter() > deadline:
            break
        grp, row = where[int(i)]
        pos_cap, rcv_cap = _residual_caps(p, caps, x, use, i)
        new = solve_capped(sku_row(grp, row), pos_cap, rcv_cap)
        if not new.value[0] < x.cost[i] - 1e-9 * max(1.0, abs(x.cost[i])):
            continue
        before = _one_usage(p, x, i)
        for k in ("receipts", "position", "stock", "lost"):
            getattr(x, k)[i] = getattr(new, k)[0]
        x.cost[i] = _row_cost(p, x, i)
        use += _one_usage(p, x, i) - before
    return x


def _row_cost(p: Prepared, x: Plan, i: int) -> float:
    q, st, lost = x.receipts[i], x.stock[i], x.lost[i]
    return float((q > 0).sum() * p.fixed_cost[i] + p.unit_cost_g[i] * q.sum() + p.hold_g[i] * st.sum()
                 + p.lost_g[i] * lost.sum() + p.short_g[i] * np.maximum(p.safety[i] - st, 0).sum())


# ----------------------------------------------------------------------------------------- decomposition


@dataclass
class ReplenishmentResult:
    prepared: Prepared
    plan: Plan
    status: str                    # optimal (gap ≤ target) | feasible (stopped by time or iterations)
    upper_bound: float             # cost of the plan
    lower_bound: float             # best Lagrangian bound
    gap: float                     # (UB - LB) / UB
    iterations: int
    wall_s: float
    prices: np.ndarray             # (3, T) best prices found: storage /m³-week, inbound /unit, cash /currency
    history: list[dict] = field(default_factory=list)
    solves: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        return {"status": self.status, "objective": self.upper_bound, "bound": self.lower_bound,
                "gap": self.gap, "iterations": self.iterations, "wall_s": round(self.wall_s, 3),
                "skus": self.prepared.n, "weeks": len(self.prepared.data.weeks)}


def check_feasible(p: Prepared, caps: np.ndarray) -> Plan:
    """The zero plan; raises :class:`InfeasibleModelError` naming the rows it already breaks."""
    z = zero_plan(p)
    viol = usage(p, z) - caps
    bad = np.argwhere(viol > _tolerance(caps))
    if len(bad):
        fams: dict[str, float] = {}
        for f, t in bad:
            fams[FAMILIES[f]] = fams.get(FAMILIES[f], 0.0) + float(viol[f, t])
        weeks = ", ".join(f"{FAMILIES[f]} in week {p.data.weeks[t].date()}" for f, t in bad[:5])
        err = InfeasibleModelError("replenishment", dict(sorted(fams.items(), key=lambda kv: -kv[1])))
        err.args = (f"{err.args[0]} Even ordering nothing breaks: {weeks}.",)
        raise err
    return z


def solve_replenishment(data: ReplenishmentInput, params: ReplenishmentParams = ReplenishmentParams(),
                        progress=lambda msg: None) -> ReplenishmentResult:
    """Price decomposition of the program (module docstring); honours ``params.time_limit_s`` overall.

    Phase 1 moves the prices by the boxstep master until the bound stalls (or half the time is used);
    phase 2 raises the prices of the rows the best-priced plans violate, step by step, and repairs those
    plans with the resulting cap-aware alternatives (a Lagrangian heuristic; until 80 % of the time);
    every sweep of either phase also tightens the bound; phase 3 polishes the incumbent SKU by SKU.
    """
    run = _Run(data, params, progress)
    try:
        run.dual_phase()
        run.primal_phase()
        run.polish_phase()
    finally:
        run.sweep.close()
    return run.result()


class _Run:
    """State of one decomposition run: prices, bound, incumbent and the plans kept as alternatives."""

    def __init__(self, data, params, progress):
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + params.time_limit_s
        self.params, self.progress = params, progress
        self.p = prepare(data, params)
        self.caps = data.caps
        self.zero = check_feasible(self.p, self.caps)
        self.master = PriceMaster(self.p, self.caps)
        self.sweep = Sweeper(self.p, params.workers)
        self.best, self.lb, self.lam_best, self.plan_best = self.zero, -np.inf, np.zeros(self.caps.shape), None
        self.recent: list[Plan] = []
        self.history: list[dict] = []
        self.k, self.sweep_s, self.offer_s = 0, 0.0, 0.0

    # -- bookkeeping
    @property
    def gap(self) -> float:
        ub = float(self.best.cost.sum())
        return max(ub - self.lb, 0.0) / max(abs(ub), 1e-9)

    def done(self) -> bool:
        return (self.gap <= self.params.target_gap or not self.master.active.any()
                or self.k >= self.params.max_iterations
                or self.deadline - time.perf_counter() < 1.5 * (self.sweep_s + self.offer_s) + 0.3)

    def evaluate(self, lam: np.ndarray) -> tuple[Plan, float]:
        """One sweep: the plans at ``lam``, their Lagrangian value, a cut for the master, the bound."""
        self.k += 1
        ts = time.perf_counter()
        plan = self.sweep(lam)
        self.sweep_s = time.perf_counter() - ts
        use = usage(self.p, plan)
        value = plan.cost.sum() + float((lam * np.where(self.master.active, use - self.caps, 0.0)).sum())
        self.master.add_cut(float(plan.cost.sum()), use)
        if value > self.lb:
            self.lb, self.lam_best, self.plan_best = value, lam, plan
        if self.k == 1:
            self.free_cost = plan.cost          # prices are zero in the first round
        return plan, value

    def offer(self, plan: Plan, alts: list[Plan]) -> None:
        """Repair ``plan`` with ``alts``, improve it and the incumbent, keep the cheapest."""
        ts = time.perf_counter()
        alts = [self.zero, self.best] + alts
        cand = improve(self.p, self.caps, repair(self.p, self.caps, plan, alts), alts)
        cand2 = improve(self.p, self.caps, self.best, [plan])
        self.best = min((self.best, cand, cand2), key=lambda q: q.cost.sum())
        self.offer_s = time.perf_counter() - ts
        self.history.append({"iteration": self.k, "lower_bound": self.lb, "upper_bound": float(self.best.cost.sum()),
                             "gap": self.gap, "seconds": time.perf_counter() - self.t0})
        self.progress(f"replenishment round {self.k}: LB {self.lb:,.0f} UB {self.best.cost.sum():,.0f} "
                      f"gap {self.gap:.3%}")

    # -- phases
    def dual_phase(self) -> None:
        m, y, theta, nulls = self.master, self.master.center, None, 0
        half = self.t0 + 0.5 * self.params.time_limit_s
        while True:
            lb_before = self.lb
            plan, value = self.evaluate(m.prices(y))
            if value > lb_before:
                serious = theta is None or value >= lb_before + 0.1 * (theta - lb_before)
                if serious:
                    at_edge = theta is not None and np.any(np.isclose(np.abs(y - m.center), m.box))
                    m.center, nulls = y, 0
                    m.box *= 2.0 if at_edge else 1.0
            else:
                nulls += 1
                if nulls >= 3:
                    m.box, nulls = m.box * 0.5, 0
            self.offer(plan, self.recent)
            self.recent = (self.recent + [plan])[-3:]
            stalled = len(self.history) > 4 and self.lb - self.history[-5]["lower_bound"] <= 1e-4 * abs(self.lb)
            if self.done() or stalled or time.perf_counter() > half:
                return
            nxt = m.next_prices(min(self.deadline - time.perf_counter() - 1.2 * self.sweep_s, 30.0))
            if nxt is None:
                return
            y, theta = nxt

    def primal_phase(self) -> None:
        """Raise the prices of the rows the best-priced plans violate by growing steps; repair those
        plans with each round's cap-aware plans as alternatives."""
        if self.plan_best is None or self.done():
            return
        base, lam0 = self.plan_best, self.lam_best
        over = usage(self.p, base) > self.caps
        typ = np.broadcast_to(self.master.typ[:, None], self.caps.shape)
        alts: list[Plan] = []
        step, stale = 0.05, 0
        late = self.t0 + 0.8 * self.params.time_limit_s      # leave time for the polish phase
        while not self.done() and stale < 3 and time.perf_counter() < late:
            ub = float(self.best.cost.sum())
            lam = lam0 + step * np.where(over, lam0 + 0.1 * typ, 0.0)
            plan, _ = self.evaluate(lam)
            alts = (alts + [plan])[-4:]
            self.offer(base, alts)
            stale = stale + 1 if self.best.cost.sum() >= ub - 1e-9 * abs(ub) else 0
            step *= 2.0

    def polish_phase(self, passes: int = 3) -> None:
        """Spend the time left re-optimising, one by one, the SKUs whose plan costs most above their
        unconstrained optimum (the first sweep's plan); repeat while a pass still lowers the cost."""
        stop = self.deadline - 0.05 * self.params.time_limit_s
        for _ in range(passes):
            excess = self.best.cost - self.free_cost
            order = np.argsort(-excess, kind="stable")[: int((excess > 1e-9).sum())]
            if order.size == 0 or self.gap <= self.params.target_gap or time.perf_counter() > stop:
                return
            before = float(self.best.cost.sum())
            self.best = polish(self.p, self.caps, self.best, order, stop)
            if not self.best.cost.sum() < before - 1e-9 * abs(before):
                return
            self.history.append({"iteration": self.k, "lower_bound": self.lb, "gap": self.gap,
                                 "upper_bound": float(self.best.cost.sum()), "seconds": time.perf_counter() - self.t0})
            self.progress(f"replenishment polish: UB {self.best.cost.sum():,.0f} gap {self.gap:.3%}")

    def result(self) -> ReplenishmentResult:
        ub = float(self.best.cost.sum())
        return ReplenishmentResult(self.p, self.best, "optimal" if self.gap <= self.params.target_gap else "feasible",
                                   ub, self.lb, self.gap, self.k, time.perf_counter() - self.t0, self.lam_best,
                                   self.history, self.master.solves)
