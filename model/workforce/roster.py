"""The roster program: which employee works which shift template on which day, in which role.

Index sets: employees ``e ∈ E``, days ``d ∈ D = {0..H-1}`` (day 0 is a Monday unless ``first_weekday``
says otherwise), shift templates ``t ∈ T``, roles ``r ∈ R``, cover keys ``k ∈ K`` (an hour of the horizon
for hourly rosters, a (day, shift) pair for the Curtois & Qu benchmark), skill groups ``g ∈ G`` (employees
with the same set of roles).

Decision variables::

    x[e,d,t] ∈ {0,1}      employee e works template t on day d
    w[e,d]  ∈ [0,1]       employee e works on day d (= Σ_t x[e,d,t])
    n[g,d,t] ≥ 0          employees of skill group g on template t, day d (= Σ_{e∈g} x[e,d,t])
    y[d,t,r] ∈ ℤ≥0        of those, how many work role r (z[g,r,d,t] ≥ 0: group g's workers in role r)
    under[r,k], over[r,k] ≥ 0   staff short of / above the requirement of role r at cover key k

Coverage is aggregated (``y`` per day × template × role rather than per employee × hour), which keeps the
program small; an employee's role within a shift is recovered afterwards by a matching that the
transportation split z guarantees to exist. Objective (currency)::

    min Σ c_e·m_t/60·x[e,d,t] + Σ (u_rk·under[r,k] + o_rk·over[r,k])
        + Σ_on q_edt·(1 − x[e,d,t]) + Σ_off p_edt·x[e,d,t] + λ·W

``c_e`` hourly cost, ``m_t`` paid minutes of template t, ``u``/``o`` under/over-coverage penalties per
staff (per staff-hour for hourly rosters), ``q``/``p`` shift-on/off request weights, ``W`` the largest
number of weekend days any employee works (fairness, soft, weight λ).

Solved whole, this program proves the Curtois & Qu optima in seconds; for hourly rosters beyond ~10
employees its LP relaxation becomes very degenerate and ``decompose.py`` solves it in pieces.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from scipy.optimize import linear_sum_assignment

from solvers import SolveOptions, SolveResult, solve_or_explain


@dataclass(frozen=True)
class Template:
    """A shift template. ``start_min``/``end_min`` are minutes after midnight of the shift's own day
    (``end_min`` may exceed 1440 for shifts crossing midnight); None for day-level benchmark shifts."""

    id: str
    paid_minutes: int
    start_min: int | None = None
    end_min: int | None = None


@dataclass(frozen=True)
class Employee:
    """An employee's skills, cost and labour rules. Minutes bounds apply per contract period."""

    id: str
    skills: tuple[str, ...]
    hourly_cost: float = 0.0
    min_minutes: float = 0.0
    max_minutes: float = math.inf
    max_per_template: tuple[tuple[str, int], ...] = ()   # (template id, max shifts over the horizon)
    max_consecutive_days: int | None = None
    min_consecutive_days: int = 1
    min_consecutive_days_off: int = 1
    max_weekends: int | None = None
    min_days_off_per_week: int = 0
    unavailable_days: frozenset[int] = frozenset()


@dataclass
class RosterData:
    """Validated input of the roster program (see the module docstring for the symbols)."""

    days: int
    templates: tuple[Template, ...]
    roles: tuple[str, ...]
    employees: tuple[Employee, ...]
    requirement: dict                      # (r, k) → (required staff, under weight u, over weight o)
    covers: dict                           # (d, t) → [(k, coefficient)] cover keys a shift counts towards
    rest_cliques: list                     # [(A, B)]: at most one of A on day d and B on day d+1
    contract_period_days: int = 7
    on_requests: dict = field(default_factory=dict)    # (e, d, t) → weight q
    off_requests: dict = field(default_factory=dict)   # (e, d, t) → weight p
    weekend_fairness_weight: float = 0.0
    first_weekday: int = 0                              # 0 = Monday
    day_templates: dict | None = None                   # d → templates allowed that day (None = all)

    def __post_init__(self):
        problems = []
        tids = {t.id for t in self.templates}
        if self.days < 1:
            problems.append(f"days = {self.days}: expected ≥ 1")
        if self.days % self.contract_period_days:
            problems.append(f"days = {self.days} is not a multiple of contract_period_days = "
                            f"{self.contract_period_days}")
        for e in self.employees:
            if e.min_minutes > e.max_minutes:
                problems.append(f"employee {e.id}: min_minutes {e.min_minutes} > max_minutes {e.max_minutes}")
            bad = [t for t, _ in e.max_per_template if t not in tids]
            if bad:
                problems.append(f"employee {e.id}: max_per_template names unknown templates {bad}")
        bad_keys = [dt for dt in self.covers if dt[1] not in tids]
        if bad_keys:
            problems.append(f"covers name unknown templates: {bad_keys[:5]}")
        if problems:
            raise ValueError("roster data: " + "; ".join(problems))

    def weekends(self) -> list[tuple[int, ...]]:
        """Day indices of each (Saturday, Sunday) weekend touched by the horizon."""
        out = defaultdict(list)
        for d in range(self.days):
            wd = (self.first_weekday + d) % 7
            if wd >= 5:
                out[(self.first_weekday + d - wd) // 7].append(d)
        return [tuple(v) for _, v in sorted(out.items())]


# --------------------------------------------------------------------------------------- variables
def _skill_groups(data: RosterData) -> dict[tuple[str, ...], list[int]]:
    groups = defaultdict(list)
    for i, e in enumerate(data.employees):
        groups[tuple(sorted(set(e.skills) & set(data.roles)))].append(i)
    return dict(groups)


def _open(data: RosterData, d: int, t: str) -> bool:
    return data.day_templates is None or t in data.day_templates.get(d, ())


def add_variables(m: pyo.ConcreteModel, data: RosterData) -> None:
    """x[e,d,t] binary (only for templates the employee may work), w[e,d], n[g,d,t], y[d,t,r] integer,
    under/over ≥ 0 per requirement row."""
    caps = [dict(e.max_per_template) for e in data.employees]
    m.E = pyo.RangeSet(0, len(data.employees) - 1)
    m.D = pyo.RangeSet(0, data.days - 1)
    m.T = pyo.Set(initialize=[t.id for t in data.templates], ordered=True)
    m.R = pyo.Set(initialize=list(data.roles), ordered=True)
    m.EDT = pyo.Set(dimen=3, initialize=[(e, d, t) for e in m.E for d in m.D for t in m.T
                                         if caps[e].get(t, 1) > 0 and _open(data, d, t)], ordered=True)
    m.x = pyo.Var(m.EDT, domain=pyo.Binary)
    m.w = pyo.Var(m.E, m.D, bounds=(0, 1))
    m.groups = _skill_groups(data)
    m.G = pyo.Set(initialize=list(range(len(m.groups))))
    m.n = pyo.Var(m.G, m.D, m.T, bounds=(0, None))
    m.y = pyo.Var(m.D, m.T, m.R, domain=pyo.NonNegativeIntegers)
    m.keys = list(data.requirement)                                  # position → (r, k)
    m.K = pyo.RangeSet(0, len(m.keys) - 1)
    m.under = pyo.Var(m.K, bounds=(0, None))
    m.over = pyo.Var(m.K, bounds=(0, None))
    m.shifts_of = defaultdict(list)          # (e, d) → [t]
    for e, d, t in m.EDT:
        m.shifts_of[e, d].append(t)


# --------------------------------------------------------------------------------------- families
def add_day_work(m, data: RosterData) -> None:
    """At most one shift per day: w[e,d] = Σ_t x[e,d,t] ≤ 1 ∀ e ∈ E, d ∈ D (w is bounded by 1)."""
    m.day_work = pyo.Constraint(m.E, m.D, rule=lambda m, e, d:
                                m.w[e, d] == sum(m.x[e, d, t] for t in m.shifts_of[e, d]))


def add_availability(m, data: RosterData) -> None:
    """Unavailable days and days off: x[e,d,t] = 0 ∀ e, d ∈ U_e, t (U_e: days e cannot work)."""
    for i, emp in enumerate(data.employees):
        for d in emp.unavailable_days:
            if 0 <= d < data.days:
                m.w[i, d].fix(0)
                for t in m.shifts_of[i, d]:
                    m.x[i, d, t].fix(0)


def add_skill_groups(m, data: RosterData) -> None:
    """Aggregate by skill group: n[g,d,t] = Σ_{e ∈ g} x[e,d,t] ∀ g ∈ G, d ∈ D, t ∈ T."""
    members = list(m.groups.values())

    def rule(m, g, d, t):
        terms = [m.x[e, d, t] for e in members[g] if (e, d, t) in m.EDT]
        return m.n[g, d, t] == sum(terms) if terms else m.n[g, d, t] == 0
    m.skill_group = pyo.Constraint(m.G, m.D, m.T, rule=rule)


def add_role_split(m, data: RosterData) -> None:
    """Workers on (d,t) take one role each within their skills (a transportation split, exact)::

        Σ_{r ∈ g} z[g,d,t,r] = n[g,d,t] ∀ g;   y[d,t,r] = Σ_{g ∋ r} z[g,d,t,r] ∀ r;   z ≥ 0

    With n and y integer a fractional z can always be replaced by an integral one (transportation
    matrices are totally unimodular), so z stays continuous.
    """
    skills = list(m.groups)
    m.GR = pyo.Set(dimen=2, initialize=[(g, r) for g in m.G for r in skills[g]])
    m.z = pyo.Var(m.GR, m.D, m.T, bounds=(0, None))
    m.role_supply = pyo.Constraint(m.G, m.D, m.T, rule=lambda m, g, d, t:
                                   sum(m.z[g, r, d, t] for r in skills[g]) == m.n[g, d, t])
    m.role_demand = pyo.Constraint(m.D, m.T, m.R, rule=lambda m, d, t, r:
                                   m.y[d, t, r] == sum(m.z[g, r, d, t] for g in m.G if r in skills[g]))


def add_coverage(m, data: RosterData) -> None:
    """Σ_{(d,t) covering k} a_{dtk}·y[d,t,r] + under[r,k] − over[r,k] = req[r,k] ∀ (r,k) ∈ K
    (a: fraction of the key a shift is present for, e.g. 0.5 in an hour with a 30-min break)."""
    by_key = defaultdict(list)
    for (d, t), keys in data.covers.items():
        for k, a in keys:
            by_key[k].append((d, t, a))

    def rule(m, i):
        r, k = m.keys[i]
        lhs = sum(a * m.y[d, t, r] for d, t, a in by_key.get(k, ()))
        return lhs + m.under[i] - m.over[i] == data.requirement[r, k][0]
    m.coverage = pyo.Constraint(m.K, rule=rule)


def add_rest(m, data: RosterData) -> None:
    """Minimum rest / forbidden successions, for every clique (A_i, B_i) of templates whose pairs leave
    less than the minimum rest::

        a[e,d,i] + b[e,d+1,i] ≤ 1     ∀ e, d < H−1, i
        a[e,d,i] = Σ_{t∈A_i} x[e,d,t],  b[e,d,i] = Σ_{t∈B_i} x[e,d,t]

    The sums are written incrementally when the cliques are nested (A_i ⊇ A_{i+1}, B_i ⊇ B_{i−1}), which
    keeps each x in two definition rows instead of one row per clique.
    """
    A = [a for a, _ in data.rest_cliques]
    B = [b for _, b in data.rest_cliques]
    m.C = pyo.RangeSet(0, len(A) - 1) if A else pyo.Set(initialize=[])
    m.rest_a = pyo.Var(m.E, m.D, m.C, bounds=(0, 1))
    m.rest_b = pyo.Var(m.E, m.D, m.C, bounds=(0, 1))

    def define(var, sets, j_of):
        def rule(m, e, d, i):
            j = j_of(i)
            nested = j is not None and sets[j] <= sets[i]
            base = var[e, d, j] if nested else 0
            rest = sets[i] - sets[j] if nested else sets[i]
            return var[e, d, i] == base + sum(m.x[e, d, t] for t in rest if (e, d, t) in m.EDT)
        return rule
    last = len(A) - 1
    m.rest_a_def = pyo.Constraint(m.E, m.D, m.C, rule=define(m.rest_a, A, lambda i: i + 1 if i < last else None))
    m.rest_b_def = pyo.Constraint(m.E, m.D, m.C, rule=define(m.rest_b, B, lambda i: i - 1 if i > 0 else None))
    m.rest = pyo.Constraint(m.E, pyo.RangeSet(0, data.days - 2), m.C,
                            rule=lambda m, e, d, i: m.rest_a[e, d, i] + m.rest_b[e, d + 1, i] <= 1)


def add_contract_minutes(m, data: RosterData) -> None:
    """min_e ≤ Σ_{d∈p, t} m_t·x[e,d,t] ≤ max_e ∀ e, contract periods p (stated in hours: ÷ 60)."""
    pm = {t.id: t.paid_minutes for t in data.templates}
    P = data.days // data.contract_period_days
    m.P = pyo.RangeSet(0, P - 1)

    def rule(m, e, p):
        emp = data.employees[e]
        days = range(p * data.contract_period_days, (p + 1) * data.contract_period_days)
        paid = sum(pm[t] / 60.0 * m.x[e, d, t] for d in days for t in m.shifts_of[e, d])
        hi = None if math.isinf(emp.max_minutes) else emp.max_minutes / 60.0
        return pyo.inequality(emp.min_minutes / 60.0 or None, paid, hi)
    m.contract_minutes = pyo.Constraint(m.E, m.P, rule=rule)


def add_max_per_template(m, data: RosterData) -> None:
    """Σ_d x[e,d,t] ≤ M_et ∀ e, t with a limit M_et (shifts of one type over the horizon)."""
    m.max_per_template = pyo.ConstraintList()
    for e, emp in enumerate(data.employees):
        for t, cap in emp.max_per_template:
            terms = [m.x[e, d, t] for d in m.D if (e, d, t) in m.EDT]
            if 0 < cap < len(terms):
                m.max_per_template.add(sum(terms) <= cap)


def add_max_consecutive_days(m, data: RosterData) -> None:
    """Σ_{j=d}^{d+c_e} w[e,j] ≤ c_e ∀ e, d ≤ H−1−c_e (at most c_e working days in a row)."""
    m.max_consecutive = pyo.ConstraintList()
    for e, emp in enumerate(data.employees):
        c = emp.max_consecutive_days
        if c is None:
            continue
        for d in range(data.days - c):
            m.max_consecutive.add(sum(m.w[e, j] for j in range(d, d + c + 1)) <= c)


def add_min_days_off_per_week(m, data: RosterData) -> None:
    """Σ_{d ∈ week j} w[e,d] ≤ 7 − f_e ∀ e, full weeks j of the horizon (f_e days off per week)."""
    m.min_days_off_week = pyo.ConstraintList()
    for e, emp in enumerate(data.employees):
        if emp.min_days_off_per_week > 0:
            for j in range(data.days // 7):
                days = range(7 * j, 7 * j + 7)
                m.min_days_off_week.add(sum(m.w[e, d] for d in days) <= 7 - emp.min_days_off_per_week)


def add_min_consecutive_days(m, data: RosterData) -> None:
    """No work block shorter than b_e inside the horizon: for s = 1..b_e−1, d = 0..H−s−2
    w[e,d] + (s − Σ_{j=d+1}^{d+s} w[e,j]) + w[e,d+s+1] ≥ 1 (forbids off, s on, off)."""
    m.min_consecutive = pyo.ConstraintList()
    for e, emp in enumerate(data.employees):
        for s in range(1, emp.min_consecutive_days):
            for d in range(data.days - s - 1):
                inner = sum(m.w[e, j] for j in range(d + 1, d + s + 1))
                m.min_consecutive.add(m.w[e, d] + s - inner + m.w[e, d + s + 1] >= 1)


def add_min_consecutive_days_off(m, data: RosterData) -> None:
    """No day-off block shorter than f_e inside the horizon: for s = 1..f_e−1, d = 0..H−s−2
    (1 − w[e,d]) + Σ_{j=d+1}^{d+s} w[e,j] + (1 − w[e,d+s+1]) ≥ 1 (forbids on, s off, on)."""
    m.min_days_off = pyo.ConstraintList()
    for e, emp in enumerate(data.employees):
        for s in range(1, emp.min_consecutive_days_off):
            for d in range(data.days - s - 1):
                inner = sum(m.w[e, j] for j in range(d + 1, d + s + 1))
                m.min_days_off.add(2 - m.w[e, d] + inner - m.w[e, d + s + 1] >= 1)


def add_max_weekends(m, data: RosterData) -> None:
    """Weekends worked: v[e,k] ≥ w[e,d] ∀ d ∈ weekend k; Σ_k v[e,k] ≤ W_e ∀ e with a limit W_e."""
    weekends = data.weekends()
    limited = [e for e, emp in enumerate(data.employees) if emp.max_weekends is not None]
    m.v = pyo.Var(limited, range(len(weekends)), bounds=(0, 1))
    m.weekend_worked = pyo.ConstraintList()
    m.max_weekends = pyo.ConstraintList()
    for e in limited:
        for k, days in enumerate(weekends):
            for d in days:
                m.weekend_worked.add(m.v[e, k] >= m.w[e, d])
        if len(weekends) > data.employees[e].max_weekends:
            m.max_weekends.add(sum(m.v[e, k] for k in range(len(weekends))) <= data.employees[e].max_weekends)


def add_weekend_fairness(m, data: RosterData) -> None:
    """Soft balance: W ≥ Σ_{d ∈ weekend days} w[e,d] ∀ e; λ·W is added to the objective."""
    days = [d for wk in data.weekends() for d in wk]
    m.W = pyo.Var(bounds=(0, None))
    m.weekend_balance = pyo.Constraint(m.E, rule=lambda m, e: m.W >= sum(m.w[e, d] for d in days))


def add_objective(m, data: RosterData) -> None:
    """Labour cost + under/over-coverage penalties + request penalties + λ·W (module docstring)."""
    pm = {t.id: t.paid_minutes for t in data.templates}
    labour = sum(data.employees[e].hourly_cost * pm[t] / 60.0 * m.x[e, d, t] for e, d, t in m.EDT
                 if data.employees[e].hourly_cost)
    cover = sum(u * m.under[i] + o * m.over[i] for i, (_, u, o) in enumerate(data.requirement.values()))
    eid = {emp.id: i for i, emp in enumerate(data.employees)}
    on = sum(q * (1 - m.x[eid[e], d, t]) if (eid[e], d, t) in m.EDT else q
             for (e, d, t), q in data.on_requests.items())
    off = sum(p * m.x[eid[e], d, t] for (e, d, t), p in data.off_requests.items() if (eid[e], d, t) in m.EDT)
    m.labour_cost = pyo.Expression(expr=labour)
    m.obj = pyo.Objective(expr=labour + cover + on + off + data.weekend_fairness_weight * m.W)


def build_roster_model(data: RosterData) -> pyo.ConcreteModel:
    """Assemble the roster program from validated :class:`RosterData`."""
    m = pyo.ConcreteModel(name="roster")
    add_variables(m, data)
    for family in (add_day_work, add_availability, add_skill_groups, add_role_split, add_coverage,
                   add_rest, add_contract_minutes, add_max_per_template, add_max_consecutive_days,
                   add_min_days_off_per_week, add_min_consecutive_days, add_min_consecutive_days_off, add_max_weekends,
                   add_weekend_fairness, add_objective):
        family(m, data)
    return m


# --------------------------------------------------------------------------------------- solve, extract
@dataclass
class RosterResult:
    roster: pd.DataFrame        # employee_id, day, template, role, start_hour, end_hour, paid_hours, cost
    coverage: pd.DataFrame      # role, key, required, scheduled, shortfall, over
    objective: float | None
    labour_cost: float
    solve: SolveResult


def _assign_roles(workers: list[int], counts: dict[str, int], data: RosterData) -> dict[int, str]:
    """Give each worker on one (day, template) a role within their skills, matching the counts y."""
    slots = [r for r, c in counts.items() for _ in range(c)]
    cost = np.array([[0.0 if r in data.employees[e].skills else 1.0 for r in slots] for e in workers])
    rows, cols = linear_sum_assignment(cost)
    if cost[rows, cols].sum() > 0:
        raise RuntimeError("role split violates skills: the transportation split should have prevented this")
    return {workers[i]: slots[j] for i, j in zip(rows, cols)}


def _roster_rows(m, data: RosterData) -> list[dict]:
    tmpl = {t.id: t for t in data.templates}
    working = defaultdict(list)
    for e, d, t in m.EDT:
        if pyo.value(m.x[e, d, t]) > 0.5:
            working[d, t].append(e)
    rows = []
    for (d, t), workers in sorted(working.items()):
        counts = {r: int(round(pyo.value(m.y[d, t, r]))) for r in m.R}
        roles = _assign_roles(workers, counts, data)
        tp = tmpl[t]
        for e in workers:
            emp = data.employees[e]
            rows.append({
                "employee_id": emp.id, "day": d, "template": t, "role": roles[e],
                "start_hour": None if tp.start_min is None else tp.start_min / 60,
                "end_hour": None if tp.end_min is None else tp.end_min / 60,
                "paid_hours": tp.paid_minutes / 60, "cost": emp.hourly_cost * tp.paid_minutes / 60})
    return rows


def _coverage_rows(m, data: RosterData) -> pd.DataFrame:
    rows = []
    for i, (r, k) in enumerate(m.keys):
        req = data.requirement[r, k][0]
        under, over = pyo.value(m.under[i]), pyo.value(m.over[i])
        rows.append({"role": r, "key": k, "required": req, "scheduled": req - under + over,
                     "shortfall": under, "over": over})
    return pd.DataFrame(rows)


def solve_roster(data: RosterData, options: SolveOptions | None = None) -> RosterResult:
    """Build, solve (HiGHS via :func:`solvers.solve_or_explain`) and extract the roster and coverage."""
    return solve_built_roster(build_roster_model(data), data, options)


def solve_built_roster(m: pyo.ConcreteModel, data: RosterData, options: SolveOptions | None = None) -> RosterResult:
    """Solve a model from :func:`build_roster_model` (possibly with variables fixed or bounded by the
    caller) and extract the roster and coverage."""
    r = solve_or_explain(m, options or SolveOptions(time_limit_s=60, mip_rel_gap=1e-4))
    if not r.status.has_solution:
        raise RuntimeError(f"roster program ended {r.status.value} without a roster "
                           f"({r.message or 'raise the time limit'})")
    roster = pd.DataFrame(_roster_rows(m, data), columns=[
        "employee_id", "day", "template", "role", "start_hour", "end_hour", "paid_hours", "cost"])
    return RosterResult(roster, _coverage_rows(m, data), r.objective, float(pyo.value(m.labour_cost)), r)
