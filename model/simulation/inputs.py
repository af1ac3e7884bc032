"""Turn SSOT history and earlier stages' plans into simulation inputs (for the study stage).

* orders per hour of the peak week:  λ̄ = O_hist · (U_peak / U_hist) / 168      [orders/hour]
  O_hist = shipments (orders) per week and U_hist = units sold per week over the last ``RECENT_WEEKS``
  weeks of history; U_peak = the forecast's largest weekly total (Σ over series of the mean). Without
  sales history U_hist is the forecast's mean week; without shipments the section's rate is kept.
* demand uncertainty: the peak week's quantile multipliers q_k = Σ_series q_k / Σ_series mean (summing
  quantiles treats the series as comonotone: a conservative, wide band).
* intraday profile: shipments created per hour of week over the recent weeks (168 weights, mean 1).
* order profile: mean lines per order; units per line = units / lines.
* staff: plan_coverage ``scheduled`` by (role, weekday, hour), averaged over the plan's weeks.
* inbound: plan_orders arriving in the peak week, as one receipt per weekday at 06:00.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.simulation.network import HOURS_PER_WEEK

RECENT_WEEKS = 13
MIN_ORDERS_FOR_PROFILE = 500
RECEIPT_HOUR = 6.0


def shipments_history(con) -> pd.DataFrame:
    """The SSOT's shipments over the last ``RECENT_WEEKS`` weeks of their history (empty if none)."""
    from model.ssot.store import table_exists
    if con is None or not table_exists(con, "shipments"):
        return pd.DataFrame()
    return con.execute(f"""
        SELECT * FROM shipments
        WHERE created_at > (SELECT max(created_at) FROM shipments) - INTERVAL {RECENT_WEEKS * 7} DAY""").df()


def sales_units_per_week(con) -> float | None:
    from model.ssot.store import table_exists
    if con is None or not table_exists(con, "sales"):
        return None
    units = con.execute(f"""
        SELECT sum(units) FROM sales
        WHERE ts > (SELECT max(ts) FROM sales) - INTERVAL {RECENT_WEEKS * 7} DAY""").fetchone()[0]
    return float(units) / RECENT_WEEKS if units else None


def peak_week(forecast: pd.DataFrame) -> dict:
    """Week of the largest total mean forecast, its units, the mean week and quantile multipliers."""
    qcols = sorted(c for c in forecast.columns if c.startswith("q0."))
    weekly = forecast.groupby("period_start")[["mean", *qcols]].sum()
    if weekly.empty or weekly["mean"].max() <= 0:
        raise ValueError("forecast has no positive weekly demand: cannot size the simulated peak week")
    peak = weekly["mean"].idxmax()
    row = weekly.loc[peak]
    quant = {float(c[1:]): float(row[c] / row["mean"]) for c in qcols if row[c] > 0}
    return {"week_start": pd.Timestamp(peak), "units": float(row["mean"]),
            "mean_week_units": float(weekly["mean"].mean()), "rate_quantiles": quant}


def hour_of_week_profile(created: pd.Series) -> list[float] | None:
    """Orders per hour-of-week slot (Monday 00:00 = slot 0), normalised to mean 1; None if too few orders."""
    if created.size < MIN_ORDERS_FOR_PROFILE:
        return None
    t = pd.to_datetime(created)
    slot = t.dt.dayofweek * 24 + t.dt.hour
    counts = np.bincount(slot, minlength=HOURS_PER_WEEK).astype(float) + 0.5   # no empty hour
    return (counts / counts.mean()).tolist()


def roster_from_coverage(coverage: pd.DataFrame) -> dict[str, list[int]]:
    """role → servers for each of the 168 hours of the week: mean ``scheduled`` over the plan's weeks."""
    need = {"role", "day", "hour", "scheduled"}
    if not need <= set(coverage.columns):
        raise ValueError(f"plan_coverage needs columns {sorted(need)}, has {sorted(coverage.columns)}")
    day = coverage["day"]
    weekday = pd.to_datetime(day).dt.dayofweek if not np.issubdtype(day.dtype, np.integer) else day % 7
    slot = weekday * 24 + coverage["hour"].astype(int)
    mean = coverage.assign(slot=slot).groupby(["role", "slot"])["scheduled"].mean()
    out = {}
    for role, s in mean.groupby(level=0):
        hours = np.zeros(HOURS_PER_WEEK)
        hours[s.index.get_level_values(1).to_numpy()] = s.to_numpy()
        out[str(role)] = np.rint(hours).astype(int).tolist()
    return out


def receipts_in_week(plan_orders: pd.DataFrame, week_start: pd.Timestamp) -> list[dict]:
    """Units of plan_orders arriving in the week of ``week_start``, as five weekday receipts at 06:00."""
    arrive = pd.to_datetime(plan_orders["arrival_week"])
    units = float(plan_orders.loc[(arrive >= week_start) & (arrive < week_start + pd.Timedelta(days=7)),
                                  "order_units"].sum())
    if units <= 0:
        return []
    return [{"at_hour": d * 24 + RECEIPT_HOUR, "units": units / 5} for d in range(5)]
