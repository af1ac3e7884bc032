"""Roster program benchmark: 50 / 150 / 400 employees × 7 days × 24 hours × 3 roles.

Prints wall seconds (build + solve), objective, certified lower bound and gap, coverage shortfall hours,
labour cost, the labour-rule violations the independent validator finds, and the cost of a
fixed-template rule roster at equal coverage (ratio optimized / rule). ``--monolithic`` adds the
monolithic program on the smallest size as the reference. Synthetic instances are
seeded (numpy Generator), so figures are reproducible up to solver timing.

    python benchmarks/roster.py [--sizes 50 150 400] [--time-limit 60] [--seed 3]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from model.workforce.hourly import hourly_roster_data
from model.workforce.decompose import solve_roster_decomposed
from model.workforce.roster import Employee, solve_roster
from model.workforce.rule_roster import rule_roster_cost
from model.workforce.validate import validate_roster
from scenarios.schema import WorkforceConfig
from solvers import SolveOptions

ROLES = ("receive", "pick", "pack")
ROLE_SHARE = {"receive": 0.25, "pick": 0.5, "pack": 0.25}


def synthetic_staff(n: int, rng: np.random.Generator) -> tuple[Employee, ...]:
    """n employees: 60% one skill, 30% two, 10% three; 60% full time (30–40 h), 40% part time (12–24 h)."""
    out = []
    for i in range(n):
        k = rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])
        skills = tuple(rng.choice(ROLES, size=k, replace=False, p=[0.25, 0.5, 0.25]))
        full = rng.random() < 0.6
        lo, hi = (30, 40) if full else (12, 24)
        out.append(Employee(f"E{i:04d}", skills, hourly_cost=float(rng.uniform(18, 26)),
                            min_minutes=60 * lo, max_minutes=60 * hi, max_consecutive_days=5,
                            min_days_off_per_week=2))
    return tuple(out)


def synthetic_requirements(n: int, rng: np.random.Generator, load: float = 0.8) -> pd.DataFrame:
    """Staff per role × hour: a two-peak daily profile, weekday weights, scaled so the week needs
    ``load`` × 30 h × n staff-hours in total."""
    hours = np.arange(24)
    shape = 0.15 + np.exp(-0.5 * ((hours - 10) / 2.5) ** 2) + 0.7 * np.exp(-0.5 * ((hours - 17) / 2.5) ** 2)
    day_w = np.array([1.1, 1.0, 1.0, 1.05, 1.15, 0.9, 0.8])
    grid = np.outer(day_w, shape)
    rows = []
    for r in ROLES:
        target = load * 30 * n * ROLE_SHARE[r]
        need = np.round(grid / grid.sum() * target * rng.uniform(0.9, 1.1, grid.shape))
        rows += [{"role": r, "day": d, "hour": h, "required": float(need[d, h])}
                 for d in range(7) for h in range(24)]
    return pd.DataFrame(rows)


def covered(coverage: pd.DataFrame) -> pd.DataFrame:
    """The requirement a roster met (min(required, scheduled) per role × hour): the rule roster is built
    for it, so both rosters are compared at equal coverage."""
    return pd.DataFrame({"role": coverage["role"], "day": coverage["key"] // 24, "hour": coverage["key"] % 24,
                         "required": np.minimum(coverage["required"], coverage["scheduled"])})


def run(n: int, time_limit: float, seed: int, monolithic: bool) -> dict:
    rng = np.random.default_rng(seed + n)
    cfg = WorkforceConfig(time_limit_s=time_limit, mip_gap=0.02)
    req = synthetic_requirements(n, rng)
    staff = synthetic_staff(n, rng)
    t0 = time.perf_counter()
    data = hourly_roster_data(req, staff, cfg, days=7)
    opts = SolveOptions(time_limit_s=time_limit, mip_rel_gap=cfg.mip_gap)
    if monolithic:
        try:
            r = solve_roster(data, opts)
        except RuntimeError as e:       # no roster within the limit is a result too
            return {"employees": n, "method": "monolithic", "wall_s": round(time.perf_counter() - t0, 1),
                    "objective": str(e)[:40]}
        roster, cov, obj, lb, gap, labour = r.roster, r.coverage, r.objective, r.solve.bound, r.solve.gap, r.labour_cost
    else:
        d = solve_roster_decomposed(data, opts)
        roster, cov, obj, lb, gap, labour = d.roster, d.coverage, d.objective, d.lower_bound, d.gap, d.labour_cost
    wall = time.perf_counter() - t0
    rule = rule_roster_cost(covered(cov), staff)
    return {"employees": n, "method": "monolithic" if monolithic else "decomposed", "wall_s": round(wall, 1),
            "objective": round(obj), "lower_bound": round(lb), "gap": round(gap, 4),
            "required_h": float(req["required"].sum()), "shortfall_h": round(float(cov["shortfall"].sum()), 1),
            "labour_cost": round(labour), "rule_cost": round(rule.cost),
            "violations": len(validate_roster(roster, data, rest_hours=cfg.rest_hours))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 150, 400])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--monolithic", action="store_true", help="also run the monolithic program (reference)")
    args = ap.parse_args()
    rows = [run(n, args.time_limit, args.seed, False) for n in args.sizes]
    if args.monolithic:
        rows.append(run(args.sizes[0], args.time_limit, args.seed, True))
    df = pd.DataFrame(rows)
    df["opt/rule cost"] = (df["labour_cost"] / df["rule_cost"]).round(3)
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
