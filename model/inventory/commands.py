"""``run.py plan --only inventory``: the inventory plan from the latest stored forecast, written to the SSOT."""
from __future__ import annotations

from pathlib import Path

from model.inventory.planner import InventoryOutcome, inventory_plan
from model.ssot.store import (latest_output, open_store, read_output, recorded_run, table_exists,
                              write_output)
from scenarios.schema import Scenario


def plan_command(db: Path, scenario_path: Path | None = None) -> tuple[dict, str]:
    """Plan replenishment on the SSOT at ``db``; stores every plan table under a new run id."""
    import scenarios
    scn = scenarios.load(scenario_path) if scenario_path else Scenario()
    cfg = scn.inventory
    con = open_store(db, create=False)
    try:
        forecast = latest_output(con, "forecast", db, f"run.py forecast --db {db}")
        prices = read_output(con, "plan_prices") if table_exists(con, "plan_prices") else None
        with recorded_run(con, "plan-inventory", scn.name, "plan", scn.seed) as (run_id, provenance):
            out = inventory_plan(con, cfg, forecast, horizon=cfg.horizon_weeks or scn.horizon_weeks,
                                 workers=scn.engine.workers, seed=scn.seed, plan_prices=prices)
            for name, df in out.tables.items():
                write_output(con, name, df, run_id, scn.name)
            provenance["inventory"] = out.solves
    finally:
        con.close()
    summary = {"run_id": run_id, "scenario": scn.name, **out.summary}
    return summary, render(summary, out)


def render(summary: dict, out: InventoryOutcome) -> str:
    ev = summary["evaluation"]
    cash = out.tables["plan_cash"]
    return "\n".join([
        f"inventory plan {summary['run_id']}: {summary['skus']} SKUs x {summary['weeks']} weeks, "
        f"{summary['orders']} purchase orders",
        f"  program: {summary['status']}, cost {summary['objective']:,.0f}, bound {summary['bound']:,.0f}, "
        f"certified gap {summary['gap']:.2%}, {summary['iterations']} price rounds, {summary['wall_s']:.1f}s",
        f"  service ({summary['service_type']} target {summary['service_target']:.0%}): as planned fill rate "
        f"{ev['as_planned']['fill_rate']:.1%}, cycle service {ev['as_planned']['cycle_service']:.1%}",
        f"  at equal fill rate: plan stock value {ev['plan_tuned']['avg_stock_value']:,.0f} vs min/max "
        f"{ev['minmax_tuned']['avg_stock_value']:,.0f} -> cash released {summary['cash_released']:,.0f} "
        f"({ev['cash_released_share']:.1%})",
        f"  cash tied up: max {cash['cash_tied_up'].max():,.0f} per week (budget "
        f"{cash['budget'].max() if cash['budget'].notna().any() else 'none'}); stock value now "
        f"{summary['stock_value_now']:,.0f}",
        f"  actions: {summary['actions']}",
    ])
