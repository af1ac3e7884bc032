"""Dynamic pricing: price-response estimation and the margin-protecting pricing program.

* :mod:`~model.pricing.response` — per-SKU own/cross-price elasticities and promotion lift (Poisson PML,
  HC3 errors) pooled toward the category (empirical Bayes); non-identifiable SKUs flagged.
* :mod:`~model.pricing.closed_form` — textbook optima (constant elasticity, linear demand).
* :mod:`~model.pricing.program` — the Pyomo + HiGHS pricing program and ``best_ladder_price``.
* :mod:`~model.pricing.decompose` / :mod:`~model.pricing.highs_direct` / :mod:`~model.pricing.trellis` —
  catalogue-scale solution (DP per price family, Lagrangian stock/markdown rows, exact HiGHS re-solves) with
  a certified gap.
* :mod:`~model.pricing.instance` — the arrays of one problem; flagged slow movers split into markdowns (the
  ladder can clear them by the target) and liquidation candidates.
* :mod:`~model.pricing.plan` — tidy plans, binding constraint per SKU-week, partition fan-out.
* :mod:`~model.pricing.inputs` / :mod:`~model.pricing.planner` — SSOT → estimates → plan → summary.
* :mod:`~model.pricing.commands` (``run.py plan --only pricing``), :mod:`~model.pricing.stage` (the study).
* :mod:`~model.pricing.evaluate` — demo ground truth and stallion figures; :mod:`~model.pricing.simulate`.
"""
from model.pricing.closed_form import optimal_price_constant_elasticity, optimal_price_linear
from model.pricing.program import best_ladder_price

__all__ = ["best_ladder_price", "optimal_price_constant_elasticity", "optimal_price_linear"]
