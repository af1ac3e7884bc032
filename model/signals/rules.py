"""Signal rules: set-based detection over the SSOT as of a data date.

Every rule reads only facts dated on or before ``as_of`` (so replaying history sees what the loop would
have seen that day) and returns :class:`Signal` records whose ``details`` carry what the targeted re-plan
needs. Rules are vectorised over all SKUs (DuckDB SQL + numpy), never a Python loop per SKU per day.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import norm

from model.signals.outbox import Signal
from model.ssot import derived
from scenarios.schema.signals import (BacklogRule, CompetitorPriceRule, DemandShiftRule, ReorderRule, SlowMoverRule,
                                      WorkloadRule)


def data_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest date with sales or inventory data (the loop's notion of "today")."""
    row = con.execute("SELECT greatest(coalesce((SELECT max(ts)::DATE FROM sales), DATE '1900-01-01'), "
                      "coalesce((SELECT max(snapshot_date) FROM inventory), DATE '1900-01-01'))").fetchone()
    d = row[0]
    return None if d is None or d.year == 1900 else d


def daily_sales(con: duckdb.DuckDBPyConnection, as_of: dt.date, days: int) -> pd.DataFrame:
    """Units per SKU × day over the ``days`` days ending at ``as_of`` (zero-filled), wide: SKUs × days."""
    start = as_of - dt.timedelta(days=days - 1)
    df = con.execute(
        "SELECT sku_id, ts::DATE AS d, sum(units) AS units FROM sales "
        "WHERE ts >= ? AND ts < ? + INTERVAL 1 DAY GROUP BY ALL", [start, as_of]).df()
    idx = pd.date_range(start, as_of, freq="D").date
    if df.empty:
        return pd.DataFrame(columns=idx, dtype=float)
    wide = df.pivot_table(index="sku_id", columns="d", values="units", aggfunc="sum", fill_value=0.0)
    return wide.reindex(columns=idx, fill_value=0.0).sort_index()


def reorder_signals(con, as_of: dt.date, rule: ReorderRule) -> list[Signal]:
    """Inventory position ``IP = Σ_loc (on_hand + on_order)`` below the reorder point

    ``r = μ_d·L + z·sqrt(L·σ_d² + μ_d²·σ_L²)`` (daily demand mean μ_d and sd σ_d over ``history_days``,
    lead time L ± σ_L days from receipts or master data, z = Φ⁻¹(service level)). The re-plan orders up
    to ``S = μ_d·(L+R) + z·sqrt((L+R)·σ_d² + μ_d²·σ_L²)`` with review period R.
    """
    pos = derived.stock_positions(con, as_of)
    if pos.empty:
        return []
    ip = pos.groupby("sku_id")[["on_hand", "on_order"]].sum()
    d = daily_sales(con, as_of, rule.history_days).reindex(ip.index, fill_value=0.0)
    mu, sd = d.mean(axis=1), d.std(axis=1, ddof=1).fillna(0.0)
    lt = derived.lead_time_stats(con).set_index("sku_id").reindex(ip.index)
    L = lt["lead_time_mean_days"].fillna(7.0)
    sL = lt["lead_time_sd_days"].fillna(0.0)
    z = norm.ppf(rule.service_level)
    rop = mu * L + z * np.sqrt(L * sd**2 + mu**2 * sL**2)
    R = rule.review_days
    S = mu * (L + R) + z * np.sqrt((L + R) * sd**2 + mu**2 * sL**2)
    pos_ip = ip["on_hand"] + ip["on_order"] + pending_orders(con, as_of, R).reindex(ip.index, fill_value=0.0)
    hit = (pos_ip < rop) & (mu > 0)
    out = []
    for sku in ip.index[hit.to_numpy()]:
        out.append(Signal("reorder", sku, as_of.isoformat(), float(rop[sku] - pos_ip[sku]), {
            "inventory_position": float(pos_ip[sku]), "reorder_point": float(rop[sku]),
            "order_up_to": float(S[sku]), "daily_demand": float(mu[sku]), "lead_time_days": float(L[sku])}))
    return out


def pending_orders(con, as_of: dt.date, days: int) -> pd.Series:
    """Units of purchase-order actions approved (or auto-approved) in the last ``days`` days: on order in
    effect, though not yet in the source system's purchase orders — so the loop does not re-order daily."""
    try:
        df = con.execute("SELECT subject AS sku_id, sum(quantity) AS q FROM actions WHERE action_type = "
                         "'purchase_order' AND status IN ('auto-approved', 'approved') AND as_of > ? - to_days(?) "
                         "AND as_of <= ? GROUP BY 1", [as_of, days, as_of]).df()
    except duckdb.Error:  # no outbox yet
        return pd.Series(dtype=float)
    return df.set_index("sku_id")["q"]


def cusum(z: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided tabular CUSUM over the last axis of standardised errors ``z``:
    ``S⁺_t = max(0, S⁺_{t−1} + z_t − k)``, ``S⁻_t = max(0, S⁻_{t−1} − z_t − k)``; returns the final S⁺, S⁻."""
    sp = np.zeros(z.shape[:-1])
    sm = np.zeros(z.shape[:-1])
    for t in range(z.shape[-1]):
        sp = np.maximum(0.0, sp + z[..., t] - k)
        sm = np.maximum(0.0, sm - z[..., t] - k)
    return sp, sm


def demand_shift_signals(con, as_of: dt.date, rule: DemandShiftRule) -> list[Signal]:
    """CUSUM of daily errors over the last ``window_days`` against the baseline: the mean and sd of the
    ``2·window_days`` days before (a forecast-free reference that works on any history). ``surge`` when
    S⁺ > h, ``drop`` when S⁻ > h."""
    w = rule.window_days
    d = daily_sales(con, as_of, 3 * w)
    if d.empty:
        return []
    base, recent = d.iloc[:, : 2 * w].to_numpy(), d.iloc[:, 2 * w:].to_numpy()
    mu, sd = base.mean(axis=1), base.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, np.sqrt(np.maximum(mu, 1e-9)))  # Poisson floor for flat baselines
    ok = mu >= rule.min_daily_units
    zs = (recent - mu[:, None]) / sd[:, None]
    sp, sm = cusum(zs, rule.k)
    out = []
    for i in np.flatnonzero(ok & ((sp > rule.h) | (sm > rule.h))):
        direction = "surge" if sp[i] >= sm[i] else "drop"
        year, week, _ = as_of.isocalendar()
        out.append(Signal("demand_shift", d.index[i], as_of.isoformat(), float(max(sp[i], sm[i])), {
            "direction": direction, "baseline_daily": float(mu[i]), "recent_daily": float(recent[i].mean()),
            "cusum_plus": float(sp[i]), "cusum_minus": float(sm[i])}, episode=f"{year}-W{week:02d}-{direction}"))
    return out


def competitor_price_signals(con, as_of: dt.date, rule: CompetitorPriceRule) -> list[Signal]:
    """A competitor's latest price (on or before ``as_of``, observed within the last 7 days) differs from
    its previous observation by more than ``threshold_pct``."""
    df = con.execute("""
        WITH c AS (SELECT sku_id, competitor, date, price,
                          row_number() OVER (PARTITION BY sku_id, competitor ORDER BY date DESC) AS rn
                   FROM competitor_prices WHERE date <= ?)
        SELECT a.sku_id, a.competitor, a.date, a.price AS new_price, b.price AS old_price
        FROM c a JOIN c b ON a.sku_id = b.sku_id AND a.competitor = b.competitor AND b.rn = 2
        WHERE a.rn = 1 AND a.date > ? - INTERVAL 7 DAY
          AND abs(a.price - b.price) > ? / 100.0 * b.price
        ORDER BY a.sku_id, a.competitor""", [as_of, as_of, rule.threshold_pct]).df()
    out = []
    for sku, g in df.groupby("sku_id", sort=True):
        chg = (g.new_price / g.old_price - 1.0) * 100
        i = int(np.argmax(np.abs(chg.to_numpy())))
        out.append(Signal("competitor_price", sku, as_of.isoformat(), float(chg.iloc[i]), {
            "competitor": g.competitor.iloc[i], "old_price": float(g.old_price.iloc[i]),
            "new_price": float(g.new_price.iloc[i]), "change_pct": float(chg.iloc[i])},
            episode=f"{g.competitor.iloc[i]}@{pd.Timestamp(g.date.iloc[i]).date().isoformat()}"))
    return out


def slow_mover_signals(con, as_of: dt.date, rule: SlowMoverRule) -> list[Signal]:
    """Stock on hand (> 0) and no sale for more than ``max_days_without_sale`` days."""
    df = con.execute("""
        WITH inv AS (SELECT sku_id, sum(on_hand) AS on_hand FROM (
                       SELECT sku_id, location_id, on_hand,
                              row_number() OVER (PARTITION BY sku_id, location_id ORDER BY snapshot_date DESC) rn
                       FROM inventory WHERE snapshot_date <= ?) WHERE rn = 1 GROUP BY sku_id),
             last AS (SELECT sku_id, max(ts)::DATE AS last_sale FROM sales WHERE ts < ? + INTERVAL 1 DAY
                      GROUP BY sku_id)
        SELECT inv.sku_id, inv.on_hand, last.last_sale, s.list_price, s.unit_cost
        FROM inv LEFT JOIN last USING (sku_id) JOIN sku s USING (sku_id)
        WHERE inv.on_hand > 0 AND (last.last_sale IS NULL OR last.last_sale < ? - to_days(?::INTEGER))
        ORDER BY inv.sku_id""", [as_of, as_of, as_of, rule.max_days_without_sale]).df()
    out = []
    for r in df.itertuples(index=False):
        days = None if pd.isna(r.last_sale) else (as_of - pd.Timestamp(r.last_sale).date()).days
        out.append(Signal("slow_mover", r.sku_id, as_of.isoformat(), float(days or rule.max_days_without_sale), {
            "on_hand": float(r.on_hand), "days_without_sale": days, "list_price": r.list_price,
            "unit_cost": r.unit_cost}, episode=f"last-sale@{r.last_sale}"))
    return out


def _warehouse(con, location_id: str | None) -> str | None:
    if location_id:
        return location_id
    row = con.execute("SELECT location_id FROM location WHERE type = 'warehouse' ORDER BY 1 LIMIT 1").fetchone()
    return row[0] if row else None


def workload_signals(con, as_of: dt.date, rule: WorkloadRule, capacity_hours_by_dow: dict[int, float] | None
                     ) -> list[Signal]:
    """Forecast units of each of the next ``days_ahead`` days (same weekday's mean over the last 4 weeks,
    web + marketplace channels served by the warehouse) ÷ ``units_per_hour`` against the rostered staff-hours
    of that weekday (``capacity_hours_by_dow``; default Σ contract_max_hours / 5 of the warehouse staff)."""
    wh = _warehouse(con, rule.location_id)
    if wh is None:
        return []
    hist = con.execute("""
        SELECT ts::DATE AS d, sum(units) AS units FROM sales JOIN location l USING (location_id)
        WHERE l.type IN ('web', 'marketplace', 'warehouse') AND ts >= ? - INTERVAL 28 DAY
          AND ts < ? + INTERVAL 1 DAY GROUP BY ALL""", [as_of, as_of]).df()
    if hist.empty:
        return []
    hist["dow"] = pd.to_datetime(hist["d"]).dt.dayofweek
    by_dow = hist.groupby("dow")["units"].mean()
    if capacity_hours_by_dow is None:
        staff_h = con.execute("SELECT coalesce(sum(contract_max_hours), 0) FROM staff WHERE location_id = ?",
                              [wh]).fetchone()[0]
        capacity_hours_by_dow = {d: staff_h / 5.0 for d in range(7)}
    out = []
    for k in range(1, rule.days_ahead + 1):
        day = as_of + dt.timedelta(days=k)
        need = float(by_dow.get(day.weekday(), 0.0)) / rule.units_per_hour
        cap = float(capacity_hours_by_dow.get(day.weekday(), 0.0))
        if need > cap * (1 + rule.tolerance_pct / 100):
            out.append(Signal("workload", f"{wh}/{day.isoformat()}", as_of.isoformat(), need - cap, {
                "location_id": wh, "day": day.isoformat(), "required_hours": need, "capacity_hours": cap}))
    return out


def backlog_signals(con, as_of: dt.date, rule: BacklogRule) -> list[Signal]:
    """Orders created more than ``sla_hours`` before the end of ``as_of`` and not shipped by then."""
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    df = con.execute("""
        SELECT coalesce(location_id, '?') AS location_id, count(*) AS late FROM shipments
        WHERE created_at < ?::TIMESTAMP - to_microseconds((? * 3600e6)::BIGINT)
          AND created_at >= ?::TIMESTAMP - INTERVAL 30 DAY
          AND (shipped_at IS NULL OR shipped_at >= ?::TIMESTAMP)
        GROUP BY ALL ORDER BY 1""", [end, rule.sla_hours, end, end]).df()
    return [Signal("backlog", f"{r.location_id}/{as_of.isoformat()}", as_of.isoformat(), float(r.late), {
        "location_id": r.location_id, "late_orders": int(r.late),
        "extra_hours": float(r.late) * rule.minutes_per_order / 60.0})
            for r in df.itertuples(index=False) if r.late > rule.max_late_orders]
