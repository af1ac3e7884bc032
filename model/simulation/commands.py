"""`python run.py simulate SCENARIO.yaml`: run a scenario's simulation section, optionally sweep and ladder.

Needs no SSOT. With ``db`` the shipments' timestamps fit the service laws that declare ``fit_from`` and
the results are written to the SSOT as ``sim_kpis``, ``sim_stations``, ``sim_sweep``, ``sim_ladder``.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

import scenarios
from model.simulation import tables
from model.simulation.network import Network, build_network, capacity_bound, fit_service_times
from model.simulation.replicate import RunSpec, experiment
from model.simulation.sweep import bottleneck_ladder, parse_sweep
from scenarios.schema.simulation import SimulationConfig


def load_simulation(scenario_path: str | Path) -> tuple[str, SimulationConfig]:
    scn = scenarios.load(scenario_path)
    if scn.simulation is None:
        raise ValueError(f"{scenario_path}: the scenario has no simulation: section")
    return scn.name, scn.simulation


def run_simulation(net: Network, sim: SimulationConfig, spec: RunSpec, levels: list[float] | None = None,
                   ladder: int = 0, sweep: bool = False,
                   sweep_replications: int | None = None) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Base experiment, then the growth sweep (when ``sweep``, ``levels`` or ``ladder``) and the ladder;
    JSON summary and tidy tables.

    Sweep and ladder runs use the section's ``sweep`` horizon and warm-up (a peak week by default) and
    ``sweep_replications`` (default ``sweep.replications``); ``levels`` default to the grid around λ_max."""
    t0 = time.perf_counter()
    summary = experiment(net, spec)
    lam, res = capacity_bound(net)
    summary.update(lambda_max_per_hour=lam if math.isfinite(lam) else None, lambda_max_resource=res)
    out = {"sim_kpis": tables.kpi_table(summary), "sim_stations": tables.station_table(summary),
           "sim_bottleneck_hours": tables.hourly_table(summary)}
    if sweep or levels or ladder > 0:
        sweep_spec = replace(spec, replications=sweep_replications or sim.sweep.replications,
                             horizon_hours=sim.sweep.horizon_hours, warmup_hours=sim.sweep.warmup_hours)
        rungs, sweeps, info = bottleneck_ladder(net, ladder, sweep_spec, levels)
        summary["sweep"] = {**info, "levels": sweeps[sweeps["step"] == 0].to_dict("records")}
        out["sim_sweep"] = sweeps
        if ladder > 0:
            summary["ladder"] = rungs.to_dict("records")
            out["sim_ladder"] = rungs
    summary["wall_s"] = time.perf_counter() - t0
    return summary, out


def simulate_command(scenario_path: str | Path, replications: int | None = None, seed: int | None = None,
                     sweep: str | None = None, ladder: int = 0, db: str | Path | None = None) -> tuple[dict, str]:
    """CLI entry: (JSON-able summary, text). ``replications``/``seed`` override the section's; ``sweep`` is
    START:STOP:STEP demand multipliers; ``ladder`` the rungs K. See the module docstring."""
    name, sim = load_simulation(scenario_path)
    fitted, con = None, None
    if db is not None:
        from model.ssot.store import open_store
        con = open_store(db)
        fitted = fit_service_times(con.execute("SELECT * FROM shipments").df())
    try:
        net = build_network(sim, fitted)
        spec = RunSpec(seed=sim.seed if seed is None else seed,
                       replications=sim.replications if replications is None else replications,
                       horizon_hours=sim.horizon_hours, warmup_hours=sim.warmup_hours, workers=sim.workers)
        if spec.replications < 2:
            raise ValueError(f"--replications must be ≥ 2 for confidence intervals, got {spec.replications}")
        levels = parse_sweep(sweep) if sweep else None
        summary, out = run_simulation(net, sim, spec, levels, ladder, sweep_replications=replications)
        if con is not None:
            _write(con, name, out)
    finally:
        if con is not None:
            con.close()
    return _json_safe(summary), tables.text(summary)


def _write(con, scenario: str, out: dict[str, pd.DataFrame]) -> None:
    from model.ssot.store import new_run_id, write_output
    run_id = new_run_id("sim")
    for table_name, df in out.items():
        write_output(con, table_name, df, run_id, scenario)


def _json_safe(x):
    """NaN/inf → None, numpy scalars → Python numbers (run.py prints with allow_nan=False)."""
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
