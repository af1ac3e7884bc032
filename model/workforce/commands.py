"""``run.py plan --only workforce``: roster, coverage and headcount from the latest stored forecast."""
from __future__ import annotations

from pathlib import Path

from model.ssot.store import latest_output, open_store, recorded_run, write_output
from model.workforce.plan import workforce_plan
from scenarios.schema import Scenario


def plan_command(db: Path, scenario_path: Path | None = None) -> tuple[dict, str]:
    """Plan the workforce on the SSOT at ``db``; stores every table under a new run id."""
    import scenarios
    scn = scenarios.load(scenario_path) if scenario_path else Scenario()
    con = open_store(db, create=False)
    try:
        forecast = latest_output(con, "forecast", db, f"run.py forecast --db {db}")
        with recorded_run(con, "plan-workforce", scn.name, "plan", scn.seed) as (run_id, provenance):
            out = workforce_plan(con, scn.workforce, forecast)
            for name, df in out.tables.items():
                write_output(con, name, df, run_id, scn.name)
            provenance["workforce"] = out.solves
    finally:
        con.close()
    summary = {"run_id": run_id, "scenario": scn.name, **out.summary}
    return summary, render(summary)


def render(s: dict) -> str:
    saving = f"{s['saving_vs_rule']:.1%}" if s["saving_vs_rule"] is not None else "n/a"
    return "\n".join([
        f"workforce plan {s['run_id']}: site {s['site']}, {s['employees']} employees, roles {', '.join(s['roles'])}",
        f"  roster ({s['roster_weeks']} week(s) from {s['roster_week']}, {s['method']}): labour cost "
        f"{s['labour_cost']:,.0f}, objective {s['objective']:,.0f}, lower bound {s['lower_bound']:,.0f}, "
        f"gap {s['gap']:.1%}",
        f"  coverage: {s['required_hours']:,.0f} staff-hours required, {s['scheduled_hours']:,.0f} paid, "
        f"{s['shortfall_hours']:,.1f} short; labour-rule violations: {s['violations']}",
        f"  fixed-template rule roster at equal coverage: {s['rule_cost']:,.0f} -> saving {saving}",
        f"  headcount: {s['core_staff']} core, up to {s['peak_temps']} temps a month, "
        f"{s['flex_hours_year']:,.0f} flexible hours a year, cost {s['headcount_cost']:,.0f}",
    ])
