"""Tidy output tables (sim_kpis, sim_stations) and the plain-text summary of a simulation result."""
from __future__ import annotations

import pandas as pd

from model.simulation.kpis import STATION_KPIS

SYSTEM_KPIS = ("throughput_per_hour", "cycle_time_min", "cycle_time_p95_min", "on_time_rate", "wip",
               "backlog_overnight", "stockouts_hit", "backlog_slope_per_hour", "orders")


def kpi_table(summary: dict, case: str = "base") -> pd.DataFrame:
    """One row per system KPI: case, kpi, value, ci95_lo, ci95_hi."""
    rows = [{"case": case, "kpi": k, "value": summary[k], "ci95_lo": summary["ci95"][k][0],
             "ci95_hi": summary["ci95"][k][1]} for k in SYSTEM_KPIS]
    rows.append({"case": case, "kpi": "unstable_share", "value": summary["unstable_share"],
                 "ci95_lo": None, "ci95_hi": None})
    return pd.DataFrame(rows)


def station_table(summary: dict, case: str = "base") -> pd.DataFrame:
    """One row per station: the station KPIs with their CIs and the active-period statistics."""
    per = summary["bottleneck_views"]["per_station"]
    rows = []
    for name, st in summary["stations"].items():
        row = {"case": case, "station": name, **{k: st[k] for k in STATION_KPIS}}
        row.update({f"{k}_ci95_lo": st["ci95"][k][0] for k in STATION_KPIS})
        row.update({f"{k}_ci95_hi": st["ci95"][k][1] for k in STATION_KPIS})
        row.update(per[name])
        row["is_bottleneck"] = name == summary["bottleneck"]
        rows.append(row)
    return pd.DataFrame(rows)


def hourly_table(summary: dict, case: str = "base") -> pd.DataFrame:
    """The momentary bottleneck (active-period method) most often in each hour of the day."""
    hours = summary["bottleneck_views"]["momentary_by_hour_of_day"]
    return pd.DataFrame({"case": case, "hour": range(24), "momentary_bottleneck": hours})


def _f(x, fmt=".2f") -> str:
    return "—" if x is None else format(x, fmt)


def text(summary: dict) -> str:
    """Human-readable summary: stations, order KPIs, bottleneck views, sweep and ladder when present."""
    lines = [f"{'station':<14}{'util':>7}{'wait min':>10}{'queue':>8}{'jobs/h':>9}"]
    for name, s in summary["stations"].items():
        lines.append(f"{name:<14}{_f(s['utilization'], '.3f'):>7}{_f(s['mean_wait_min']):>10}"
                     f"{_f(s['mean_queue_len']):>8}{_f(s['throughput_per_hour'], '.1f'):>9}")
    v = summary["bottleneck_views"]
    lines += [
        f"orders/h {_f(summary['throughput_per_hour'], '.1f')}  cycle {_f(summary['cycle_time_min'], '.1f')} min "
        f"(p95 {_f(summary['cycle_time_p95_min'], '.1f')})  on time {_f(summary['on_time_rate'], '.1%')}  "
        f"WIP {_f(summary['wip'], '.1f')}  stock-outs hit {_f(summary['stockouts_hit'], '.1f')}",
        f"bottleneck: {summary['bottleneck']}  (active period {v['active_period']}, utilization "
        f"{v['utilization']}, waiting {v['waiting']}, queue {v['queue']})",
        f"λ_max {summary['lambda_max_per_hour']:.1f} orders/h at {summary['lambda_max_resource']}  ·  "
        f"{summary['replications']} replications, {summary['events']:,} events, "
        f"{_f(summary['events_per_second'], ',.0f')} events/CPU-s"]
    if "sweep" in summary:
        c = summary["sweep"]["cliff"]
        lines.append("cliff: " + (f"×{c['level']:g} ({c['rate_per_hour']:.1f} orders/h, {c['reason']}), "
                                  f"bottleneck {c['bottleneck']}" if c else "none in the swept range"))
    for r in summary.get("ladder", []):
        lines.append(f"ladder {r['step']}: relieve {r['relieved']} (+{r['servers_added']}, cost "
                     f"{r['step_cost']:,.0f}) → λ_max {r['lambda_max_per_hour']:.1f}/h at "
                     f"{r['lambda_max_resource']}, next bottleneck {r['bottleneck_at_cliff']}")
    return "\n".join(lines)
