"""Exact per-SKU lot sizing by dynamic programming, vectorised over a group of SKUs.

The subproblem of the replenishment program for one SKU, at given prices of the shared resources, is a
single-item lot-sizing problem with integer case packs, a minimum order quantity, a fixed order cost, a
supplier lead time, lost sales and a penalised safety-stock shortfall. Quantities are counted in
*granules* of ``g`` units (``g`` divides the case pack; see :mod:`model.inventory.replenishment`).

Index sets and symbols (one SKU; weeks t = 0..T-1; all stocks in granules)::

    x_{t-1}   on hand at the start of week t (x_{-1} = initial stock x0)
    r_t       scheduled receipts (open purchase orders) arriving in week t
    q_t       planned receipts, q_t ∈ {0} ∪ {m c : m ≥ m_min}, q_t = 0 for t < L (lead time, weeks)
    P_t       post-receipt position  P_t = x_{t-1} + r_t + q_t,  0 ≤ P_t ≤ S - 1 (stock cap)
    x_t       end-of-week stock      x_t = max(0, P_t - d_t), lost sales u_t = max(0, d_t - P_t)
    s_t       safety-stock shortfall s_t = max(0, SS_t - x_t)

    cost  = Σ_t K·[q_t > 0] + (c_g + ν_t g) q_t + w_t P_t + h_g x_t + p_g u_t + b_g s_t

with K the fixed order cost, c_g the purchase cost per granule, h_g the holding cost per granule-week,
p_g the lost-sale penalty per granule, b_g the shortfall penalty per granule-week, and the resource
prices of the coordinating master: ``w_t`` per granule of position (storage and cash) and ``ν_t`` per
unit received. At zero prices this is the SKU's true cost.

The forward recursion over the state x (all SKUs of a group at once, numpy) has three steps per week:

1. receive:  F̃(z) = F(z - r_t)
2. order:    G(P) = min( F̃(P),  K + (c_g+ν_t g) P + min_{m ≥ m_min} [F̃(P - m c) - (c_g+ν_t g)(P - m c)] )
             — a strided prefix minimum along each residue class of P mod c;
3. sell:     E(x) = G(x + d_t) + w_t (x + d_t)                          for x ≥ 1 (no sale lost)
             E(0) = min_{P ≤ d_t} [G(P) + w_t P + p_g (d_t - P)]          (u = d_t - P lost)
             plus h_g x + b_g (SS_t - x)⁺ — sales are lost only when stock runs out.

Backpointers recover the optimal plan. The recursion is exact for the model above (no heuristics), so
its value is a valid Lagrangian subproblem value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

INF = np.inf


@dataclass
class SkuGroup:
    """Inputs of the DP for B SKUs sharing ``n_states`` and ``case`` (all in granules).

    Arrays are (B,) or (B, T). Costs are currency per granule (``*_g``) or per order (``fixed_cost``).
    """

    n_states: int              # S: stock grid 0..S-1 granules (the stock cap)
    case: int                  # c: granules per case
    min_cases: np.ndarray      # (B,) m_min ≥ 1: cases in the smallest order (MOQ)
    lead: np.ndarray           # (B,) lead time, weeks
    init: np.ndarray           # (B,) initial stock x0
    demand: np.ndarray         # (B, T) d_t
    scheduled: np.ndarray      # (B, T) r_t
    safety: np.ndarray         # (B, T) SS_t
    fixed_cost: np.ndarray     # (B,) K
    unit_cost_g: np.ndarray    # (B,) c_g
    hold_g: np.ndarray         # (B,) h_g
    lost_g: np.ndarray         # (B,) p_g
    short_g: np.ndarray        # (B,) b_g


@dataclass
class GroupPlan:
    """The DP's optimal plan for a group, (B, T) integer arrays in granules, and its priced value."""

    receipts: np.ndarray       # q_t
    position: np.ndarray       # P_t
    stock: np.ndarray          # x_t
    lost: np.ndarray           # u_t
    value: np.ndarray          # (B,) optimal priced cost


def _running_argmin(values: np.ndarray, ar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prefix minimum along the last axis and the index attaining it (``ar`` = arange of that axis)."""
    cm = np.minimum.accumulate(values, axis=-1)
    return cm, np.maximum.accumulate(np.where(values <= cm, ar, 0), axis=-1)


def _order_step(ft: np.ndarray, unit: np.ndarray, g: SkuGroup, can_order: np.ndarray,
                lag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 2: best cost of each position P and the pre-order state z it came from (-1: no order).

    ``lag`` (B, 1, S/c) holds ``j - m_min`` for the strided index j of P = j c + residue.
    """
    b, s = ft.shape
    c = g.case
    pos = np.arange(s)
    h = (ft - unit[:, None] * pos).reshape(b, s // c, c).transpose(0, 2, 1)      # (B, residue, j)
    cm, arg = _running_argmin(h, np.arange(s // c))
    idx = np.broadcast_to(np.maximum(lag, 0), cm.shape)
    best = np.where(lag >= 0, np.take_along_axis(cm, idx, axis=2), INF)
    src = np.take_along_axis(arg, idx, axis=2)
    best = best.transpose(0, 2, 1).reshape(b, s)
    src_z = src.transpose(0, 2, 1).reshape(b, s) * c + (pos % c)[None, :]
    cand = g.fixed_cost[:, None] + unit[:, None] * pos + best
    cand[~can_order] = INF
    order = cand < ft
    return np.where(order, cand, ft), np.where(order, src_z, -1)


def solve_group(g: SkuGroup, pos_price: np.ndarray, inb_price: np.ndarray) -> GroupPlan:
    """Exact DP of every SKU in ``g`` at prices ``pos_price`` (B, T) per granule of position and
    ``inb_price`` (B, T) per granule received; returns the optimal plans (see module docstring)."""
    b, t_len = g.demand.shape
    s = g.n_states
    pos = np.arange(s)
    rows = np.arange(b)[:, None]
    lag = (np.arange(s // g.case)[None, :] - g.min_cases[:, None])[:, None, :]
    f = np.full((b, s), INF)
    f[np.arange(b), g.init] = 0.0
    back_p = np.empty((t_len, b, s), dtype=np.int16)
    back_z = np.empty((t_len, b, s), dtype=np.int16)
    for t in range(t_len):
        if g.scheduled[:, t].any():
            z_src = pos[None, :] - g.scheduled[:, t:t + 1]
            f = np.where(z_src >= 0, f[rows, np.maximum(z_src, 0)], INF)
        gp, back_z[t] = _order_step(f, g.unit_cost_g + inb_price[:, t], g, t >= g.lead, lag)
        gp += pos_price[:, t:t + 1] * pos
        d = g.demand[:, t:t + 1]
        cm, arg = _running_argmin(gp - g.lost_g[:, None] * pos, pos)
        reach = pos[None, :] + d
        f = np.where(reach < s, gp[rows, np.minimum(reach, s - 1)], INF)
        back_p[t] = np.minimum(reach, s - 1)
        d_cap = np.minimum(d[:, 0], s - 1)
        f[:, 0] = cm[rows[:, 0], d_cap] + g.lost_g * d[:, 0]
        back_p[t][:, 0] = arg[rows[:, 0], d_cap]
        f += g.hold_g[:, None] * pos + g.short_g[:, None] * np.maximum(g.safety[:, t:t + 1] - pos, 0)
    return _backtrack(g, f, back_p, back_z)


def sku_row(g: SkuGroup, i: int) -> SkuGroup:
    """The one-SKU group of row ``i`` of ``g``."""
    one = slice(i, i + 1)
    return SkuGroup(n_states=g.n_states, case=g.case, min_cases=g.min_cases[one], lead=g.lead[one],
                    init=g.init[one], demand=g.demand[one], scheduled=g.scheduled[one], safety=g.safety[one],
                    fixed_cost=g.fixed_cost[one], unit_cost_g=g.unit_cost_g[one], hold_g=g.hold_g[one],
                    lost_g=g.lost_g[one], short_g=g.short_g[one])


def solve_capped(g: SkuGroup, pos_cap: np.ndarray, rcv_cap: np.ndarray) -> GroupPlan:
    """Exact DP of the single SKU of ``g`` at true cost with per-week caps: ``P_t ≤ pos_cap_t`` and
    ``q_t ≤ rcv_cap_t`` (granules) — the SKU's share of storage, cash and receiving left by the others.
    Orders are enumerated case by case (m = m_min .. ⌊rcv_cap/c⌋), so the receiving cap is exact."""
    s, c, t_len = g.n_states, g.case, g.demand.shape[1]
    pos = np.arange(s)
    f = np.full(s, INF)
    f[g.init[0]] = 0.0
    back_p = np.empty((t_len, 1, s), dtype=np.int16)
    back_z = np.empty((t_len, 1, s), dtype=np.int16)
    for t in range(t_len):
        r = int(g.scheduled[0, t])
        if r:
            f = np.concatenate([np.full(min(r, s), INF), f[:max(s - r, 0)]])
        gp, src = f.copy(), np.full(s, -1)
        top = int(min((s - 1) // c, np.floor(rcv_cap[t] / c + 1e-9))) if t >= g.lead[0] else -1
        for m in range(int(g.min_cases[0]), top + 1):
            q = m * c
            cand = np.full(s, INF)
            cand[q:] = f[:s - q] + g.fixed_cost[0] + g.unit_cost_g[0] * q
            better = cand < gp
            gp[better], src[better] = cand[better], (pos - q)[better]
        gp[pos > pos_cap[t] + 1e-9] = INF
        back_z[t, 0] = src
        d = int(g.demand[0, t])
        reach = np.minimum(pos + d, s - 1)
        f = np.where(pos + d < s, gp[reach], INF)
        back_p[t, 0] = reach
        head = gp[:min(d, s - 1) + 1] + g.lost_g[0] * (d - pos[:min(d, s - 1) + 1])
        f[0], back_p[t, 0, 0] = head.min(), int(np.argmin(head))
        f = f + g.hold_g[0] * pos + g.short_g[0] * np.maximum(g.safety[0, t] - pos, 0)
    return _backtrack(g, f[None, :], back_p, back_z)


def _backtrack(g: SkuGroup, f: np.ndarray, back_p: np.ndarray, back_z: np.ndarray) -> GroupPlan:
    b, t_len = g.demand.shape
    rows = np.arange(b)
    x = np.argmin(f, axis=1)
    value = f[rows, x]
    out = {k: np.zeros((b, t_len), dtype=np.int64) for k in ("receipts", "position", "stock", "lost")}
    for t in range(t_len - 1, -1, -1):
        p = back_p[t][rows, x].astype(np.int64)
        z = back_z[t][rows, p].astype(np.int64)
        ordered = z >= 0
        out["stock"][:, t] = x
        out["position"][:, t] = p
        out["lost"][:, t] = x - p + g.demand[:, t]
        out["receipts"][:, t] = np.where(ordered, p - z, 0)
        x = np.where(ordered, z, p) - g.scheduled[:, t]
    return GroupPlan(value=value, **out)


# ----------------------------------------------------------------------------------------- DataFrame seam

_GROUP_COLUMNS = ("sku_id", "week", "demand", "scheduled", "safety", "pos_price", "inb_price")
_SKU_COLUMNS = ("n_states", "case", "min_cases", "lead", "init", "fixed_cost", "unit_cost_g", "hold_g",
                "lost_g", "short_g")


def plan_sku_group(frame: pd.DataFrame) -> pd.DataFrame:
    """DataFrame → DataFrame form of :func:`solve_group`, for a process pool or Spark ``applyInPandas``.

    ``frame``: one row per SKU × week with columns ``sku_id, week`` (0..T-1), ``demand, scheduled,
    safety`` (granules), ``pos_price, inb_price`` (currency per granule) and the per-SKU constants
    ``n_states, case, min_cases, lead, init, fixed_cost, unit_cost_g, hold_g, lost_g, short_g`` repeated
    on each row (``n_states`` and ``case`` equal within the frame). Returns one row per SKU ×
    week: ``sku_id, week, receipts, position, stock, lost`` (granules) and ``value`` (the SKU's priced cost).
    """
    missing = [c for c in _GROUP_COLUMNS + _SKU_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"plan_sku_group: missing columns {missing}")
    for c in ("n_states", "case"):
        if frame[c].nunique() != 1:
            raise ValueError(f"plan_sku_group: column {c!r} must be constant within a group")
    frame = frame.sort_values(["sku_id", "week"])
    skus = frame["sku_id"].drop_duplicates().to_numpy()
    t_len = int(frame["week"].max()) + 1
    if len(frame) != len(skus) * t_len:
        raise ValueError("plan_sku_group: every SKU needs one row for each week 0..T-1")

    def wide(col, dtype=float):
        return frame[col].to_numpy(dtype).reshape(len(skus), t_len)

    first = frame.groupby("sku_id", sort=True).first().loc[skus]
    grp = SkuGroup(
        n_states=int(first["n_states"].iloc[0]), case=int(first["case"].iloc[0]),
        min_cases=first["min_cases"].to_numpy(int), lead=first["lead"].to_numpy(int),
        init=first["init"].to_numpy(int), demand=wide("demand", int), scheduled=wide("scheduled", int),
        safety=wide("safety", int), fixed_cost=first["fixed_cost"].to_numpy(float),
        unit_cost_g=first["unit_cost_g"].to_numpy(float), hold_g=first["hold_g"].to_numpy(float),
        lost_g=first["lost_g"].to_numpy(float), short_g=first["short_g"].to_numpy(float))
    plan = solve_group(grp, wide("pos_price"), wide("inb_price"))
    out = pd.DataFrame({"sku_id": np.repeat(skus, t_len), "week": np.tile(np.arange(t_len), len(skus))})
    for k in ("receipts", "position", "stock", "lost"):
        out[k] = getattr(plan, k).ravel()
    out["value"] = np.repeat(plan.value, t_len)
    return out
