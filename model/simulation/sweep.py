"""Growth sweep, scaling cliff and bottleneck ladder.

Demand level k multiplies every hourly arrival rate by f_k. The analytic bound λ_max (orders/hour, see
``network.capacity_bound``) gives the multiplier f* = λ_max / λ̄ (λ̄ the base mean rate) at which the
first resource saturates; the sweep places its levels around f* instead of brute force: a user grid
is simulated up to the first level above ``BEYOND`` × f* (higher levels are unstable by the bound and
are reported as such without simulating); the default grid is f* × ``DEFAULT_SHARES``.

The *scaling cliff* is the first level whose on-time rate falls below the SLA target or whose backlog
grows without bound (in at least half of the replications). The *ladder* relieves the bottleneck at
the cliff by its next capacity increment (a tie relieves every tied station), re-sweeps around the new
bound, and repeats K times: the capacity, cost and the next bottleneck of each structural level.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from model.simulation import bottleneck
from model.simulation.network import Network, capacity_bound, scaled, with_extra_servers
from model.simulation.replicate import RunSpec, experiment, throughputs

BEYOND = 1.1
DEFAULT_SHARES = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1)
LADDER_SHARES = (0.8, 0.9, 0.95, 1.0, 1.05)


def parse_sweep(text: str) -> list[float]:
    """'START:STOP:STEP' → [START, START+STEP, …, STOP] (inclusive), e.g. '1.0:3.0:0.25' → 9 levels."""
    try:
        start, stop, step = (float(x) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"--sweep must be START:STOP:STEP with numbers, e.g. 1.0:3.0:0.25; got {text!r}") from None
    if start <= 0 or step <= 0 or stop < start:
        raise ValueError(f"--sweep needs 0 < START ≤ STOP and STEP > 0; got {text!r}")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + k * step, 10) for k in range(n)]


def default_levels(net: Network, shares=DEFAULT_SHARES) -> list[float]:
    f_star = capacity_bound(net)[0] / net.mean_rate
    return [round(f_star * s, 4) for s in shares]


def _fails(row: dict, target: float) -> str | None:
    if row["unstable_share"] >= 0.5:
        return "backlog grows without bound"
    if row["on_time_rate"] is None or row["on_time_rate"] < target:
        return f"on-time rate below the SLA target {target:.0%}"
    return None


def growth_sweep(net: Network, levels: list[float], spec: RunSpec) -> tuple[pd.DataFrame, dict]:
    """Simulate each level (see module docstring); returns one row per level and the cliff."""
    lam_max, resource = capacity_bound(net)
    f_star = lam_max / net.mean_rate
    rows, cliff = [], None
    for f in sorted(levels):
        if any(r["simulated"] and r["level"] > BEYOND * f_star for r in rows):
            rows.append(_unsimulated_row(net, f, resource))
            continue
        s = experiment(scaled(net, f), replace(spec, scale=1.0), decide_ties=False)
        row = _row(net, f, s)
        row["fails"] = _fails(row, net.on_time_target)
        rows.append(row)
        if cliff is None and row["fails"]:
            cliff = {"level": f, "rate_per_hour": row["rate_per_hour"], "reason": row["fails"],
                     "bottleneck": _decided(scaled(net, f), s, spec)}
    info = {"lambda_max_per_hour": lam_max, "lambda_max_resource": resource, "lambda_max_level": f_star,
            "cliff": cliff}
    return pd.DataFrame(rows), info


def _row(net: Network, f: float, s: dict) -> dict:
    util = {n: v["utilization"] for n, v in s["stations"].items() if v["utilization"] is not None}
    return {"level": f, "rate_per_hour": net.mean_rate * f, "simulated": True,
            "on_time_rate": s["on_time_rate"], "on_time_lo": s["ci95"]["on_time_rate"][0],
            "on_time_hi": s["ci95"]["on_time_rate"][1], "cycle_time_min": s["cycle_time_min"],
            "cycle_time_p95_min": s["cycle_time_p95_min"], "throughput_per_hour": s["throughput_per_hour"],
            "backlog_overnight": s["backlog_overnight"], "backlog_slope_per_hour": s["backlog_slope_per_hour"],
            "unstable_share": s["unstable_share"], "max_utilization": max(util.values(), default=None),
            "bottleneck": s["bottleneck"], "events": s["events"], "sim_cpu_s": s["sim_cpu_s"]}


def _unsimulated_row(net: Network, f: float, resource: str) -> dict:
    return {"level": f, "rate_per_hour": net.mean_rate * f, "simulated": False, "unstable_share": 1.0,
            "bottleneck": resource, "fails": f"above {BEYOND:g} × λ_max: unstable by the capacity bound"}


def _decided(net: Network, s: dict, spec: RunSpec) -> str:
    """The bottleneck at the cliff, with the +1-capacity test when several stations are saturated."""
    sat = s["bottleneck_views"]["saturated"]
    if len(sat) < 2:
        return s["bottleneck"]
    test = bottleneck.plus_one_test(net, sat, lambda n: throughputs(n, spec))
    return test["winner"] or "tie: " + " = ".join(test["tie"])


def bottleneck_ladder(net: Network, steps: int, spec: RunSpec,
                      levels: list[float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """K rungs: relieve the cliff's bottleneck by its next increment, re-sweep around the new bound.

    Step 0 sweeps ``levels`` (default: around λ_max). Returns (one row per rung, every sweep's rows with
    their ``step``, the step-0 sweep's λ_max and cliff)."""
    rows, sweeps, cost = [], [], 0.0
    table, info = growth_sweep(net, levels or default_levels(net), spec)
    first = info
    sweeps.append(table.assign(step=0))
    rows.append(_rung(0, None, 0, 0.0, cost, info))
    for k in range(1, steps + 1):
        cliff = info["cliff"]
        if cliff is None:
            break
        names = _stations_of(cliff["bottleneck"])
        added, step_cost = 0, 0.0
        for name in names:
            servers, c = net.stations[net.index(name)].increments[0]
            net = with_extra_servers(net, name, servers)
            added, step_cost = added + servers, step_cost + c
        cost += step_cost
        table, info = growth_sweep(net, default_levels(net, LADDER_SHARES), spec)
        sweeps.append(table.assign(step=k))
        rows.append(_rung(k, " + ".join(names), added, step_cost, cost, info))
    return pd.DataFrame(rows), pd.concat(sweeps, ignore_index=True), first


def _stations_of(verdict: str) -> list[str]:
    """'tie: a = b' → ['a', 'b']; 'undecided: …' likewise; a plain name → [name]."""
    if ":" in verdict:
        return [s.strip() for s in verdict.split(":", 1)[1].split("=")]
    return [verdict]


def _rung(step: int, relieved, added: int, step_cost: float, cost: float, info: dict) -> dict:
    cliff = info["cliff"] or {}
    return {"step": step, "relieved": relieved, "servers_added": added, "step_cost": step_cost,
            "cumulative_cost": cost, "lambda_max_per_hour": info["lambda_max_per_hour"],
            "lambda_max_resource": info["lambda_max_resource"], "cliff_level": cliff.get("level", np.nan),
            "cliff_rate_per_hour": cliff.get("rate_per_hour", np.nan),
            "bottleneck_at_cliff": cliff.get("bottleneck")}
