"""Reader for the Curtois & Qu shift-scheduling benchmark text format (schedulingbenchmarks.org).

Sections (``#`` starts a comment; fields are comma separated):

* ``SECTION_HORIZON`` — horizon length H in days; day 0 is a Monday.
* ``SECTION_SHIFTS`` — shift id, length (minutes), ids of shifts that cannot follow it on the next day
  (``|``-separated).
* ``SECTION_STAFF`` — id, max shifts per type (``D=14|E=0``), max / min total minutes over the horizon,
  max / min consecutive shifts, min consecutive days off, max weekends worked.
* ``SECTION_DAYS_OFF`` — employee, day indexes the employee cannot work.
* ``SECTION_SHIFT_ON_REQUESTS`` / ``SECTION_SHIFT_OFF_REQUESTS`` — employee, day, shift, weight: penalty
  if the request is not met.
* ``SECTION_COVER`` — day, shift, requirement, weight per staff under, weight per staff over.

The objective is Σ unmet on-request weights + Σ violated off-request weights + Σ under·weight +
Σ over·weight; :func:`to_roster_data` maps an instance onto :class:`~model.workforce.roster.RosterData`
with zero labour cost so the roster program's optimum is exactly that objective, and :func:`evaluate`
scores a solution from the instance alone (independent of the program).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from model.workforce.roster import Employee, RosterData, Template

SECTIONS = ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF", "SECTION_DAYS_OFF",
            "SECTION_SHIFT_ON_REQUESTS", "SECTION_SHIFT_OFF_REQUESTS", "SECTION_COVER")


@dataclass(frozen=True)
class Staff:
    id: str
    max_shifts: dict            # shift id → max count over the horizon
    max_minutes: int
    min_minutes: int
    max_consecutive: int
    min_consecutive: int
    min_consecutive_off: int
    max_weekends: int


@dataclass(frozen=True)
class Instance:
    name: str
    horizon: int
    shift_minutes: dict         # shift id → minutes
    cannot_follow: dict         # shift id → set of shift ids not allowed on the next day
    staff: tuple[Staff, ...]
    days_off: dict              # employee → set of days
    on_requests: dict           # (employee, day, shift) → weight
    off_requests: dict          # (employee, day, shift) → weight
    cover: dict                 # (day, shift) → (requirement, under weight, over weight)


def _sections(path: Path) -> dict[str, list[tuple[int, list[str]]]]:
    out: dict[str, list] = defaultdict(list)
    current = None
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("SECTION_"):
            if line not in SECTIONS:
                raise ValueError(f"{path}:{lineno}: unknown section {line!r}; expected one of {SECTIONS}")
            current = line
        elif current is None:
            raise ValueError(f"{path}:{lineno}: data before the first SECTION_ header")
        else:
            out[current].append((lineno, [f.strip() for f in line.split(",")]))
    return out


def _ints(path, lineno, fields, n, what):
    if len(fields) < n:
        raise ValueError(f"{path}:{lineno}: {what} needs {n} fields, got {len(fields)}: {fields}")
    try:
        return [int(f) for f in fields[:n]]
    except ValueError:
        raise ValueError(f"{path}:{lineno}: {what}: expected integers, got {fields[:n]}") from None


def _staff(path, lineno, f) -> Staff:
    if len(f) != 8:
        raise ValueError(f"{path}:{lineno}: SECTION_STAFF needs 8 fields, got {len(f)}")
    caps = {}
    for part in filter(None, f[1].split("|")):
        sid, _, cap = part.partition("=")
        caps[sid] = _ints(path, lineno, [cap], 1, "max shifts")[0]
    nums = _ints(path, lineno, f[2:], 6, "SECTION_STAFF")
    return Staff(f[0], caps, *nums)


def _requests(path, rows) -> dict:
    out = {}
    for lineno, f in rows:
        day, weight = _ints(path, lineno, [f[1], f[3]], 2, "request")
        out[f[0], day, f[2]] = weight
    return out


def read_instance(path: str | Path) -> Instance:
    """Parse an instance file; errors name the file, line and field."""
    path = Path(path)
    sec = _sections(path)
    missing = [s for s in ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF", "SECTION_COVER") if not sec[s]]
    if missing:
        raise ValueError(f"{path}: missing sections {missing}")
    lineno, f = sec["SECTION_HORIZON"][0]
    horizon = _ints(path, lineno, f, 1, "SECTION_HORIZON")[0]
    minutes = {f[0]: _ints(path, ln, f[1:], 1, "SECTION_SHIFTS")[0] for ln, f in sec["SECTION_SHIFTS"]}
    follow = {f[0]: set(filter(None, (f[2] if len(f) > 2 else "").split("|"))) for _, f in sec["SECTION_SHIFTS"]}
    staff = tuple(_staff(path, ln, f) for ln, f in sec["SECTION_STAFF"])
    days_off = {f[0]: set(_ints(path, ln, f[1:], len(f) - 1, "SECTION_DAYS_OFF")) for ln, f in sec["SECTION_DAYS_OFF"]}
    cover = {}
    for ln, f in sec["SECTION_COVER"]:
        day, req, under, over = _ints(path, ln, [f[0], *f[2:5]], 4, "SECTION_COVER")
        cover[day, f[1]] = (req, under, over)
    return Instance(path.stem, horizon, minutes, follow, staff, days_off,
                    _requests(path, sec["SECTION_SHIFT_ON_REQUESTS"]),
                    _requests(path, sec["SECTION_SHIFT_OFF_REQUESTS"]), cover)


def to_roster_data(inst: Instance) -> RosterData:
    """Map an instance onto the roster program: one role, cover key (day, shift), zero labour cost,
    contract period = horizon, forbidden successions as rest cliques ({t}, cannot_follow[t])."""
    templates = tuple(Template(s, m) for s, m in inst.shift_minutes.items())
    employees = tuple(Employee(
        id=s.id, skills=("staff",), min_minutes=s.min_minutes, max_minutes=s.max_minutes,
        max_per_template=tuple(s.max_shifts.items()), max_consecutive_days=s.max_consecutive,
        min_consecutive_days=s.min_consecutive, min_consecutive_days_off=s.min_consecutive_off,
        max_weekends=s.max_weekends, unavailable_days=frozenset(inst.days_off.get(s.id, ())))
        for s in inst.staff)
    requirement = {("staff", (d, t)): v for (d, t), v in inst.cover.items()}
    covers = {(d, t): [((d, t), 1.0)] for d in range(inst.horizon) for t in inst.shift_minutes}
    cliques = [(frozenset({t}), frozenset(nxt)) for t, nxt in inst.cannot_follow.items() if nxt]
    return RosterData(inst.horizon, templates, ("staff",), employees, requirement, covers, cliques,
                      contract_period_days=inst.horizon, on_requests=dict(inst.on_requests),
                      off_requests=dict(inst.off_requests))


def _blocks(worked: list[bool], value: bool) -> list[tuple[int, int]]:
    """(start, length) of maximal runs equal to ``value``."""
    out, start = [], None
    for d, v in enumerate(worked + [not value]):
        if v == value and start is None:
            start = d
        elif v != value and start is not None:
            out.append((start, d - start))
            start = None
    return out


def _staff_violations(inst: Instance, s: Staff, shifts: dict) -> list[str]:
    """Hard-constraint violations of one employee; ``shifts`` maps day → shift id."""
    H, bad = inst.horizon, []
    worked = [d in shifts for d in range(H)]
    for t, cap in s.max_shifts.items():
        if sum(v == t for v in shifts.values()) > cap:
            bad.append(f"{s.id}: more than {cap} shifts of type {t}")
    total = sum(inst.shift_minutes[t] for t in shifts.values())
    if not s.min_minutes <= total <= s.max_minutes:
        bad.append(f"{s.id}: {total} minutes outside [{s.min_minutes}, {s.max_minutes}]")
    bad += [f"{s.id}: day {d} is a day off" for d in shifts if d in inst.days_off.get(s.id, ())]
    bad += [f"{s.id}: {shifts[d + 1]} cannot follow {shifts[d]} (day {d})" for d in shifts
            if d + 1 in shifts and shifts[d + 1] in inst.cannot_follow[shifts[d]]]
    for start, n in _blocks(worked, True):
        if n > s.max_consecutive:
            bad.append(f"{s.id}: {n} consecutive shifts from day {start} > {s.max_consecutive}")
        if n < s.min_consecutive and start > 0 and start + n < H:
            bad.append(f"{s.id}: {n} consecutive shifts from day {start} < {s.min_consecutive}")
    bad += [f"{s.id}: {n} days off from day {start} < {s.min_consecutive_off}"
            for start, n in _blocks(worked, False) if n < s.min_consecutive_off and start > 0 and start + n < H]
    weekends = sum(1 for w in range(H // 7) if worked[7 * w + 5] or worked[7 * w + 6])
    if weekends > s.max_weekends:
        bad.append(f"{s.id}: {weekends} weekends worked > {s.max_weekends}")
    return bad


def evaluate(inst: Instance, assignment: dict) -> tuple[int, list[str]]:
    """Score a solution from the instance definition alone.

    ``assignment`` maps (employee, day) → shift id. Returns (penalty, hard-constraint violations).
    """
    by_emp = defaultdict(dict)
    for (e, d), t in assignment.items():
        by_emp[e][d] = t
    violations = [v for s in inst.staff for v in _staff_violations(inst, s, by_emp[s.id])]
    penalty = sum(w for (e, d, t), w in inst.on_requests.items() if assignment.get((e, d)) != t)
    penalty += sum(w for (e, d, t), w in inst.off_requests.items() if assignment.get((e, d)) == t)
    for (d, t), (req, under, over) in inst.cover.items():
        n = sum(1 for (e, dd), tt in assignment.items() if dd == d and tt == t)
        penalty += under * max(req - n, 0) + over * max(n - req, 0)
    return penalty, violations
