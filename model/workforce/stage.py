"""The workforce stage of the annual study: forecast → workload → roster, coverage, headcount."""
from __future__ import annotations

from model.stage import StageContext, StageResult, Timer
from model.workforce.plan import workforce_plan


def run(con, ctx: StageContext) -> StageResult:
    """Publishes ``plan_roster``, ``plan_coverage``, ``plan_headcount`` (docs/CONTRACTS.md) and
    ``workforce_requirements``; the summary carries the saving against the fixed-template rule roster."""
    with Timer() as t:
        out = workforce_plan(con, ctx.scenario.workforce, ctx.table("forecast", "forecast"), ctx.progress)
    return StageResult("workforce", out.tables, out.summary, out.solves, t.seconds)
