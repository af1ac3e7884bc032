"""Two-phase roster solve for large hourly instances, with a certified lower bound.

The monolithic roster program (``roster.py``) has one binary per employee × day × template; its LP
relaxation is massively degenerate and HiGHS's dual simplex needs minutes on 50+ employees with 48
templates. The two phases:

1. **Staffing relaxation** (small MIP): shift counts per skill group instead of per employee::

       n[g,d,t] ∈ ℤ≥0,   Σ_t n[g,d,t] ≤ A_gd                                  (one shift a day each)
       Σ_{e∈g} h[e,p] = Σ_{d∈p,t} m_t/60·n[g,d,t],  Σ_{e∈g} s[e,p] = Σ_{d∈p,t} n[g,d,t]
       min_e ≤ 60·h[e,p] ≤ max_e,  s[e,p] ≤ |p| − f_e,  m_min·s ≤ 60·h ≤ m_max·s
       min Σ c_e·h[e,p] + coverage penalties        (role split and coverage as in roster.py)

   ``A_gd``: employees of group g available on day d; ``h`` hours and ``s`` shifts of employee e in
   contract period p; ``f_e`` days off per week; ``m_min``/``m_max`` shortest/longest paid minutes.
   Every feasible roster maps to a feasible point of equal or higher cost (rest, consecutive days and
   fairness are dropped, all non-negative), so its bound is a **lower bound** on the roster optimum.
2. **Group assignment**: with the counts n[g,d,t] fixed the skill groups decouple; one small roster
   program per group gives its shifts to named employees under every labour rule (missing or extra
   shifts are penalised like coverage). The union is a feasible roster of the full program, whose
   objective, recomputed from the roster, is an **upper bound**.

Reported gap = (UB − LB) / UB.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from model.workforce.roster import RosterData, _skill_groups, add_coverage, add_role_split, solve_roster
from model.workforce.validate import coverage_table, roster_objective
from solvers import SolveOptions, SolveResult, solve_or_explain


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
    """The staffing relaxation of the module docstring (phase 1)."""
    m = pyo.ConcreteModel(name="roster_staffing")
    add_staffing_variables(m, data)
    for family in (add_group_day_capacity, add_role_split, add_coverage, add_group_hours,
                   add_employee_hours, add_staffing_objective):
        family(m, data)
    return m


def group_assignment_data(data: RosterData, members: list[int], counts: dict) -> RosterData:
    """Phase 2 for one skill group: give its members the shifts the relaxation staffed.

    Cover keys are (d, t) with requirement n[g,d,t]; a missing shift costs u·m_t/60 and an extra one
    o·m_t/60 (u, o: the hourly under/over penalties), so the group program trades coverage for labour
    rules exactly as the full program would. All labour rules of the full program apply per employee.
    """
    u = max(u for _, u, _ in data.requirement.values())
    o = min(o for _, _, o in data.requirement.values())
    pm = {t.id: t.paid_minutes / 60.0 for t in data.templates}
    emps = tuple(dataclasses.replace(data.employees[e], skills=("shift",)) for e in members)
    req = {("shift", (d, t)): (c, u * pm[t], o * pm[t]) for (d, t), c in counts.items()}
    days = {d: {t for (dd, t), c in counts.items() if dd == d and c > 0} for d in range(data.days)}
    return dataclasses.replace(
        data, roles=("shift",), employees=emps, requirement=req, day_templates=days,
        covers={(d, t): [((d, t), 1.0)] for d in range(data.days) for t in pm})


def _split_roles(rows: pd.DataFrame, role_counts: dict) -> pd.DataFrame:
    """Give the group's workers on each (day, template) roles in the proportions of z[g,r,d,t]."""
    rows = rows.sort_values(["day", "template", "employee_id"]).copy()
    roles = []
    for (d, t), grp in rows.groupby(["day", "template"], sort=False):
        want = [r for r, c in role_counts.get((d, t), {}).items() for _ in range(c)]
        fallback = max(role_counts.get((d, t), {"": 1}).items(), key=lambda kv: kv[1])[0]
        roles += [want[i] if i < len(want) else fallback for i in range(len(grp))]
    rows["role"] = roles
    return rows


@dataclass
class DecomposedResult:
    roster: pd.DataFrame        # employee_id, day, template, role, start_hour, end_hour, paid_hours, cost
    coverage: pd.DataFrame      # recomputed from the roster
    objective: float            # full-program objective of the roster (upper bound)
    lower_bound: float
    gap: float                  # (UB − LB) / UB
    labour_cost: float
    staffing: SolveResult
    groups: list                # SolveResult of each group program


def _phase1(data: RosterData, options: SolveOptions):
    m = build_staffing_model(data)
    r1 = solve_or_explain(m, options)
    if not r1.status.has_solution:
        raise RuntimeError(f"staffing relaxation ended {r1.status.value}; raise the time limit")
    members = list(m.groups.values())
    skills = list(m.groups)
    counts, roles = [], []
    for g in m.G:
        counts.append({(d, t): int(round(pyo.value(m.n[g, d, t]))) for d in m.D for t in m.T})
        roles.append({(d, t): {r: int(round(pyo.value(m.z[g, r, d, t]))) for r in skills[g]}
                      for d in m.D for t in m.T if counts[g][d, t]})
    return r1, members, counts, roles


def solve_roster_decomposed(data: RosterData, options: SolveOptions) -> DecomposedResult:
    """Phase 1 with 40% of the time limit, then one assignment program per skill group."""
    t0 = time.perf_counter()
    r1, members, counts, roles = _phase1(data, dataclasses.replace(options, time_limit_s=0.4 * options.time_limit_s))
    lb = r1.bound if r1.bound is not None else r1.objective
    parts, solves = [], []
    for g, mem in enumerate(members):
        left = options.time_limit_s - (time.perf_counter() - t0)
        share = max(left * len(mem) / sum(len(x) for x in members[g:]), 1.0)
        res = solve_roster(group_assignment_data(data, mem, counts[g]),
                           dataclasses.replace(options, time_limit_s=share))
        solves.append(res.solve)
        parts.append(_split_roles(res.roster, roles[g]))
    roster = pd.concat(parts, ignore_index=True).sort_values(["employee_id", "day"], ignore_index=True)
    ub = roster_objective(roster, data)
    return DecomposedResult(roster, coverage_table(roster, data), ub, lb, (ub - lb) / max(abs(ub), 1e-9),
                            float(roster["cost"].sum()), r1, solves)
