"""Shift-cover (set-covering) staffing: how many workers take each shift pattern.

The classic integer program (Dantzig 1954; Winston, *Operations Research*, post-office problem)::

    min  Σ_s c_s n_s + u Σ_p short_p
    s.t. Σ_{s : p ∈ P_s} n_s + short_p ≥ r_p      ∀ p ∈ periods
         n_s ∈ ℤ≥0,  short_p ≥ 0 (short_p ≡ 0 unless ``under_cost`` is given)

Symbols: ``r_p`` staff required in period p (persons), ``P_s`` the periods that pattern s covers,
``c_s`` cost of one worker on pattern s (currency, default 1 → minimise headcount), ``n_s`` workers on
pattern s, ``short_p`` uncovered staff in period p, ``u`` penalty per uncovered staff-period.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyomo.environ as pyo

from solvers import SolveOptions, SolveResult, solve_or_explain


@dataclass(frozen=True)
class ShiftCoverResult:
    counts: dict          # pattern key → workers on that pattern (int)
    cost: float           # Σ c_s n_s (labour only, currency)
    coverage: dict        # period key → workers present
    shortfall: dict       # period key → uncovered staff (0 without under_cost)
    status: str           # SolveStatus value
    solve: SolveResult


def _as_mapping(x) -> Mapping:
    return x if isinstance(x, Mapping) else dict(enumerate(x))


def _check(req: Mapping, shifts: Mapping, costs: Mapping, under_cost) -> None:
    problems = [f"requirements[{p!r}] = {v!r}: expected a number ≥ 0" for p, v in req.items()
                if not isinstance(v, (int, float)) or v < 0]
    for s, periods in shifts.items():
        unknown = [p for p in periods if p not in req]
        if unknown:
            problems.append(f"shifts[{s!r}] covers unknown periods {unknown}: expected keys of requirements")
    problems += [f"costs[{s!r}] missing: expected one cost per shift" for s in shifts if s not in costs]
    problems += [f"costs[{s!r}] = {c!r}: expected a number ≥ 0" for s, c in costs.items() if c < 0]
    if under_cost is not None and under_cost < 0:
        problems.append(f"under_cost = {under_cost}: expected a number ≥ 0 or None")
    if not shifts:
        problems.append("shifts is empty: expected at least one pattern")
    if problems:
        raise ValueError("shift cover input: " + "; ".join(problems))


def build_shift_cover_model(req: Mapping, shifts: Mapping, costs: Mapping,
                            under_cost: float | None) -> pyo.ConcreteModel:
    """The set-covering program of the module docstring as a Pyomo model."""
    m = pyo.ConcreteModel(name="shift_cover")
    m.P = pyo.Set(initialize=list(range(len(req))))
    m.S = pyo.Set(initialize=list(range(len(shifts))))
    pkeys, skeys = list(req), list(shifts)
    pidx = {p: i for i, p in enumerate(pkeys)}
    covering = {i: [] for i in m.P}
    for j, s in enumerate(skeys):
        for p in set(shifts[s]):
            covering[pidx[p]].append(j)
    m.n = pyo.Var(m.S, domain=pyo.NonNegativeIntegers)
    m.short = pyo.Var(m.P, domain=pyo.NonNegativeReals, bounds=(0, None if under_cost is not None else 0))
    m.cover = pyo.Constraint(m.P, rule=lambda m, i: sum(m.n[j] for j in covering[i]) + m.short[i]
                             >= req[pkeys[i]])
    penalty = (under_cost or 0.0) * sum(m.short[i] for i in m.P)
    m.obj = pyo.Objective(expr=sum(costs[s] * m.n[j] for j, s in enumerate(skeys)) + penalty)
    m._keys = (pkeys, skeys, covering)
    return m


def solve_shift_cover(requirements, shifts, costs=None, under_cost=None,
                      options: SolveOptions | None = None) -> ShiftCoverResult:
    """Choose how many workers take each shift pattern to cover every period at minimum cost.

    ``requirements``: mapping (or sequence) period → staff needed; ``shifts``: mapping (or sequence)
    pattern → iterable of the periods it covers; ``costs``: pattern → cost (default 1 each);
    ``under_cost``: if given, uncovered staff-periods are allowed at this penalty each.
    Raises ``ValueError`` naming bad entries; raises ``InfeasibleModelError`` if a period is covered by
    no pattern and ``under_cost`` is None.
    """
    req, shf = _as_mapping(requirements), _as_mapping(shifts)
    cst = _as_mapping(costs) if costs is not None else {s: 1.0 for s in shf}
    _check(req, shf, cst, under_cost)
    m = build_shift_cover_model(req, shf, cst, under_cost)
    r = solve_or_explain(m, options or SolveOptions(time_limit_s=60, mip_rel_gap=1e-9))
    pkeys, skeys, covering = m._keys
    counts = {s: int(round(pyo.value(m.n[j]))) for j, s in enumerate(skeys)} if r.status.has_solution else {}
    coverage = {p: sum(counts.get(skeys[j], 0) for j in covering[i]) for i, p in enumerate(pkeys)}
    shortfall = {p: max(req[p] - coverage[p], 0) for p in pkeys}
    cost = float(sum(cst[s] * n for s, n in counts.items()))
    return ShiftCoverResult(counts, cost, coverage, shortfall, r.status.value, r)
