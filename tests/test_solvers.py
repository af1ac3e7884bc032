"""solvers.core: statuses, known optima, infeasibility diagnosis, the hard wall-clock limit."""
import random
import time

import pyomo.environ as pyo
import pytest

from solvers import InfeasibleModelError, SolveOptions, SolveStatus, diagnose_infeasibility, solve, solve_or_explain


def knapsack():
    m = pyo.ConcreteModel(name="knapsack")
    m.x = pyo.Var(range(3), domain=pyo.Binary)
    m.capacity = pyo.Constraint(expr=3 * m.x[0] + 4 * m.x[1] + 5 * m.x[2] <= 7)
    m.obj = pyo.Objective(expr=4 * m.x[0] + 5 * m.x[1] + 6 * m.x[2], sense=pyo.maximize)
    return m


def test_known_optimum_and_solution_loaded():
    m = knapsack()
    r = solve(m)
    assert r.status == SolveStatus.OPTIMAL
    assert r.objective == pytest.approx(9.0)  # items 0 and 1: weight 7, value 9
    assert [round(pyo.value(m.x[i])) for i in range(3)] == [1, 1, 0]
    assert r.gap == pytest.approx(0.0, abs=1e-6)
    assert (r.n_vars, r.n_constraints) == (3, 1)


def test_infeasible_names_the_family():
    m = knapsack()
    m.take_all = pyo.Constraint(expr=sum(m.x[i] for i in range(3)) >= 3)
    assert solve(m).status == SolveStatus.INFEASIBLE
    fams = diagnose_infeasibility(m)
    assert set(fams) <= {"take_all", "capacity"} and fams
    with pytest.raises(InfeasibleModelError, match="take_all|capacity"):
        solve_or_explain(m)


def test_lp_unbounded_status():
    m = pyo.ConcreteModel(name="unb")
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.obj = pyo.Objective(expr=m.x, sense=pyo.maximize)
    assert solve(m).status in (SolveStatus.UNBOUNDED, SolveStatus.INFEASIBLE)


def test_wall_clock_limit_returns_incumbent_with_gap():
    rnd = random.Random(1)
    n, k = 120, 40
    m = pyo.ConcreteModel(name="multi_knapsack")
    m.x = pyo.Var(range(n), domain=pyo.Binary)
    m.c = pyo.ConstraintList()
    for _ in range(k):
        a = [rnd.randint(1000, 10000) for _ in range(n)]
        m.c.add(sum(a[i] * m.x[i] for i in range(n)) <= sum(a) // 2)
    w = [rnd.randint(1000, 10000) for _ in range(n)]
    m.o = pyo.Objective(expr=sum(w[i] * m.x[i] for i in range(n)), sense=pyo.maximize)
    t0 = time.perf_counter()
    r = solve(m, SolveOptions(time_limit_s=1.0, mip_rel_gap=0.0))
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0 * 1.1 + 1.0  # limit + 10% + model hand-off
    assert r.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
    if r.status == SolveStatus.FEASIBLE:
        assert r.gap is not None and r.gap > 0
        assert r.bound >= r.objective
