"""Hourly roster data: shift templates, rest cliques and employees from the scenario and the staff table.

Hours are indexed over the horizon, ``k = 24·d + h`` (d: day 0..H−1, h: hour 0..23). A template starting
at hour ``s`` of length ``L`` hours covers hours ``s .. s+L−1`` of its day (continuing into the next day
when ``s + L > 24``; hours past the horizon end are dropped); shifts of ``break_after_h`` hours or more
carry an unpaid break in their middle hour, which then counts ``1 − break/60`` of a person.
"""
from __future__ import annotations

import pandas as pd

from model.workforce.roster import Employee, RosterData, Template
from scenarios.schema import WorkforceConfig


def shift_templates(cfg: WorkforceConfig) -> tuple[Template, ...]:
    """Every (start, length) pair of the scenario as a template; paid minutes exclude the break."""
    out = []
    for s in sorted(set(cfg.shift_starts)):
        for length in sorted(set(cfg.shift_lengths_h)):
            brk = cfg.break_minutes if length >= cfg.break_after_h else 0
            out.append(Template(f"{s:02d}+{length}", 60 * length - brk, 60 * s, 60 * (s + length)))
    return tuple(out)


def _break_minutes(t: Template) -> int:
    return (t.end_min - t.start_min) - t.paid_minutes


def template_hours(t: Template) -> list[tuple[int, float]]:
    """(hour offset from the template's day start, share of the hour worked) for every covered hour."""
    s, length = t.start_min // 60, (t.end_min - t.start_min) // 60
    mid, brk = s + length // 2, _break_minutes(t)
    return [(h, 1.0 - brk / 60.0 if (brk and h == mid) else 1.0) for h in range(s, s + length)]


def hourly_covers(templates, days: int) -> dict:
    """(d, t) → [(hour of horizon k, share)] for every day and template."""
    return {(d, t.id): [(24 * d + h, a) for h, a in template_hours(t) if 24 * d + h < 24 * days]
            for d in range(days) for t in templates}


def rest_cliques(templates, rest_hours: float) -> list[tuple[frozenset, frozenset]]:
    """Cliques (A, B) such that a shift of A on day d and one of B on day d+1 leave < ``rest_hours``.

    Rest between t on d and t' on d+1 is 24 + start(t') − end(t) (hours); the pair conflicts iff
    start(t') < θ_t := end(t) + rest − 24. For each distinct θ: A = {t : θ_t ≥ θ}, B = {t' : start(t') < θ};
    every conflicting pair lies in the clique of its own θ_t and every pair of a clique conflicts.
    """
    theta = {t.id: t.end_min / 60 + rest_hours - 24 for t in templates}
    if max(t.end_min / 60 for t in templates) + rest_hours > 48:
        raise ValueError("rest_hours + longest shift end exceed two days: rest would span two days")
    out = []
    for th in sorted({v for v in theta.values() if v > 0}):
        a = frozenset(t for t, v in theta.items() if v >= th)
        b = frozenset(t.id for t in templates if t.start_min / 60 < th)
        if a and b:
            out.append((a, b))
    return out


def employees_from_staff(staff: pd.DataFrame, cfg: WorkforceConfig, roles,
                         unavailable: dict | None = None) -> tuple[Employee, ...]:
    """Employees from the SSOT ``staff`` table (skills 'pick|pack', weekly contract hours, hourly cost).

    Raises ``ValueError`` naming rows with missing contract hours or cost."""
    need = ["employee_id", "skills", "contract_min_hours", "contract_max_hours", "hourly_cost"]
    missing = [c for c in need if c not in staff.columns]
    if missing:
        raise ValueError(f"staff table lacks columns {missing}")
    bad = staff[staff[need[2:]].isna().any(axis=1)]["employee_id"].tolist()
    if bad:
        raise ValueError(f"staff rows {bad[:10]} lack contract hours or hourly_cost")
    unavailable = unavailable or {}
    out = []
    for row in staff.itertuples(index=False):
        skills = tuple(s for s in str(row.skills or "").split("|") if s in roles)
        if not skills:
            continue
        out.append(Employee(
            id=str(row.employee_id), skills=skills, hourly_cost=float(row.hourly_cost),
            min_minutes=60 * float(row.contract_min_hours), max_minutes=60 * float(row.contract_max_hours),
            max_consecutive_days=cfg.max_consecutive_days, min_days_off_per_week=cfg.min_days_off_per_week,
            unavailable_days=frozenset(unavailable.get(str(row.employee_id), ()))))
    return tuple(out)


def hourly_roster_data(requirements: pd.DataFrame, employees, cfg: WorkforceConfig, days: int,
                       templates=None) -> RosterData:
    """Roster data for an hourly horizon of ``days`` days.

    ``requirements``: role, day, hour, required (staff). Every role × hour of the horizon gets a coverage
    row (missing → 0 required) so over-coverage is penalised everywhere.
    """
    missing = {"role", "day", "hour", "required"} - set(requirements.columns)
    if missing:
        raise ValueError(f"requirements lack columns {sorted(missing)}")
    roles = tuple(sorted(requirements["role"].unique()))
    templates = templates or shift_templates(cfg)
    req = {(r, k): (0.0, cfg.under_penalty_per_hour, cfg.over_penalty_per_hour)
           for r in roles for k in range(24 * days)}
    for row in requirements.itertuples(index=False):
        if not (0 <= row.day < days and 0 <= row.hour < 24):
            raise ValueError(f"requirement row day={row.day} hour={row.hour}: expected day in "
                             f"0..{days - 1}, hour in 0..23")
        req[row.role, 24 * int(row.day) + int(row.hour)] = (
            float(row.required), cfg.under_penalty_per_hour, cfg.over_penalty_per_hour)
    return RosterData(days, tuple(templates), roles, tuple(employees), req, hourly_covers(templates, days),
                      rest_cliques(templates, cfg.rest_hours), contract_period_days=7,
                      weekend_fairness_weight=cfg.weekend_fairness_weight)
