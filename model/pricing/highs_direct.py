"""The pricing program of :mod:`model.pricing.program`, built as sparse arrays and passed to HiGHS directly.

Same variables, objective and constraint families as :func:`model.pricing.program.build_pricing_model`; the
per-price rules (margin floor, competitor band, first-week change) become upper bounds 0 on the excluded
``x`` instead of rows. Used to re-solve the few price units whose Lagrangian gap is too wide: a Pyomo build
and hand-off costs ~0.1–0.3 s per small model here, a direct build a few milliseconds. Tests check both
builds reach the same optimum.
"""
from __future__ import annotations

import highspy
import numpy as np
from pyomo.common.tee import capture_output
from scipy import sparse

from model.pricing.instance import PricingInstance


def _rows(inst: PricingInstance, col: np.ndarray, n_x: int) -> tuple[list, list, list]:
    """Constraint rows as (coefficient matrix blocks, lower, upper) over the columns [x | over | short]."""
    S, T, K = inst.shape
    n = n_x + 2 * S
    blocks, lo, hi = [], [], []

    def add(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int, lower, upper) -> None:
        blocks.append(sparse.csr_matrix((vals, (rows, cols)), shape=(n_rows, n)))
        lo.append(np.broadcast_to(lower, n_rows).astype(float))
        hi.append(np.broadcast_to(upper, n_rows).astype(float))

    s_i, t_i, k_i = np.nonzero(col >= 0)
    c_i = col[s_i, t_i, k_i]
    add(s_i * T + t_i, c_i, np.ones(c_i.size), S * T, 1.0, 1.0)                        # one_price_per_week
    u = inst.unit_of[s_i]
    j_s, j_t, j_k, j_j = [], [], [], []
    for (s, t, k) in zip(s_i[t_i > 0], t_i[t_i > 0], k_i[t_i > 0]):                     # max_change chain
        prev = np.flatnonzero(inst.compat[inst.unit_of[s], :, k] & (col[s, t - 1] >= 0))
        j_s.append(np.full(prev.size + 1, len(j_s)))
        j_j.append(np.concatenate([[col[s, t, k]], col[s, t - 1, prev]]))
        j_k.append(np.concatenate([[1.0], -np.ones(prev.size)]))
    if j_s:
        add(np.concatenate(j_s), np.concatenate(j_j), np.concatenate(j_k), len(j_s), -np.inf, 0.0)
    lead = np.unique(inst.unit_of, return_index=True)[1][u]                            # price_family
    fam = lead != s_i
    if fam.any():
        r = np.arange(fam.sum())
        add(np.concatenate([r, r]), np.concatenate([c_i[fam], col[lead[fam], t_i[fam], k_i[fam]]]),
            np.concatenate([np.ones(r.size), -np.ones(r.size)]), r.size, 0.0, 0.0)
    q, qc = inst.units[s_i, t_i, k_i], inst.clear_q[s_i, t_i, k_i]
    lim = np.flatnonzero(np.isfinite(inst.stock))                                       # inventory
    if lim.size:
        pos = np.full(S, -1)
        pos[lim] = np.arange(lim.size)
        m = pos[s_i] >= 0
        add(np.concatenate([pos[s_i[m]], np.arange(lim.size)]), np.concatenate([c_i[m], n_x + lim]),
            np.concatenate([q[m], -np.ones(lim.size)]), lim.size, -np.inf, inst.stock[lim])
    clr = np.flatnonzero(inst.clear_units > 0)                                          # markdown_clearance
    if clr.size:
        pos = np.full(S, -1)
        pos[clr] = np.arange(clr.size)
        m = (pos[s_i] >= 0) & (t_i < inst.clear_week)
        add(np.concatenate([pos[s_i[m]], np.arange(clr.size)]), np.concatenate([c_i[m], n_x + S + clr]),
            np.concatenate([qc[m], np.ones(clr.size)]), clr.size, inst.clear_units[clr], np.inf)
    return blocks, lo, hi


def _start(inst: PricingInstance, col: np.ndarray, n_x: int, choice: np.ndarray) -> np.ndarray:
    """Column values of a known plan (``choice`` [U,T]) with its slacks: a MIP start for HiGHS."""
    S, T, _ = inst.shape
    k = choice[inst.unit_of]
    x = np.zeros(n_x + 2 * S)
    x[col[np.arange(S)[:, None], np.arange(T)[None, :], k].ravel()] = 1.0
    q = np.take_along_axis(inst.units, k[:, :, None], axis=2)[:, :, 0]
    qc = np.take_along_axis(inst.clear_q, k[:, :, None], axis=2)[:, :, 0]
    x[n_x:n_x + S] = np.where(np.isfinite(inst.stock), np.maximum(0.0, q.sum(axis=1) - inst.stock), 0.0)
    x[n_x + S:] = np.maximum(0.0, inst.clear_units - qc[:, :inst.clear_week].sum(axis=1))
    return x


def solve_direct(inst: PricingInstance, time_limit_s: float = 30.0, mip_rel_gap: float = 1e-6,
                 start: np.ndarray | None = None) -> tuple[np.ndarray, float, float, str]:
    """Solve ``inst`` with HiGHS, optionally from the plan ``start`` ([U,T] slots); returns the [U,T]
    choice, objective, bound and HiGHS's model status."""
    S, T, K = inst.shape
    valid = np.broadcast_to(np.isfinite(inst.sku_prices())[:, None, :], (S, T, K))
    col = np.full((S, T, K), -1)
    col[valid] = np.arange(valid.sum())
    n_x = int(valid.sum())
    ok = inst.allowed().copy()
    ok[:, 0, :] &= inst.first_ok[inst.unit_of]                 # week 0 starts from the current price
    blocks, lo, hi = _rows(inst, col, n_x)
    A = sparse.vstack(blocks).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_x + 2 * S, A.shape[0]
    lp.col_cost_ = np.concatenate([np.nan_to_num(inst.reward())[valid], -inst.over_penalty, -inst.penalty])
    lp.col_lower_ = np.zeros(n_x + 2 * S)
    lp.col_upper_ = np.concatenate([ok[valid].astype(float), np.full(2 * S, np.inf)])
    lp.row_lower_, lp.row_upper_ = np.concatenate(lo), np.concatenate(hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_x + [highspy.HighsVarType.kContinuous] * (2 * S)
    with capture_output(capture_fd=True):  # HiGHS prints a banner on stdout when created (breaks --json)
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = _start(inst, col, n_x, start).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible point
        return np.full((inst.n_units, T), -1), -np.inf, np.inf, status
    x = np.asarray(h.getSolution().col_value)[:n_x]
    choice = np.full((inst.n_units, T), -1)
    s_i, t_i, k_i = np.nonzero(valid)
    pick = x > 0.5
    choice[inst.unit_of[s_i[pick]], t_i[pick]] = k_i[pick]
    return choice, float(info.objective_function_value), float(info.mip_dual_bound), status
