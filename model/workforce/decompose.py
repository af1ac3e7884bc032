"""Decomposed roster solve for large hourly instances, with a certified lower bound.

The monolithic roster program (``roster.py``) has one binary per employee × day × template; its LP
relaxation is massively degenerate and HiGHS's dual simplex needs minutes on 50+ employees with 48
templates. Instead:

1. **Staffing program** (MIP): shift counts per skill group instead of per employee::

       n[g,d,t] ∈ ℤ≥0,   Σ_t n[g,d,t] ≤ A_gd                                    (one shift a day each)
       Σ_{t∈A_i} n[g,d,t] + Σ_{t∈B_i} n[g,d+1,t] ≤ A_g,d∪d+1     (rest cliques, summed over the group)
       Σ_{e∈g} h[e,p] = Σ_{d∈p,t} m_t/60·n[g,d,t],  Σ_{e∈g} s[e,p] = Σ_{d∈p,t} n[g,d,t]
       min_e ≤ 60·h[e,p] ≤ max_e,  s[e,p] ≤ |p| − f_e,  m_min·s ≤ 60·h ≤ m_max·s
       min Σ c_e·h[e,p] + coverage penalties        (role split and coverage as in roster.py)

   ``A_gd``: employees of group g available on day d (``A_g,d∪d+1``: on d or d+1); ``h`` hours and
   ``s`` shifts of employee e in contract period p; ``f_e`` days off per week; ``m_min``/``m_max``
   shortest/longest paid minutes. Every feasible roster maps to a feasible point of equal or higher
   cost (per-employee rest, consecutive days and fairness are dropped, all non-negative), so the
   program's dual bound is a **lower bound** on the roster optimum (barely above the LP's). Its integer
   solution matters more: on the 50–400-employee benchmarks HiGHS's root node (cuts, sub-MIP heuristics)
   finds counts within 0.1–0.6 % of that bound in seconds, and named employees can almost always work
   exactly those counts.
2. **Exact-count assignment**: with the staffing program's integer counts n[g,d,t] fixed, the skill
   groups decouple; one roster program per group (only the (d,t) the counts use) gives the shifts to
   named employees under every labour rule, at the least labour cost. Its LP is tight: a 43-employee
   group solves in seconds. A group whose counts no roster can staff (individual rest or contract
   hours) is re-solved with n ≤ count + 1 against its hourly coverage target instead; a group whose
   program finds no roster in time is assigned against that target, split in halves until it does.
3. **Fix-and-optimise** (only while the gap is above the requested one): each chunk of the employees
   able to work one role (mixing skill groups) is re-solved against the requirement the others leave;
   kept if the full objective improves.
4. **Role choice**: a small binary program gives each assigned shift one role within the employee's
   skills, minimising the hourly under/over-coverage penalties.

The roster is feasible for the full program; its objective, recomputed from the roster, is an **upper
bound**. Reported gap = (UB − LB) / UB. Every HiGHS call stops on a gap or node limit (deterministic:
the same data give the same roster whatever the machine's load); wall-clock limits are a safety net.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from model.workforce.roster import (RosterData, _skill_groups, add_coverage, add_role_split, build_roster_model,
                                   solve_built_roster, solve_roster)
from model.workforce.validate import coverage_table, roster_objective
from solvers import InfeasibleModelError, SolveOptions, SolveResult, solve_or_explain

MIN_CHUNK_S = 20.0      # wall-clock seconds every piece gets at least (a safety net: node limits bind first)
NODE_LIMIT = 300        # branch-and-bound nodes per assignment program: a deterministic work limit
STAFFING_NODES = 1      # the staffing program stops after its root node (cuts and heuristics): deterministic,
                        # and where it does not close there the assignment and fix-and-optimise steps gain more
STAFFING_SHARE = 0.5    # share of the time limit the staffing program may use (safety net)


def add_staffing_variables(m, data: RosterData) -> None:
    """n[g,d,t] ∈ ℤ≥0, y[d,t,r] ∈ ℤ≥0, under/over ≥ 0, h[e,p], s[e,p] ≥ 0."""
    m.groups = _skill_groups(data)
    m.G = pyo.Set(initialize=list(range(len(m.groups))))
    m.D = pyo.RangeSet(0, data.days - 1)
    m.T = pyo.Set(initialize=[t.id for t in data.templates], ordered=True)
    m.R = pyo.Set(initialize=list(data.roles), ordered=True)
    m.E = pyo.RangeSet(0, len(data.employees) - 1)
    m.P = pyo.RangeSet(0, data.days // data.contract_period_days - 1)
    m.n = pyo.Var(m.G, m.D, m.T, domain=pyo.NonNegativeIntegers)
    m.y = pyo.Var(m.D, m.T, m.R, domain=pyo.NonNegativeIntegers)
    m.keys = list(data.requirement)
    m.K = pyo.RangeSet(0, len(m.keys) - 1)
    m.under = pyo.Var(m.K, bounds=(0, None))
    m.over = pyo.Var(m.K, bounds=(0, None))
    m.h = pyo.Var(m.E, m.P, bounds=(0, None))
    m.s = pyo.Var(m.E, m.P, bounds=(0, None))


def add_group_day_capacity(m, data: RosterData) -> None:
    """Σ_t n[g,d,t] ≤ A_gd ∀ g, d (A_gd: members of g available on day d)."""
    members = list(m.groups.values())
    avail = {(g, d): sum(1 for e in members[g] if d not in data.employees[e].unavailable_days)
             for g in m.G for d in m.D}
    m.group_day = pyo.Constraint(m.G, m.D, rule=lambda m, g, d: sum(m.n[g, d, t] for t in m.T) <= avail[g, d])


def add_group_rest(m, data: RosterData) -> None:
    """Σ_{t∈A_i} n[g,d,t] + Σ_{t∈B_i} n[g,d+1,t] ≤ |{e ∈ g available on d or d+1}| ∀ g, d < H−1, cliques i
    (each employee works at most one shift of a rest clique's pair of days)."""
    members = list(m.groups.values())
    m.group_rest = pyo.ConstraintList()
    for g in m.G:
        for d in range(data.days - 1):
            cap = sum(1 for e in members[g] if not {d, d + 1} <= data.employees[e].unavailable_days)
            for a, b in data.rest_cliques:
                m.group_rest.add(sum(m.n[g, d, t] for t in a) + sum(m.n[g, d + 1, t] for t in b) <= cap)


def add_group_hours(m, data: RosterData) -> None:
    """Σ_{e∈g} h[e,p] = Σ_{d∈p,t} m_t/60·n[g,d,t] and Σ_{e∈g} s[e,p] = Σ_{d∈p,t} n[g,d,t] ∀ g, p."""
    pm = {t.id: t.paid_minutes / 60.0 for t in data.templates}
    members = list(m.groups.values())
    P = data.contract_period_days

    def days(p):
        return range(p * P, (p + 1) * P)
    m.group_hours = pyo.Constraint(m.G, m.P, rule=lambda m, g, p: sum(m.h[e, p] for e in members[g]) == sum(
        pm[t] * m.n[g, d, t] for d in days(p) for t in m.T))
    m.group_shifts = pyo.Constraint(m.G, m.P, rule=lambda m, g, p: sum(m.s[e, p] for e in members[g]) == sum(
        m.n[g, d, t] for d in days(p) for t in m.T))


def add_employee_hours(m, data: RosterData) -> None:
    """min_e/60 ≤ h[e,p] ≤ max_e/60;  s[e,p] ≤ |p|·(1 − f_e/7) − unavailable days;
    m_min/60·s[e,p] ≤ h[e,p] ≤ m_max/60·s[e,p]   ∀ e, p."""
    lo = min(t.paid_minutes for t in data.templates) / 60.0
    hi = max(t.paid_minutes for t in data.templates) / 60.0
    P = data.contract_period_days
    m.employee_hours = pyo.ConstraintList()
    for e, emp in enumerate(data.employees):
        for p in m.P:
            days = [d for d in range(p * P, (p + 1) * P) if d not in emp.unavailable_days]
            max_shifts = min(len(days), P - emp.min_days_off_per_week * P // 7)
            m.h[e, p].setlb(emp.min_minutes / 60.0)
            m.h[e, p].setub(None if emp.max_minutes == float("inf") else emp.max_minutes / 60.0)
            m.s[e, p].setub(max_shifts)
            m.employee_hours.add(m.h[e, p] <= hi * m.s[e, p])
            m.employee_hours.add(m.h[e, p] >= lo * m.s[e, p])


def add_staffing_objective(m, data: RosterData) -> None:
    """min Σ c_e·h[e,p] + Σ (u·under + o·over)."""
    labour = sum(data.employees[e].hourly_cost * m.h[e, p] for e in m.E for p in m.P)
    cover = sum(u * m.under[i] + o * m.over[i] for i, (_, u, o) in enumerate(data.requirement.values()))
    m.obj = pyo.Objective(expr=labour + cover)


def build_staffing_model(data: RosterData) -> pyo.ConcreteModel:
    """The staffing program of the module docstring (phase 1)."""
    m = pyo.ConcreteModel(name="roster_staffing")
    add_staffing_variables(m, data)
    for family in (add_group_day_capacity, add_group_rest, add_role_split, add_coverage, add_group_hours,
                   add_employee_hours, add_staffing_objective):
        family(m, data)
    return m


def group_assignment_data(data: RosterData, members: list[int], target: dict, open_days: dict | None) -> RosterData:
    """Phase 2 for one skill group: the full roster program for its members only, asked to deliver the
    hourly coverage the relaxation gave the group, target[r,k] = Σ_{(d,t) ∋ k} a_dtk·z[g,r,d,t], with the
    program's own under/over penalties. Templates: those open on day d (``open_days``; None = all)."""
    roles = tuple(sorted({r for e in members for r in data.employees[e].skills if r in data.roles}))
    req = {(r, k): (target.get((r, k), 0.0), u, o) for (r, k), (_, u, o) in data.requirement.items() if r in roles}
    return dataclasses.replace(data, roles=roles, employees=tuple(data.employees[e] for e in members),
                               requirement=req, day_templates=open_days)


def add_role_choice(m, data: RosterData, shifts: pd.DataFrame) -> None:
    """Phase 3, roles for the assigned shifts: Σ_{r ∈ skills(i)} a[i,r] = 1 ∀ shift rows i, and
    Σ_{i covering k} share_ik·a[i,r] + under[r,k] − over[r,k] = req[r,k] ∀ (r,k); min Σ u·under + o·over."""
    rows = list(shifts.itertuples(index=False))
    skills = {e.id: e.skills for e in data.employees}
    m.A = pyo.Set(dimen=2, initialize=[(i, r) for i, row in enumerate(rows) for r in skills[row.employee_id]
                                       if r in data.roles])
    m.a = pyo.Var(m.A, domain=pyo.Binary)
    m.keys = list(data.requirement)
    m.K = pyo.RangeSet(0, len(m.keys) - 1)
    m.under = pyo.Var(m.K, bounds=(0, None))
    m.over = pyo.Var(m.K, bounds=(0, None))
    m.one_role = pyo.Constraint(range(len(rows)), rule=lambda m, i: sum(
        m.a[i, r] for r in skills[rows[i].employee_id] if (i, r) in m.A) == 1)
    hits = {}
    for i, row in enumerate(rows):
        for k, share in data.covers.get((row.day, row.template), ()):
            hits.setdefault(k, []).append((i, share))
    m.role_cover = pyo.Constraint(m.K, rule=lambda m, j: sum(
        share * m.a[i, m.keys[j][0]] for i, share in hits.get(m.keys[j][1], ()) if (i, m.keys[j][0]) in m.A)
        + m.under[j] - m.over[j] == data.requirement[m.keys[j]][0])
    m.obj = pyo.Objective(expr=sum(u * m.under[j] + o * m.over[j]
                                   for j, (_, u, o) in enumerate(data.requirement.values())))


def choose_roles(data: RosterData, shifts: pd.DataFrame, options: SolveOptions) -> tuple[pd.DataFrame, SolveResult]:
    """Give every assigned shift the role (within the employee's skills) that minimises coverage penalties."""
    m = pyo.ConcreteModel(name="roster_roles")
    add_role_choice(m, data, shifts)
    r = solve_or_explain(m, options)
    if not r.status.has_solution:
        raise RuntimeError(f"role choice ended {r.status.value}; raise the time limit")
    role = {i: rr for (i, rr) in m.A if pyo.value(m.a[i, rr]) > 0.5}
    return shifts.assign(role=[role[i] for i in range(len(shifts))]), r


@dataclass
class DecomposedResult:
    roster: pd.DataFrame        # employee_id, day, template, role, start_hour, end_hour, paid_hours, cost
    coverage: pd.DataFrame      # recomputed from the roster
    objective: float            # full-program objective of the roster (upper bound)
    lower_bound: float
    gap: float                  # (UB − LB) / UB
    labour_cost: float
    solves: list                # SolveResult of the relaxation, each group program, the role choice


@dataclass
class Staffing:
    """Phase 1's outcome: the solve, each skill group's members, integer shift counts per group (None when
    the staffing program found no integer solution in time and only its LP was solved), per group the
    template sets to try (its own support per day, all groups' support, all templates) and each group's
    hourly coverage target per role."""

    solve: SolveResult
    members: list
    counts: list | None
    supports: list
    targets: list


def _phase1(data: RosterData, options: SolveOptions) -> Staffing:
    """Solve the staffing program (MIP; its LP relaxation if no integer solution is found in time)."""
    m = build_staffing_model(data)
    r1 = solve_or_explain(m, options)
    counts = None
    if r1.status.has_solution:
        counts = [{(d, t): int(round(pyo.value(m.n[g, d, t]))) for d in m.D for t in m.T
                   if pyo.value(m.n[g, d, t]) > 0.5} for g in m.G]
    else:
        bound = r1.bound
        pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
        # interior point: on 4-week horizons the dual simplex needs > 60 s for this LP, IPM ~5 s
        r1 = solve_or_explain(m, dataclasses.replace(options, highs_options={**options.highs_options, "solver": "ipm"}))
        if r1.status.value != "optimal":
            raise RuntimeError(f"staffing relaxation ended {r1.status.value}; raise the time limit")
        if bound is not None and bound > r1.objective:   # the MIP's dual bound, when it got further
            r1 = dataclasses.replace(r1, bound=bound)
    support = [{d: {t for t in m.T if pyo.value(m.n[g, d, t]) > 1e-6} for d in m.D} for g in m.G]
    union = {d: set().union(*(sup[d] for sup in support)) for d in m.D}
    targets = [dict() for _ in m.G]
    for g, r, d, t in m.z:
        z = pyo.value(m.z[g, r, d, t])
        if z > 1e-9:
            for k, a in data.covers[d, t]:
                targets[g][r, k] = targets[g].get((r, k), 0.0) + a * z
    return Staffing(r1, list(m.groups.values()), counts, [[sup, union, None] for sup in support], targets)


def _assign_counts(data: RosterData, members: list[int], counts: dict, target: dict, options: SolveOptions):
    """Phase 2 for one skill group: named employees for exactly ``counts[d,t]`` shifts (n fixed), at the
    least labour cost; if no roster staffs those counts, n ≤ count + 1 against the hourly target."""
    open_days = {d: {t for (dd, t) in counts if dd == d} for d in range(data.days)}
    sub = group_assignment_data(data, members, target, open_days)
    for slack in (0, 1):
        m = build_roster_model(sub)
        for d in m.D:
            for t in m.T:
                c = counts.get((d, t), 0)
                if slack:
                    m.n[0, d, t].setub(c + slack)
                else:
                    m.n[0, d, t].fix(c)
        try:
            return solve_built_roster(m, sub, options)
        except InfeasibleModelError:
            if slack:
                raise


def _assign_group(data: RosterData, members: list[int], target: dict, supports: list, options: SolveOptions):
    """Solve one chunk on the first template set (see ``_phase1``) with which its employees' contract
    hours can be met."""
    for i, days in enumerate(supports):
        try:
            return solve_roster(group_assignment_data(data, members, target, days), options)
        except InfeasibleModelError:
            if i == len(supports) - 1:
                raise


def _scheduled(roster: pd.DataFrame, data: RosterData) -> dict:
    cov = coverage_table(roster, data)
    return dict(zip(zip(cov["role"], cov["key"]), cov["scheduled"]))


def _chunks(data: RosterData, members: list, targets: list, chunk_size: int) -> list[tuple[int, list, dict]]:
    """(group, employees, share of the group's target) per chunk of at most ``chunk_size`` employees; groups
    ordered from the fewest skills to the most, larger groups first."""
    def n_skills(g):
        return len({r for e in members[g] for r in data.employees[e].skills})
    out = []
    for g in sorted(range(len(members)), key=lambda g: (n_skills(g), -len(members[g]))):
        parts = -(-len(members[g]) // chunk_size)
        for c in range(parts):
            mem = members[g][c::parts]
            out.append((g, mem, {k: v * len(mem) / len(members[g]) for k, v in targets[g].items()}))
    return out


def _assign_chunk(data, mem, want, supports, options) -> list:
    """Roster results for one chunk; a chunk whose program finds no roster in time is split in two, each
    half with the same time (a late roster beats none: the overall limit may then be exceeded)."""
    try:
        return [_assign_group(data, mem, want, supports, options)]
    except RuntimeError:
        if len(mem) == 1:
            raise
        return [r for part in (mem[::2], mem[1::2]) for r in
                _assign_chunk(data, part, {k: v / 2 for k, v in want.items()}, supports, options)]


def _role_neighbourhoods(data: RosterData, chunk_size: int) -> list[list[int]]:
    """Employees able to work each role, in chunks of at most ``chunk_size`` (mixing skill groups)."""
    out = []
    for r in data.roles:
        able = [e for e, emp in enumerate(data.employees) if r in emp.skills]
        parts = -(-len(able) // chunk_size)
        out += [able[c::parts] for c in range(parts)]
    return out


def _improve(data: RosterData, roster: pd.DataFrame, hoods: list, deadline: float,
             options: SolveOptions) -> tuple[pd.DataFrame, list]:
    """Fix-and-optimise: re-solve each neighbourhood (employees, template sets to try) against the
    requirement the other employees leave, max(req[r,k] − scheduled_others[r,k], 0) (exact up to a
    constant), and keep the new shifts when the full objective improves."""
    best, solves = roster_objective(roster, data), []
    for i, (mem, supports) in enumerate(hoods):
        left = deadline - time.perf_counter()
        if left < -options.time_limit_s:  # safety net only: one full pass is the deterministic plan
            break
        ids = {data.employees[e].id for e in mem}
        others = roster[~roster["employee_id"].isin(ids)]
        got = _scheduled(others, data)
        want = {k: max(req - got.get(k, 0.0), 0.0) for k, (req, _, _) in data.requirement.items()}
        share = max(left / (len(hoods) - i), MIN_CHUNK_S)
        try:
            res = _assign_group(data, mem, want, supports, dataclasses.replace(options, time_limit_s=share))
        except RuntimeError:
            continue
        solves.append(res.solve)
        candidate = pd.concat([others, res.roster], ignore_index=True)
        value = roster_objective(candidate, data)
        if value < best - 1e-6:
            roster, best = candidate, value
    return roster, solves


def _construct_from_lp(data: RosterData, st: Staffing, chunk_size: int, t0: float, options: SolveOptions):
    """Phase 2 without integer counts: chunks of each skill group (specialists first) assigned against
    their share of the group's LP coverage target plus what the chunks before them fell short of (or
    minus what they over-delivered) on the roles they can work."""
    chunks = _chunks(data, st.members, st.targets, chunk_size)
    parts, solves, carry = [], [], {}
    for i, (g, mem, target) in enumerate(chunks):
        left = 0.55 * options.time_limit_s - (time.perf_counter() - t0)
        share = max(left * len(mem) / sum(len(m) for _, m, _ in chunks[i:]), MIN_CHUNK_S)
        roles = {r for e in mem for r in data.employees[e].skills}
        want = {k: max(target.get(k, 0.0) + carry.get(k, 0.0), 0.0) for k in set(target) | set(carry)
                if k[0] in roles}
        for res in _assign_chunk(data, mem, want, st.supports[g], dataclasses.replace(options, time_limit_s=share)):
            solves.append(res.solve)
            parts.append(res.roster)
            got = _scheduled(res.roster, data)
            want = {k: v - got.get(k, 0.0) for k, v in want.items()}
        carry = {**carry, **want}
    return parts, solves


def _construct_from_counts(data: RosterData, st: Staffing, chunk_size: int, t0: float, options: SolveOptions):
    """Phase 2 with integer counts: one exact-count program per skill group (largest first); a group
    whose program finds no roster in time falls back to chunks against its hourly target."""
    order = sorted(range(len(st.members)), key=lambda g: -len(st.members[g]))
    parts, solves = [], []
    for i, g in enumerate(order):
        mem = st.members[g]
        if not st.counts[g]:
            continue
        left = 0.75 * options.time_limit_s - (time.perf_counter() - t0)
        share = max(left * len(mem) / sum(len(st.members[h]) for h in order[i:]), MIN_CHUNK_S)
        opts = dataclasses.replace(options, time_limit_s=share)
        try:
            found = [_assign_counts(data, mem, st.counts[g], st.targets[g], opts)]
        except RuntimeError:   # no roster in time, or counts infeasible even with slack
            found = _assign_chunk(data, mem, st.targets[g], st.supports[g], opts)
        for res in found:
            solves.append(res.solve)
            parts.append(res.roster)
    return parts, solves


def solve_roster_decomposed(data: RosterData, options: SolveOptions, chunk_size: int = 8) -> DecomposedResult:
    """Staffing program (bound and integer counts), exact-count assignment per skill group,
    fix-and-optimise while the gap exceeds ``options.mip_rel_gap``, role choice (module docstring).

    Every piece solves to half the requested gap; the staffing program gets up to half the time limit,
    construction up to 75 %, fix-and-optimise up to 85 %, the role choice the rest."""
    t0 = time.perf_counter()
    limit, gap = options.time_limit_s, options.mip_rel_gap
    piece = dataclasses.replace(options, mip_rel_gap=gap / 2,
                                highs_options={**options.highs_options, "mip_max_nodes": NODE_LIMIT})
    st = _phase1(data, dataclasses.replace(piece, time_limit_s=max(STAFFING_SHARE * limit, MIN_CHUNK_S),
                                           highs_options={**piece.highs_options, "mip_max_nodes": STAFFING_NODES}))
    construct = _construct_from_counts if st.counts is not None else _construct_from_lp
    parts, solves = construct(data, st, chunk_size, t0, piece)
    solves = [st.solve, *solves]
    shifts = pd.concat(parts, ignore_index=True)
    lb = st.solve.bound if st.solve.bound is not None else st.solve.objective
    ub = roster_objective(shifts, data)
    if (ub - lb) / max(abs(ub), 1e-9) > gap:
        hoods = [(mem, st.supports[0][1:]) for mem in _role_neighbourhoods(data, chunk_size)]
        shifts, more = _improve(data, shifts, hoods, t0 + 0.85 * limit, piece)
        solves += more
    shifts = shifts.sort_values(["employee_id", "day"], ignore_index=True)
    left = max(limit - (time.perf_counter() - t0), MIN_CHUNK_S)
    roster, r3 = choose_roles(data, shifts, dataclasses.replace(options, time_limit_s=left))
    solves.append(r3)
    ub = roster_objective(roster, data)
    return DecomposedResult(roster, coverage_table(roster, data), ub, lb, (ub - lb) / max(abs(ub), 1e-9),
                            float(roster["cost"].sum()), solves)
