"""Independent replications of one network: run, reduce each log to KPIs + activity, summarise with CIs.

Replication r of seed s uses ``SeedSequence([s, r])`` (see ``engine``), so results do not depend on
how replications are spread over processes. With ``workers > 1`` replications fan out over a
``ProcessPoolExecutor``; each worker returns small dicts, never the event log.
"""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from model.simulation import bottleneck, kpis
from model.simulation.engine import simulate
from model.simulation.network import Network, visits_per_order


@dataclass(frozen=True)
class RunSpec:
    """What to simulate: seed, replications, horizon and warm-up (hours), demand multiplier, processes."""
    seed: int
    replications: int
    horizon_hours: float
    warmup_hours: float
    scale: float = 1.0
    workers: int = 1


def one_replication(net: Network, spec: RunSpec, r: int) -> dict:
    """KPIs, active-period statistics, event count and CPU seconds of replication r."""
    t0 = time.process_time()
    log = simulate(net, spec.seed, r, spec.horizon_hours, spec.warmup_hours, spec.scale)
    cpu = time.process_time() - t0
    flow = (visits_per_order(net) > 0).tolist()
    return {"kpis": kpis.replication_kpis(log), "activity": bottleneck.activity(log, flow),
            "events": log.events, "sim_cpu_s": cpu}


def run_replications(net: Network, spec: RunSpec) -> list[dict]:
    """All replications of ``spec`` in replication order."""
    if spec.workers <= 1:
        return [one_replication(net, spec, r) for r in range(spec.replications)]
    with ProcessPoolExecutor(max_workers=spec.workers) as pool:
        return list(pool.map(one_replication, [net] * spec.replications, [spec] * spec.replications,
                             range(spec.replications)))


def experiment(net: Network, spec: RunSpec, decide_ties: bool = True) -> dict:
    """Replicate and summarise: KPI means with 95% CIs, bottleneck views, events and events per CPU-second.

    When two or more stations are saturated the +1-capacity test decides the bottleneck (or reports a tie;
    with ``decide_ties=False`` it reports the saturated stations as undecided); otherwise the average
    active-period bottleneck is the answer.
    """
    reps = run_replications(net, spec)
    summary = kpis.summarize([r["kpis"] for r in reps])
    names = [s.name for s in net.stations]
    v = bottleneck.views(names, summary, [r["activity"] for r in reps], (visits_per_order(net) > 0).tolist())
    if len(v["saturated"]) >= 2 and not decide_ties:
        summary["bottleneck"] = "undecided: " + " = ".join(v["saturated"])
    elif len(v["saturated"]) >= 2:
        v["plus_one"] = bottleneck.plus_one_test(net, v["saturated"], lambda n: throughputs(n, spec))
        summary["bottleneck"] = v["plus_one"]["winner"] or "tie: " + " = ".join(v["plus_one"]["tie"])
    elif v["active_period_tie"]:
        summary["bottleneck"] = "tie: " + " = ".join(v["active_period_tie"])
    else:
        summary["bottleneck"] = v["active_period"] or v["utilization"]
    events = sum(r["events"] for r in reps)
    cpu = sum(r["sim_cpu_s"] for r in reps)
    summary.update(bottleneck_views=v, replications=spec.replications, events=events,
                   events_per_second=events / cpu if cpu > 0 else None, sim_cpu_s=cpu)
    return summary


def throughputs(net: Network, spec: RunSpec) -> list[float]:
    """System throughput (orders/hour) of each replication: the +1-capacity test's yardstick."""
    return [r["kpis"]["throughput_per_hour"] for r in run_replications(net, spec)]
