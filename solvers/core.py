"""Solve Pyomo models with HiGHS and return a typed :class:`SolveResult`.

Knows nothing of retail. Three things the raw interfaces do not give:

* **A hard wall-clock limit.** HiGHS's own ``time_limit`` was seen to overshoot (60 s → ~400 s) when the
  root cut loop runs long. :func:`solve` also arms a timer that calls ``Highs.cancelSolve()`` at the
  deadline, so the solve returns with its incumbent (status ``FEASIBLE`` and the MIP gap) or
  ``NO_SOLUTION``.
* **Typed status** (:class:`SolveStatus`) instead of solver-specific termination strings, with objective,
  bound, relative gap and wall time.
* **Infeasibility diagnosis**: :func:`diagnose_infeasibility` relaxes every constraint family with
  elastic slacks, minimises total violation and names the families that must be violated — the planner
  learns *which rule* cannot be met, not just "infeasible".
"""
from __future__ import annotations

import enum
import math
import threading
import time
from dataclasses import dataclass, field

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition


class SolveStatus(str, enum.Enum):
    OPTIMAL = "optimal"            # proven optimal within the requested gap
    FEASIBLE = "feasible"          # stopped (time limit) with an incumbent; see gap
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"    # stopped before any feasible point was found
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 60.0      # hard wall-clock limit, enforced by cancelling HiGHS
    mip_rel_gap: float = 1e-4
    threads: int = 1
    verbose: bool = False
    highs_options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SolveResult:
    status: SolveStatus
    termination: str
    objective: float | None
    bound: float | None
    gap: float | None              # relative gap |obj - bound| / max(|obj|, 1e-9); 0 when optimal
    wall_s: float
    n_vars: int
    n_constraints: int
    solver: str = "highs"
    message: str = ""

    def as_dict(self) -> dict:
        return {
            "status": self.status.value, "termination": self.termination, "objective": self.objective,
            "bound": self.bound, "gap": self.gap, "wall_s": round(self.wall_s, 4), "n_vars": self.n_vars,
            "n_constraints": self.n_constraints, "solver": self.solver, "message": self.message,
        }


class SolverError(RuntimeError):
    """The solver failed in a way that is not an answer (crash, numerical trouble)."""


class InfeasibleModelError(RuntimeError):
    """The program has no feasible point; ``families`` names the constraint families that conflict."""

    def __init__(self, model_name: str, families: dict[str, float]):
        self.model_name = model_name
        self.families = families
        worst = ", ".join(f"{k} (violation {v:.4g})" for k, v in families.items()) or "unknown"
        super().__init__(
            f"{model_name} is infeasible: the constraint families that cannot all hold are: {worst}. "
            f"Relax those inputs (capacities, budgets, bounds) or allow penalised shortfall.")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _count(model: pyo.ConcreteModel) -> tuple[int, int]:
    nv = sum(1 for _ in model.component_data_objects(pyo.Var, active=True, descend_into=True))
    nc = sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    return nv, nc


class _Deadline:
    """Cancels the HiGHS solve held by ``solver`` once ``seconds`` of wall time have passed."""

    def __init__(self, solver, seconds: float):
        self.solver = solver
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        h = getattr(self.solver, "_solver_model", None)
        if h is not None:
            self.fired = True
            h.cancelSolve()

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()


def solve(model: pyo.ConcreteModel, options: SolveOptions | None = None) -> SolveResult:
    """Solve ``model`` with HiGHS; load the solution into the model's variables when there is one.

    Never raises for infeasible/unbounded/time-limit outcomes: those are statuses. Raises
    :class:`SolverError` only for solver failures.
    """
    options = options or SolveOptions()
    n_vars, n_cons = _count(model)
    opt = SolverFactory("highs")
    t0 = time.perf_counter()
    highs_opts = {"mip_rel_gap": options.mip_rel_gap, **options.highs_options}
    # Give HiGHS its own limit slightly inside ours; the timer is the hard wall.
    with _Deadline(opt, options.time_limit_s) as deadline:
        try:
            res = opt.solve(
                model, tee=options.verbose, time_limit=max(options.time_limit_s * 0.95, 0.01),
                threads=options.threads, solver_options=highs_opts,
                load_solutions=False, raise_exception_on_nonoptimal_result=False,
            )
        except Exception as e:  # pragma: no cover - solver crash
            raise SolverError(f"HiGHS failed on {model.name}: {e}") from e
    wall = time.perf_counter() - t0
    tc = res.termination_condition
    has_sol = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = SolveStatus.OPTIMAL
    elif tc in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible):
        status = SolveStatus.INFEASIBLE
    elif tc == TerminationCondition.infeasibleOrUnbounded:
        status = SolveStatus.INFEASIBLE
    elif tc == TerminationCondition.unbounded:
        status = SolveStatus.UNBOUNDED
    elif tc in (TerminationCondition.maxTimeLimit, TerminationCondition.interrupted,
                TerminationCondition.iterationLimit, TerminationCondition.objectiveLimit,
                TerminationCondition.minStepLength):
        status = SolveStatus.FEASIBLE if has_sol else SolveStatus.NO_SOLUTION
    elif has_sol:
        status = SolveStatus.FEASIBLE
    else:
        status = SolveStatus.ERROR
    objective = res.incumbent_objective if has_sol else None
    bound = res.objective_bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    if status.has_solution:
        res.solution_loader.load_vars()
    gap = 0.0 if status == SolveStatus.OPTIMAL and bound is None else relative_gap(objective, bound)
    msg = "wall-clock limit reached; best plan returned" if deadline.fired else ""
    return SolveResult(status, str(tc.name), objective, bound, gap, wall, n_vars, n_cons, message=msg)


def diagnose_infeasibility(model: pyo.ConcreteModel, options: SolveOptions | None = None,
                           tol: float = 1e-6) -> dict[str, float]:
    """Name the constraint families that make ``model`` infeasible.

    Elastic relaxation: on a clone, every active constraint ``lo ≤ body ≤ hi`` of family ``F`` becomes
    ``lo ≤ body + p - n ≤ hi`` with ``p, n ≥ 0``; the objective is replaced by ``min Σ (p + n)`` and
    integrality is kept. Families whose slacks are positive at the optimum are returned with their total
    violation (largest first). An empty dict means the model is feasible.
    """
    m = model.clone()
    for obj in m.component_objects(pyo.Objective, active=True):
        obj.deactivate()
    families = [c for c in m.component_objects(pyo.Constraint, active=True, descend_into=True)]
    m._elastic = pyo.Block()
    total = 0
    fam_terms: dict[str, list] = {}
    for fam in families:
        terms = []
        for idx, con in list(fam.items()):
            if not con.active:
                continue
            p = pyo.Var(domain=pyo.NonNegativeReals)
            n = pyo.Var(domain=pyo.NonNegativeReals)
            name = f"s{len(m._elastic.component_map(pyo.Var))}"
            m._elastic.add_component(name + "p", p)
            m._elastic.add_component(name + "n", n)
            lo, body, hi = con.lower, con.body, con.upper
            con.deactivate()
            cname = name + "c"
            if lo is not None and hi is not None and lo is hi:
                m._elastic.add_component(cname, pyo.Constraint(expr=body + p - n == lo))
            else:
                m._elastic.add_component(cname, pyo.Constraint(expr=pyo.inequality(lo, body + p - n, hi)))
            terms.append((p, n))
            total += p + n
        fam_terms[fam.name] = terms
    m._elastic_obj = pyo.Objective(expr=total, sense=pyo.minimize)
    r = solve(m, options or SolveOptions(time_limit_s=30))
    if not r.status.has_solution:
        raise SolverError(f"could not diagnose {model.name}: elastic relaxation ended {r.status.value}")
    out = {}
    for fam, terms in fam_terms.items():
        v = sum(pyo.value(p) + pyo.value(n) for p, n in terms)
        if v > tol:
            out[fam] = v
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def solve_or_explain(model: pyo.ConcreteModel, options: SolveOptions | None = None) -> SolveResult:
    """:func:`solve`, and on infeasibility raise :class:`InfeasibleModelError` naming the families."""
    r = solve(model, options)
    if r.status == SolveStatus.INFEASIBLE:
        raise InfeasibleModelError(model.name, diagnose_infeasibility(model, options))
    return r
