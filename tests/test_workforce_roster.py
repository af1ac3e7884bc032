"""model.workforce.roster: every labour rule binds where the unconstrained optimum would break it.

Each instance pays 1000 per uncovered staff-hour, so without the rule the optimum would work the extra
shift; the assertion is that the roster does not, and that the independent validator finds nothing.
"""

import numpy as np
import pandas as pd
import pytest

from model.workforce.decompose import solve_roster_decomposed
from model.workforce.hourly import hourly_roster_data, rest_cliques, shift_templates
from model.workforce.roster import Employee, solve_roster
from model.workforce.validate import roster_objective, validate_roster
from scenarios.schema import WorkforceConfig
from solvers import SolveOptions

CFG = WorkforceConfig(shift_starts=[6, 14, 18], shift_lengths_h=[4, 8], break_minutes=0,
                      under_penalty_per_hour=1000, over_penalty_per_hour=1, weekend_fairness_weight=0,
                      min_days_off_per_week=0, max_consecutive_days=7)


def need(cells, role="pick"):
    """Requirements from {(day, first hour, last hour excl.): staff}."""
    return pd.DataFrame([{"role": role, "day": d, "hour": h, "required": n}
                         for (d, a, b), n in cells.items() for h in range(a, b)])


def emp(**kw):
    base = dict(id="E1", skills=("pick",), hourly_cost=20.0, min_minutes=0, max_minutes=60 * 60,
                max_consecutive_days=7)
    return Employee(**{**base, **kw})


def solve(req, emps, cfg=CFG, days=7):
    data = hourly_roster_data(req, emps, cfg, days)
    res = solve_roster(data, SolveOptions(time_limit_s=30, mip_rel_gap=0))
    assert validate_roster(res.roster, data, cfg.rest_hours).empty
    return res, data


def test_rest_between_late_and_early_shift():
    # 18–22 on Monday and 06–10 on Tuesday leave 8 h < 11 h: only one of them can be worked
    res, _ = solve(need({(0, 18, 22): 1, (1, 6, 10): 1}), [emp()])
    assert len(res.roster) == 1
    assert res.coverage["shortfall"].sum() == pytest.approx(4)
    # with 8 h of rest allowed both are worked
    res, _ = solve(need({(0, 18, 22): 1, (1, 6, 10): 1}), [emp()], CFG.model_copy(update={"rest_hours": 8}))
    assert len(res.roster) == 2


def test_contract_max_hours():
    res, _ = solve(need({(d, 6, 14): 1 for d in range(3)}), [emp(max_minutes=16 * 60)])
    assert res.roster["paid_hours"].sum() == 16
    assert res.coverage["shortfall"].sum() == pytest.approx(8)


def test_contract_min_hours_forces_unneeded_work():
    res, _ = solve(need({(0, 6, 14): 0}), [emp(min_minutes=12 * 60)])
    assert res.roster["paid_hours"].sum() >= 12
    # every worked hour inside the week is over-coverage (hours past Sunday midnight fall outside it)
    inside = sum(min(r.end_hour, 24 * (7 - r.day)) - r.start_hour for r in res.roster.itertuples())
    assert res.coverage["over"].sum() == pytest.approx(inside) and inside > 0


def test_max_consecutive_days():
    res, _ = solve(need({(d, 6, 14): 1 for d in range(7)}), [emp(max_consecutive_days=3)])
    days = sorted(res.roster["day"])
    runs = np.diff(np.flatnonzero(np.diff([-2] + days) != 1).tolist() + [len(days)])
    assert max(runs) <= 3 and len(days) == 6       # e.g. 3 on, 1 off, 3 on


def test_days_off_per_week():
    res, _ = solve(need({(d, 6, 14): 1 for d in range(7)}), [emp(min_days_off_per_week=2)])
    assert res.roster["day"].nunique() == 5


def test_skills_and_availability():
    req = pd.concat([need({(0, 6, 14): 1}, "pack"), need({(1, 6, 14): 1, (2, 6, 14): 1})])
    res, _ = solve(req, [emp(unavailable_days=frozenset({2}))])
    assert list(res.roster["day"]) == [1] and set(res.roster["role"]) == {"pick"}


def test_roles_split_by_skill():
    # two workers, one pick-only, one pick|pack; both roles needed at once: the matching must respect skills
    req = pd.concat([need({(0, 6, 14): 1}, "pack"), need({(0, 6, 14): 1})])
    res, _ = solve(req, [emp(id="A"), emp(id="B", skills=("pick", "pack"))])
    assert dict(zip(res.roster["employee_id"], res.roster["role"])) == {"A": "pick", "B": "pack"}


def test_rest_cliques_match_pairwise_rest():
    ts = shift_templates(WorkforceConfig())
    pairs = {(a, b) for A, B in rest_cliques(ts, 11) for a in A for b in B}
    start = {t.id: t.start_min / 60 for t in ts}
    end = {t.id: t.end_min / 60 for t in ts}
    assert pairs == {(a, b) for a in start for b in start if 24 + start[b] - end[a] < 11}


def mixed_skill_instance():
    """Six employees with one or two of two skills, 4/8 h shifts at four starts; the exact optimum."""
    rng = np.random.default_rng(5)
    cfg = WorkforceConfig(shift_starts=[0, 6, 12, 18], shift_lengths_h=[4, 8], under_penalty_per_hour=200)
    emps = [emp(id=f"E{i}", skills=tuple(rng.choice(["pick", "pack"], size=rng.integers(1, 3), replace=False)),
                hourly_cost=float(rng.uniform(18, 26)), min_minutes=16 * 60, max_minutes=40 * 60,
                max_consecutive_days=5, min_days_off_per_week=2) for i in range(6)]
    req = pd.concat([need({(d, 8, 16): 1 + (d % 2) for d in range(7)}),
                     need({(d, 12, 20): 1 for d in range(7)}, "pack")])
    data = hourly_roster_data(req, emps, cfg, 7)
    exact = solve_roster(data, SolveOptions(time_limit_s=60, mip_rel_gap=0))
    return data, exact


def test_decomposition_bounds_bracket_the_optimum():
    data, exact = mixed_skill_instance()
    dec = solve_roster_decomposed(data, SolveOptions(time_limit_s=60, mip_rel_gap=1e-4))
    assert validate_roster(dec.roster, data).empty
    assert dec.lower_bound <= exact.objective + 1e-6 <= dec.objective + 2e-6
    assert roster_objective(exact.roster, data) == pytest.approx(exact.objective, rel=1e-6)
    assert dec.gap == pytest.approx((dec.objective - dec.lower_bound) / dec.objective)


def test_decomposition_without_integer_counts_falls_back_to_the_lp_targets(monkeypatch):
    """When the staffing program ends without an integer solution, chunks are assigned against the LP's
    hourly targets; the roster is still valid and the bounds still bracket the exact optimum."""
    import dataclasses

    from model.workforce import decompose
    real = decompose._phase1
    monkeypatch.setattr(decompose, "_phase1", lambda data, options: dataclasses.replace(real(data, options), counts=None))
    data, exact = mixed_skill_instance()
    dec = solve_roster_decomposed(data, SolveOptions(time_limit_s=60, mip_rel_gap=1e-4))
    assert validate_roster(dec.roster, data).empty
    assert dec.lower_bound <= exact.objective + 1e-6 <= dec.objective + 2e-6


def test_staffing_program_counts_are_staffed_exactly():
    """The staffing program's shift counts per skill group are what the named roster works (the
    exact-count assignment), and its bound is at least the LP relaxation's."""
    import pyomo.environ as pyo

    from model.workforce import decompose
    rng = np.random.default_rng(11)
    cfg = WorkforceConfig(shift_starts=[6, 10, 14], shift_lengths_h=[4, 8], under_penalty_per_hour=200)
    emps = [emp(id=f"E{i}", skills=("pick",), hourly_cost=float(rng.uniform(18, 26)), min_minutes=16 * 60,
                max_minutes=40 * 60, max_consecutive_days=5, min_days_off_per_week=2) for i in range(8)]
    data = hourly_roster_data(need({(d, 8, 18): 2 + d % 3 for d in range(7)}), emps, cfg, 7)
    st = decompose._phase1(data, SolveOptions(time_limit_s=60, mip_rel_gap=1e-4))
    lp = decompose.build_staffing_model(data)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(lp)
    from solvers import solve_or_explain
    assert st.solve.bound >= solve_or_explain(lp, SolveOptions(time_limit_s=60)).objective - 1e-6
    dec = solve_roster_decomposed(data, SolveOptions(time_limit_s=60, mip_rel_gap=1e-4))
    worked = dec.roster.groupby(["day", "template"]).size().to_dict()
    assert worked == {k: v for k, v in st.counts[0].items() if v}
    assert validate_roster(dec.roster, data).empty


def test_bad_requirement_row_is_named():
    with pytest.raises(ValueError, match="day=9"):
        hourly_roster_data(need({(9, 6, 8): 1}), [emp()], CFG, 7)
    with pytest.raises(ValueError, match="min_minutes"):
        hourly_roster_data(need({(0, 6, 8): 1}), [emp(min_minutes=100, max_minutes=10)], CFG, 7)


def test_weekend_fairness_splits_weekends():
    req = need({(5, 6, 14): 1, (6, 6, 14): 1})
    cheap, dear = emp(id="A", hourly_cost=20.0), emp(id="B", hourly_cost=21.0)
    res, _ = solve(req, [cheap, dear])                      # no fairness: the cheaper one works both days
    assert set(res.roster["employee_id"]) == {"A"}
    res, _ = solve(req, [cheap, dear], CFG.model_copy(update={"weekend_fairness_weight": 50}))
    assert sorted(res.roster["employee_id"]) == ["A", "B"]  # 8 extra labour beats 50 of unfairness
