"""The reference a planner would build by hand: fixed 8-hour shifts staffed at each shift's peak.

Rule: three fixed shifts per day (06–14, 14–22, 22–06, each with the scenario's break in its middle
hour; the week is cyclic, so the last night shift covers the first morning); for every day d, fixed
shift f and role r, staff ``n[d,f,r] = max_{h ∈ f} ⌈req[r,d,h] / a_h⌉``
(a_h: share of hour h worked, < 1 in the break hour), so every hour is covered. Cost = Σ n · paid hours ·
mean hourly cost of the employees able to work r (currency). Every hour's requirement is met, so built
for the hours the optimized roster covers it costs what the rule would pay for the same coverage.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

FIXED_STARTS = (6, 14, 22)
FIXED_LENGTH_H = 8


@dataclass(frozen=True)
class RuleRoster:
    staffing: pd.DataFrame     # day, start_hour, role, staff
    cost: float                # currency
    paid_hours: float


def rule_roster_cost(requirements: pd.DataFrame, employees, break_minutes: int = 30) -> RuleRoster:
    """Staff the fixed shifts at their peak requirement; ``requirements``: role, day, hour, required."""
    days = int(requirements["day"].max()) + 1
    rows, paid_h = [], FIXED_LENGTH_H - break_minutes / 60
    for role, g in requirements.groupby("role"):
        need = np.zeros(24 * days)
        need[(24 * g["day"] + g["hour"]).to_numpy()] = g["required"].to_numpy()
        costs = [e.hourly_cost for e in employees if role in e.skills]
        if not costs:
            raise ValueError(f"rule roster: no employee has skill {role!r}")
        for d in range(days):
            for s in FIXED_STARTS:
                hours = [h % (24 * days) for h in range(24 * d + s, 24 * d + s + FIXED_LENGTH_H)]
                mid = hours[FIXED_LENGTH_H // 2]
                staff = max(math.ceil(need[h] / (1 - break_minutes / 60 if h == mid else 1.0) - 1e-9)
                            for h in hours)
                rows.append({"day": d, "start_hour": s, "role": role, "staff": staff,
                             "cost": staff * paid_h * float(np.mean(costs))})
    df = pd.DataFrame(rows)
    return RuleRoster(df, float(df["cost"].sum()), float(df["staff"].sum() * paid_h))
