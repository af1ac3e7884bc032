"""Derived tables every model reads, written once as Ibis expressions.

The same expression runs on the embedded DuckDB store (default) or on Spark (configuration
``engine: spark``; see :mod:`model.ssot.engine`). Each public function takes either a DuckDB
connection or an Ibis backend and returns a pandas DataFrame with a fixed column order and a
deterministic row order, so results can be compared across engines row by row.

Periods: ``freq`` is ``D`` (day), ``W`` (ISO week starting Monday) or ``M`` (calendar month);
``period_start`` is the first day of the period (DATE).
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator

import duckdb
import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

FREQS = {"D": "D", "W": "W", "M": "M"}
# the canonical tables the expressions below read (what another engine must see)
SOURCE_TABLES = ("sku", "supplier", "sales", "inventory", "competitor_prices", "purchase_orders", "receipts")
_PANDAS_FREQ = {"D": "D", "W": "W-MON", "M": "MS"}


_BACKEND: contextvars.ContextVar = contextvars.ContextVar("derived_backend", default=None)  # see use_backend


@contextlib.contextmanager
def use_backend(b: ibis.BaseBackend) -> Iterator[ibis.BaseBackend]:
    """Within the block, every derived table asked of a DuckDB connection runs on ``b`` (e.g. Spark): the
    stages keep handing over their store cursor and need no change. An Ibis backend passed explicitly
    still wins."""
    token = _BACKEND.set(b)
    try:
        yield b
    finally:
        _BACKEND.reset(token)


def backend(con) -> ibis.BaseBackend:
    """An Ibis backend for ``con`` (a DuckDB connection — inside :func:`use_backend` the backend set
    there — or already an Ibis backend)."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        chosen = _BACKEND.get()
        return chosen if chosen is not None else ibis.duckdb.from_connection(con)
    return con


def _check_freq(freq: str) -> str:
    if freq not in FREQS:
        raise ValueError(f"freq must be one of D, W, M; got {freq!r}")
    return freq


def _period(col: ir.Column, freq: str) -> ir.Column:
    return col.truncate(FREQS[freq]).cast("date") if freq != "D" else col.cast("date")


# ------------------------------------------------------------------------------------------ expressions
def sales_by_period_expr(b: ibis.BaseBackend, freq: str, level: str) -> ir.Table:
    """Σ units, Σ revenue, promo units per series × period.

    ``revenue = Σ units · unit_price`` (lines without a price add no revenue and no priced units);
    ``avg_price = revenue / priced units``; ``promo_share = promo units / units``.
    """
    s = b.table("sales")
    keys = {"sku_id": s.sku_id, "period_start": _period(s.ts, freq)}
    if level == "sku_location":
        keys["location_id"] = s.location_id
    priced = s.unit_price.notnull()
    return s.group_by(**keys).aggregate(
        units=s.units.sum(),
        revenue=(s.units * s.unit_price).sum().fill_null(0.0),
        priced_units=priced.ifelse(s.units, 0.0).sum(),
        promo_units=s.promo.fill_null(False).ifelse(s.units, 0.0).sum(),
    )


def stockout_days_expr(b: ibis.BaseBackend, freq: str, level: str) -> ir.Table:
    """Days with ``on_hand ≤ 0`` in the period, per series (``level="sku"``: the most affected location)."""
    inv = b.table("inventory")
    per_loc = inv.group_by(sku_id=inv.sku_id, location_id=inv.location_id,
                           period_start=_period(inv.snapshot_date, freq)).aggregate(
        stockout_days=(inv.on_hand <= 0).ifelse(1, 0).sum())
    if level == "sku_location":
        return per_loc
    return per_loc.group_by("sku_id", "period_start").aggregate(stockout_days=per_loc.stockout_days.max())


def competitor_price_expr(b: ibis.BaseBackend, freq: str) -> ir.Table:
    """Mean observed competitor price per SKU × period (all competitors)."""
    c = b.table("competitor_prices")
    return c.group_by(sku_id=c.sku_id, period_start=_period(c.date, freq)).aggregate(
        competitor_price=c.price.mean())


# ------------------------------------------------------------------------------------------ tables
def _periods(first: dt.date, last: dt.date, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=_PANDAS_FREQ[freq])


def demand_history(con, freq: str = "W", level: str = "sku") -> pd.DataFrame:
    """Demand history per series × period, zero-filled from a series' first sale to the last period.

    Columns: ``series_id, sku_id, location_id, period_start, units, revenue, avg_price, promo_share,
    stockout_days, censored, competitor_price``. ``censored`` marks periods where stock-outs cut sales
    (``stockout_days > 0`` and sales below the series' median): forecasters must treat their units as a
    lower bound on demand, not as low demand. ``avg_price`` and ``competitor_price`` are carried forward
    over periods without a sale / observation. ``level`` is ``sku`` (one series per SKU, all locations
    summed; ``series_id = sku_id``) or ``sku_location`` (``series_id = "<sku>@<location>"``).
    """
    _check_freq(freq)
    if level not in ("sku", "sku_location"):
        raise ValueError(f"level must be 'sku' or 'sku_location'; got {level!r}")
    b = backend(con)
    keys = ["sku_id", "location_id"] if level == "sku_location" else ["sku_id"]
    sales = sales_by_period_expr(b, freq, level).execute()
    cols = ["series_id", "sku_id", "location_id", "period_start", "units", "revenue", "avg_price",
            "promo_share", "stockout_days", "censored", "competitor_price"]
    if sales.empty:
        return pd.DataFrame(columns=cols)
    sales["period_start"] = pd.to_datetime(sales["period_start"])
    last = sales["period_start"].max()
    # zero-fill each series from its first period to the last period of the store
    first = sales.groupby(keys, sort=True)["period_start"].min().reset_index()
    all_periods = _periods(sales["period_start"].min(), last, freq)
    start = np.searchsorted(all_periods.values, first["period_start"].values)
    counts = len(all_periods) - start
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = pd.DataFrame({k: np.repeat(first[k].values, counts) for k in keys})
    grid["period_start"] = all_periods.values[np.repeat(start, counts) + offsets]
    full = grid.merge(sales, on=[*keys, "period_start"], how="left")
    for c in ("units", "revenue", "priced_units", "promo_units"):
        full[c] = full[c].fillna(0.0)
    so = stockout_days_expr(b, freq, level).execute()
    so["period_start"] = pd.to_datetime(so["period_start"])
    full = full.merge(so, on=[*keys, "period_start"], how="left")
    full["stockout_days"] = full["stockout_days"].fillna(0).astype("int64")
    cp = competitor_price_expr(b, freq).execute()
    cp["period_start"] = pd.to_datetime(cp["period_start"])
    full = full.merge(cp, on=["sku_id", "period_start"], how="left")
    full = full.sort_values([*keys, "period_start"], kind="stable").reset_index(drop=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        full["avg_price"] = np.where(full["priced_units"] > 0, full["revenue"] / full["priced_units"], np.nan)
        full["promo_share"] = np.where(full["units"] > 0, full["promo_units"] / full["units"], 0.0)
    grp = full.groupby(keys, sort=False)
    full["avg_price"] = grp["avg_price"].ffill()
    full["competitor_price"] = grp["competitor_price"].ffill()
    median = grp["units"].transform("median")
    full["censored"] = (full["stockout_days"] > 0) & (full["units"] < median)
    if level == "sku_location":
        full["series_id"] = full["sku_id"].astype(str) + "@" + full["location_id"].astype(str)
    else:
        full["series_id"] = full["sku_id"]
        full["location_id"] = None
    full["period_start"] = full["period_start"].dt.date
    return full[cols]


def price_history(con, freq: str = "W") -> pd.DataFrame:
    """Per SKU × period with sales: units, realised average price, list price, unit cost, promo share,
    competitor price (mean of competitors observed in the period, carried forward), category.

    Columns: ``sku_id, category, period_start, units, avg_price, list_price, unit_cost, promo_share,
    competitor_price``. Only periods with priced sales appear (a price is observed only when sold).
    """
    _check_freq(freq)
    b = backend(con)
    s = sales_by_period_expr(b, freq, "sku")
    s = s.filter(s.priced_units > 0)
    sku = b.table("sku").select("sku_id", "category", "list_price", "unit_cost")
    cp = competitor_price_expr(b, freq)
    e = s.left_join(sku, "sku_id").left_join(cp, ["sku_id", "period_start"])
    e = e.select(
        "sku_id", "category", "period_start", "units",
        avg_price=e.revenue / e.priced_units, list_price=e.list_price, unit_cost=e.unit_cost,
        promo_share=(e.units > 0).ifelse(e.promo_units / e.units, 0.0), competitor_price=e.competitor_price,
    ).order_by(["sku_id", "period_start"])
    df = e.execute()
    df["period_start"] = pd.to_datetime(df["period_start"]).dt.date
    df["competitor_price"] = df.groupby("sku_id", sort=False)["competitor_price"].ffill()
    return df.reset_index(drop=True)


def stock_positions(con, as_of: dt.date | str | None = None) -> pd.DataFrame:
    """Latest inventory snapshot per SKU × location on or before ``as_of`` (default: the latest).

    Columns: ``sku_id, location_id, snapshot_date, on_hand, on_order``.
    """
    b = backend(con)
    inv = b.table("inventory")
    if as_of is not None:
        inv = inv.filter(inv.snapshot_date <= ibis.literal(pd.Timestamp(as_of).date()))
    latest = inv.group_by("sku_id", "location_id").aggregate(snapshot_date=inv.snapshot_date.max())
    e = inv.inner_join(latest, ["sku_id", "location_id", "snapshot_date"])
    e = e.select("sku_id", "location_id", "snapshot_date", "on_hand",
                 on_order=e.on_order.fill_null(0.0)).order_by(["sku_id", "location_id"])
    df = e.execute()
    df["snapshot_date"] = pd.to_datetime(df["snapshot_date"]).dt.date
    return df.reset_index(drop=True)


def lead_time_stats(con) -> pd.DataFrame:
    """Lead time per SKU: measured from purchase orders to receipts where there are any, else master data.

    ``lead_time = received_date − ordered_date`` (days) of the first receipt of each PO line; mean and
    sample standard deviation over POs. Columns: ``sku_id, supplier_id, lead_time_mean_days,
    lead_time_sd_days, n_receipts, source`` (``receipts`` | ``master``).
    """
    b = backend(con)
    po, rc = b.table("purchase_orders"), b.table("receipts")
    first_rc = rc.group_by("po_id", "sku_id").aggregate(received_date=rc.received_date.min())
    j = po.inner_join(first_rc, ["po_id", "sku_id"])
    j = j.mutate(lt=(j.received_date.epoch_days() - j.ordered_date.epoch_days()).cast("float64"))
    meas = j.group_by("sku_id").aggregate(
        lt_mean=j.lt.mean(), lt_sd=j.lt.std(how="sample"), n_receipts=j.lt.count())
    m = sku_master_expr(b)
    e = m.left_join(meas, "sku_id")
    has = e.n_receipts.fill_null(0) >= 2
    e = e.select(
        "sku_id", "supplier_id",
        lead_time_mean_days=has.ifelse(e.lt_mean, e.lead_time_days),
        lead_time_sd_days=has.ifelse(e.lt_sd.fill_null(0.0), e.lead_time_sd_days),
        n_receipts=e.n_receipts.fill_null(0),
        source=has.ifelse("receipts", "master"),
    ).order_by("sku_id")
    return e.execute().reset_index(drop=True)


def sku_master_expr(b: ibis.BaseBackend) -> ir.Table:
    sku, sup = b.table("sku"), b.table("supplier")
    j = sku.left_join(sup.select("supplier_id", s_lt=sup.lead_time_days, s_sd=sup.lead_time_sd_days,
                                 min_order_value=sup.min_order_value), "supplier_id")
    return j.select(
        "sku_id", "name", "category", "subcategory", "price_family", "unit_cost", "list_price",
        case_pack=j.case_pack.fill_null(1), moq=j.moq.fill_null(0), supplier_id=j.supplier_id,
        lead_time_days=j.lead_time_days.fill_null(j.s_lt).fill_null(7.0),
        lead_time_sd_days=j.lead_time_sd_days.fill_null(j.s_sd).fill_null(0.0),
        volume_m3=j.volume_m3.fill_null(0.0), weight_kg=j.weight_kg.fill_null(0.0),
        launch_date=j.launch_date, eol_date=j.eol_date, min_order_value=j.min_order_value,
    )


def sku_master(con) -> pd.DataFrame:
    """The ``sku`` table with effective lead times (SKU value, else supplier value, else 7 days),
    case pack ≥ 1, MOQ ≥ 0 and logistics attributes with NULL → 0. Sorted by ``sku_id``."""
    df = sku_master_expr(backend(con)).order_by("sku_id").execute()
    for c in ("launch_date", "eol_date"):
        df[c] = pd.to_datetime(df[c]).dt.date
    return df.reset_index(drop=True)
