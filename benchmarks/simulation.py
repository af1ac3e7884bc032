"""Simulation speed against raw SimPy, measured in the same process.

    python benchmarks/simulation.py [--year] [--sweep-workers W] [--json]

1. reference: a bare SimPy M/M/c loop (one process per customer, ``Resource`` request/timeout/release),
   events per CPU-second (events = SimPy's count of scheduled events);
2. the model on the same M/M/c case and on the demo warehouse (scenarios/sim_warehouse.yaml: waves,
   rework, roster calendars, stock, carrier) with its event log — events/CPU-s and the ratio to (1);
3. CPU-seconds for one simulated peak week of the warehouse;
4. with ``--year``: one simulated year at 10,000 orders/day (warehouse capacity grown in proportion);
5. a growth sweep of 9 levels × 10 replications over a peak week: wall seconds with W processes and the
   CPU-seconds spent simulating (wall ≈ CPU / W on an otherwise idle machine).
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import simpy

import scenarios
from model.simulation.engine import simulate
from model.simulation.network import Network, capacity_bound, scaled, sized_like
from model.simulation.replicate import RunSpec
from model.simulation.sweep import default_levels, growth_sweep

REPO = Path(__file__).resolve().parents[1]
ORDERS_PER_DAY = 10_000


def raw_simpy_mmc(customers: int, servers: int = 4, mean_min: float = 4.0, rate_per_min: float = 0.8,
                  seed: int = 1) -> tuple[int, float]:
    """(events, CPU-s) of a bare M/M/c loop in SimPy; random numbers drawn up front, as the model does."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / rate_per_min, customers).tolist()
    services = rng.exponential(mean_min, customers).tolist()
    env = simpy.Environment()
    res = simpy.Resource(env, servers)

    def customer(s):
        with res.request() as req:
            yield req
            yield env.timeout(s)

    def source():
        for gap, s in zip(gaps, services):
            yield env.timeout(gap)
            env.process(customer(s))

    t0 = time.process_time()
    env.process(source())
    env.run()
    return next(env._eid), time.process_time() - t0


def model_rate(net: Network, hours: float, seed: int = 1) -> tuple[int, float]:
    """(events, CPU-s) of one model replication including its event log."""
    t0 = time.process_time()
    log = simulate(net, seed, 0, hours, 0.0)
    return log.events, time.process_time() - t0


def grown(net: Network, factor: float) -> Network:
    """Demand × factor with servers and truck loads sized to the same design utilization; unlimited stock
    (one week of receipts is declared)."""
    trucks = None if net.truck_capacity is None else math.ceil(net.truck_capacity * factor)
    return replace(sized_like(scaled(net, factor), net), initial_stock=1e15, truck_capacity=trucks)


def load(name: str) -> Network:
    from model.simulation.network import build_network
    return build_network(scenarios.load(REPO / "scenarios" / f"{name}.yaml").simulation)


def sweep(net: Network, workers: int) -> dict:
    """The 9-level × 10-replication peak-week sweep around λ_max: wall and simulation CPU seconds."""
    t0 = time.perf_counter()
    spec = RunSpec(seed=1, replications=10, horizon_hours=168, warmup_hours=24, workers=workers)
    table, info = growth_sweep(net, default_levels(net), spec)
    return {"sweep_wall_s": time.perf_counter() - t0, "sweep_sim_cpu_s": float(table["sim_cpu_s"].sum()),
            "sweep_levels": len(table), "sweep_workers": workers, "sweep_cliff": info["cliff"],
            "lambda_max": info["lambda_max_per_hour"], "lambda_max_resource": info["lambda_max_resource"]}


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", action="store_true", help="also simulate a year at 10,000 orders/day")
    ap.add_argument("--sweep-workers", type=int, default=1, help="processes for the sweep; 0 skips it")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {}
    ev, cpu = raw_simpy_mmc(200_000)
    raw = ev / cpu
    out["raw_simpy_events_per_cpu_s"] = raw
    ev, cpu = model_rate(load("sim_mmc"), 4000)
    out["model_mmc_events_per_cpu_s"], out["model_mmc_ratio"] = ev / cpu, ev / cpu / raw
    wh = load("sim_warehouse")
    ev, cpu = model_rate(wh, 168)
    out["warehouse_events_per_cpu_s"], out["warehouse_ratio"] = ev / cpu, ev / cpu / raw
    out["warehouse_peak_week_cpu_s"], out["warehouse_peak_week_events"] = cpu, ev
    if args.year:
        year = grown(wh, ORDERS_PER_DAY / 24 / wh.mean_rate)
        ev, cpu = model_rate(year, 365 * 24)
        out.update(year_events=ev, year_cpu_s=cpu, year_ratio=ev / cpu / raw,
                   year_lambda_max_per_hour=capacity_bound(year)[0])
    if args.sweep_workers > 0:
        out.update(sweep(wh, args.sweep_workers))
    print(json.dumps(out, indent=2, default=float) if args.json else
          "\n".join(f"{k:32s} {v:,.3f}" if isinstance(v, float) else f"{k:32s} {v}" for k, v in out.items()))
    return out


if __name__ == "__main__":
    main()
