"""How programs are solved: ``solve(model, options) -> SolveResult``; knows nothing of retail."""
from solvers.core import (InfeasibleModelError, SolveOptions, SolveResult, SolveStatus, SolverError,
                          diagnose_infeasibility, relative_gap, solve, solve_or_explain)

__all__ = ["InfeasibleModelError", "SolveOptions", "SolveResult", "SolveStatus", "SolverError",
           "diagnose_infeasibility", "relative_gap", "solve", "solve_or_explain"]
