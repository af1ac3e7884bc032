"""The annual milestone plan: what must be in place, and by when, before each demand peak.

Rules (each a small function; all inputs are stage tables):

1. **Peaks** — weeks whose total forecast mean is at least ``(1 + peak_threshold) ×`` the reference week
   (the simulation's reference demand when published, else the median week); consecutive peak weeks form
   one peak with start, end and load factor ``L = max week / reference``.
2. **Capacity** — before a peak with load L (and, first, for the reference load L = 1 from the start of
   the horizon), take the bottleneck ladder's steps in order while the cliff before the step is ≤ L
   (without the step, the operation breaks there); each step is due once, ``lead_time_weeks`` before the
   first load that needs it (at its start when no lead time is published). If the ladder ends below L, the
   plan says so.
3. **Staff** — every month whose planned heads (core + temps) rise over the previous month: hire the
   difference ``hiring_lead_weeks`` before the month starts.
4. **Stock build-up** — orders arriving from ``build_weeks`` before a peak to its end: the first must be
   placed by its order week; their total cost, and the highest cash tied up in the window vs budget.
5. **Cash** — the first week over budget needs the extra budget secured by then.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from reports.fmt import money

COLUMNS = ("deadline", "quarter", "area", "milestone", "detail")
PEAK_THRESHOLD = 0.2  # a peak week has ≥ 1.2 × the reference week's demand


def quarter_label(ts: pd.Timestamp) -> str:
    ts = pd.Timestamp(ts)
    return f"Q{ts.quarter} {ts.year}"


def demand_peaks(total: pd.DataFrame, reference: float | None = None,
                 peak_threshold: float = PEAK_THRESHOLD) -> pd.DataFrame:
    """Peaks of weekly total demand ``total(period_start, mean)``: ``start, end, peak_week, load`` with
    ``load = max_t mean_t / reference`` over the peak's weeks (reference: the median week if None)."""
    df = total.sort_values("period_start", ignore_index=True)
    ref = float(reference) if reference else float(df["mean"].median())
    hot = (df["mean"] >= (1 + peak_threshold) * ref).to_numpy()
    run_id = np.cumsum(np.r_[True, hot[1:] != hot[:-1]])
    rows = []
    for _, g in df[hot].groupby(run_id[hot]):
        top = g.loc[g["mean"].idxmax()]
        rows.append({"start": g.period_start.min(), "end": g.period_start.max(), "peak_week": top.period_start,
                     "load": top["mean"] / ref})
    return pd.DataFrame(rows, columns=["start", "end", "peak_week", "load"])


def capacity_steps(peaks: pd.DataFrame, steps: pd.DataFrame, base_cliff: float, currency: str = "",
                   horizon_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Rule 2: ladder steps (``kpis.bottleneck_ladder``: step, resource, action, cost, cliff_after, optional
    lead_time_weeks; cliff_after NaN = no cliff left in the swept range) needed before each peak, each step
    once at its earliest due date. With ``horizon_start``, the reference load itself (1.0×, from the start of
    the horizon) is checked first: a cliff at or below it needs steps now."""
    loads = peaks.assign(name=["the peak of " + f"{d:%d %b}" for d in peaks.start])
    if horizon_start is not None:
        now = pd.DataFrame([{"start": pd.Timestamp(horizon_start), "load": 1.0, "name": "the reference load"}])
        loads = pd.concat([now, loads], ignore_index=True) if len(loads) else now
    rows, scheduled = [], set()
    ordered = steps.sort_values("step").to_dict("records")
    for p in loads.sort_values("start").itertuples():
        cliff = base_cliff
        for st in ordered:
            if cliff > p.load:
                break
            after = st["cliff_after"] if pd.notna(st["cliff_after"]) else np.inf
            if st["step"] not in scheduled:
                rows.append(_step_row(st, p, cliff, after, currency))
                scheduled.add(st["step"])
            cliff = after
        if cliff <= p.load:
            rows.append(_row(p.start, "capacity", f"ladder exhausted before {p.name}",
                             f"after every listed step the cliff ({cliff:.2f}×) is still below the load of "
                             f"{p.name} ({p.load:.2f}×): plan a structural change"))
    return _frame(rows)


def _step_row(st: dict, p, cliff: float, after: float, currency: str) -> dict:
    lead = st.get("lead_time_weeks")
    known = lead is not None and pd.notna(lead)
    lead_text = f"lead time {lead:g} weeks" if known else f"no lead time given: due by {p.name} at the latest"
    return _row(p.start - pd.Timedelta(weeks=float(lead) if known else 0.0), "capacity",
                f"{st['action']} ({st['resource']})",
                f"{p.name} needs {p.load:.2f}× load; cliff {cliff:.2f}× → {_cliff(after)} after this step; "
                f"cost {money(st['cost'], currency)}; {lead_text}")


def _cliff(level: float) -> str:
    return f"{level:.2f}×" if np.isfinite(level) else "beyond the swept range"


def staff_hires(headcount: pd.DataFrame, hiring_lead_weeks: float | None) -> pd.DataFrame:
    """Rule 3: one milestone per month whose heads (core + temps) rise over the previous month, due on the
    plan's own ``hire_by`` date when published, else ``hiring_lead_weeks`` before the month starts."""
    h = headcount.sort_values("month", ignore_index=True)
    rise = (h.core + h.temps).diff()
    if "hire_by" in h.columns:
        due, why = h.hire_by, "hire-by date of the headcount plan"
    elif hiring_lead_weeks is not None:
        due, why = h.month - pd.Timedelta(weeks=hiring_lead_weeks), f"hiring lead time {hiring_lead_weeks:g} weeks"
    else:
        raise ValueError("the headcount plan has no hire_by dates and no hiring lead time was given")
    rows = [_row(by, "staff", f"hire {int(d):,} people for {m:%b %Y}",
                 f"{int(c):,} core + {int(t):,} temps planned; {why}")
            for m, by, d, c, t in zip(h.month, due, rise, h.core, h.temps) if d > 0]
    return _frame(rows)


def stock_build(peaks: pd.DataFrame, orders: pd.DataFrame, cash: pd.DataFrame | None,
                build_weeks: int = 4, currency: str = "") -> pd.DataFrame:
    """Rule 4: the build-up orders of each peak (see module docstring)."""
    rows = []
    for p in peaks.itertuples():
        window = (orders.arrival_week >= p.start - pd.Timedelta(weeks=build_weeks)) & (orders.arrival_week <= p.end)
        o = orders[window]
        if o.empty:
            continue
        detail = f"{len(o):,} orders, {o.order_units.sum():,.0f} units, cost {money(o.cost.sum(), currency)}"
        if cash is not None:
            c = cash[(cash.week_start >= o.week_start.min()) & (cash.week_start <= p.end)]
            if not c.empty:
                top = c.loc[c.cash_tied_up.idxmax()]
                detail += (f"; cash tied up peaks at {money(top.cash_tied_up, currency)} in week of "
                           f"{top.week_start:%d %b} (budget {money(top.budget, currency)})")
        rows.append(_row(o.week_start.min(), "stock", f"start the stock build-up for the peak of {p.start:%d %b}",
                         detail))
    return _frame(rows)


def cash_gap(cash: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """Rule 5: the first week whose cash tied up exceeds the budget, and the largest excess."""
    over = cash[cash.cash_tied_up > cash.budget]
    if over.empty:
        return _frame([])
    excess = (over.cash_tied_up - over.budget).max()
    return _frame([_row(over.week_start.min(), "cash", f"secure {money(excess, currency)} extra budget",
                        f"{len(over)} weeks over budget from {over.week_start.min():%d %b %Y}")])


def milestone_plan(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All milestones sorted by deadline, with their quarter."""
    parts = [p for p in parts if not p.empty]
    df = pd.concat(parts, ignore_index=True) if parts else _frame([])
    return df.sort_values(["deadline", "area"], ignore_index=True)


def _row(deadline: pd.Timestamp, area: str, milestone: str, detail: str) -> dict:
    deadline = pd.Timestamp(deadline).normalize()
    return {"deadline": deadline, "quarter": quarter_label(deadline), "area": area, "milestone": milestone,
            "detail": detail}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(COLUMNS))
