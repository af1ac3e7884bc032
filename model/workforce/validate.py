"""An independent roster validator: checks an emitted roster against the labour rules from scratch.

It reads only the roster table (employee_id, day, template, role, start_hour, end_hour, paid_hours) and
each employee's rules; it never looks at the program's variables or rest cliques, so a modelling error in
the program shows up here as a violation. Rest is measured on the clock:
``rest = (24·d' + start') − (24·d + end)`` hours between consecutive shifts of one employee.
"""
from __future__ import annotations

import pandas as pd

from model.workforce.roster import Employee, RosterData

COLUMNS = ["rule", "employee_id", "day", "detail"]


def _runs(days: list[int]) -> list[tuple[int, int]]:
    """(first day, length) of each run of consecutive days in a sorted list."""
    runs = []
    for d in days:
        if runs and d == runs[-1][0] + runs[-1][1]:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((d, 1))
    return runs


def _rest(emp: Employee, shifts: pd.DataFrame, rest_hours: float) -> list[tuple]:
    if shifts["start_hour"].isna().any():
        return []
    s = shifts.sort_values("day")
    start = 24 * s["day"].to_numpy() + s["start_hour"].to_numpy()
    end = 24 * s["day"].to_numpy() + s["end_hour"].to_numpy()
    return [("rest", emp.id, int(s["day"].iloc[i + 1]),
             f"{start[i + 1] - end[i]:.1f} h rest < {rest_hours} h") for i in range(len(s) - 1)
            if start[i + 1] - end[i] < rest_hours - 1e-9]


def _contract(emp: Employee, shifts: pd.DataFrame, data: RosterData) -> list[tuple]:
    out, P = [], data.contract_period_days
    for p in range(data.days // P):
        minutes = 60 * shifts.loc[shifts["day"] // P == p, "paid_hours"].sum()
        if not emp.min_minutes - 1e-6 <= minutes <= emp.max_minutes + 1e-6:
            out.append(("contract_hours", emp.id, p * P,
                        f"{minutes / 60:.2f} h in period {p} outside [{emp.min_minutes / 60:.2f}, "
                        f"{emp.max_minutes / 60:.2f}]"))
    return out


def _days(emp: Employee, shifts: pd.DataFrame, data: RosterData) -> list[tuple]:
    days = sorted(shifts["day"].tolist())
    out = [("one_shift_per_day", emp.id, d, "more than one shift") for d in set(days) if days.count(d) > 1]
    out += [("availability", emp.id, d, "works on an unavailable day") for d in days if d in emp.unavailable_days]
    out += [("skills", emp.id, int(r.day), f"role {r.role!r} not in skills {emp.skills}")
            for r in shifts.itertuples() if r.role not in emp.skills]
    for first, n in _runs(sorted(set(days))):
        if emp.max_consecutive_days is not None and n > emp.max_consecutive_days:
            out.append(("max_consecutive_days", emp.id, first, f"{n} days in a row > {emp.max_consecutive_days}"))
    for j in range(data.days // 7):
        worked = len({d for d in days if 7 * j <= d < 7 * j + 7})
        if worked > 7 - emp.min_days_off_per_week:
            out.append(("days_off", emp.id, 7 * j, f"{7 - worked} days off in week {j} < "
                                                   f"{emp.min_days_off_per_week}"))
    return out


def _caps(emp: Employee, shifts: pd.DataFrame, data: RosterData) -> list[tuple]:
    counts = shifts["template"].value_counts()
    out = [("max_per_template", emp.id, None, f"{counts.get(t, 0)} × {t} > {cap}")
           for t, cap in emp.max_per_template if counts.get(t, 0) > cap]
    if emp.max_weekends is not None:
        worked = set(shifts["day"])
        n = sum(1 for wk in data.weekends() if worked & set(wk))
        if n > emp.max_weekends:
            out.append(("max_weekends", emp.id, None, f"{n} weekends > {emp.max_weekends}"))
    return out


def validate_roster(roster: pd.DataFrame, data: RosterData, rest_hours: float = 11.0) -> pd.DataFrame:
    """All violations of ``roster`` (one row each: rule, employee_id, day, detail); empty when valid.

    Rules: one shift per day, availability, skills, rest ≥ ``rest_hours`` (clock times), contract
    minutes per contract period, max consecutive days, days off per week, max shifts per template,
    max weekends. Employees in the roster but not in ``data`` are violations too.
    """
    emps = {e.id: e for e in data.employees}
    rows = [("unknown_employee", e, None, "not in the staff list") for e in set(roster["employee_id"]) - set(emps)]
    for eid, emp in emps.items():
        shifts = roster[roster["employee_id"] == eid]
        rows += _days(emp, shifts, data) + _rest(emp, shifts, rest_hours)
        rows += _contract(emp, shifts, data) + _caps(emp, shifts, data)
    return pd.DataFrame(rows, columns=COLUMNS)


def coverage_table(roster: pd.DataFrame, data: RosterData) -> pd.DataFrame:
    """Coverage recomputed from the roster: role, key, required, scheduled, shortfall, over, where
    scheduled[r,k] = Σ_{rows with role r} a_{d,t,k} (share of key k the row's shift covers)."""
    sched: dict = {}
    for row in roster.itertuples(index=False):
        for k, a in data.covers.get((row.day, row.template), ()):
            sched[row.role, k] = sched.get((row.role, k), 0.0) + a
    rows = []
    for (r, k), (req, _, _) in data.requirement.items():
        s = sched.get((r, k), 0.0)
        rows.append({"role": r, "key": k, "required": req, "scheduled": s,
                     "shortfall": max(req - s, 0.0), "over": max(s - req, 0.0)})
    return pd.DataFrame(rows, columns=["role", "key", "required", "scheduled", "shortfall", "over"])


def roster_objective(roster: pd.DataFrame, data: RosterData) -> float:
    """The roster program's objective evaluated on a roster: labour cost + coverage penalties +
    request penalties + λ · (most weekend days worked by one employee)."""
    cov = coverage_table(roster, data)
    pen = {(r, k): (u, o) for (r, k), (_, u, o) in data.requirement.items()}
    cover = sum(pen[r, k][0] * s + pen[r, k][1] * o
                for r, k, s, o in zip(cov["role"], cov["key"], cov["shortfall"], cov["over"]))
    worked = set(zip(roster["employee_id"], roster["day"], roster["template"]))
    on = sum(q for (e, d, t), q in data.on_requests.items() if (e, d, t) not in worked)
    off = sum(p for (e, d, t), p in data.off_requests.items() if (e, d, t) in worked)
    wk_days = {d for wk in data.weekends() for d in wk}
    wk = roster[roster["day"].isin(wk_days)].groupby("employee_id").size()
    fair = data.weekend_fairness_weight * (wk.max() if len(wk) else 0)
    return float(roster["cost"].sum() + cover + on + off + fair)
