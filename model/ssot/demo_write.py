"""Assemble the demo business's exports from the simulated blocks and write every file of ``OUT_DIR``.

Random stream ``[seed, 2]`` draws the orders, warehouse process, traffic and staff; ``[seed, 3]`` the
placement of dirty rows. Files that grow with SKUs × days (stock snapshots, ground-truth demand and
prices) are streamed block by block; large string columns are built in Arrow (``strings``, ``fmt_ts``),
never as Python objects per row.
"""
from __future__ import annotations

import ctypes
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from model.ssot import demo_demand as dd
from model.ssot import demo_orders as do
from model.ssot.demo_blocks import BlockOut, Business
from model.ssot.demo_catalog import draw_staff
from model.ssot.demo_export import FILES, LOCATION_TYPE_LABELS, MAPPINGS, Dirty, fmt_ts, inject, strings, \
    write_csv, write_jsonl_gz, write_parquet
from model.ssot.demo_truth import write_manifest, write_truth

try:
    _LIBC = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc (macOS, Windows): nothing to trim
    _LIBC = None

DIRTY_EVERY = 500_000  # one more dirty row of each type per this many clean rows
Built = tuple[pa.Table, list]  # a file's table and its dirty-row records


class _Stream:
    """Append tables to one Parquet file (schema from the first table)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.writer, self.rows = path, None, 0

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table.cast(self.writer.schema))
        self.rows += table.num_rows

    def close(self) -> int:
        if self.writer is not None:
            self.writer.close()
        return self.rows


def write_all(out: Path, biz: Business, blocks: Iterable[BlockOut], seed: int) -> tuple[dict, int]:
    """Write every export, mapping, the manifest and the ground truth; returns ({file: rows}, dirty rows).

    Files are written one after the other and each large intermediate is dropped as soon as its last
    file is out (peak memory at 50,000 SKUs)."""
    rng, drng = np.random.default_rng([seed, 2]), np.random.default_rng([seed, 3])
    acc, files, dirty = _stream_blocks(out, biz, blocks, drng)
    sales = pd.concat(acc.pop("sales"), ignore_index=True)
    orders, web_lines = _web_orders(rng, biz, sales)
    store_lines = _store_lines(biz, sales)
    del sales
    _release_memory()
    dc_volume = np.sum(acc["dc_volume"], axis=0)
    biz.locs.loc[biz.locs["location_id"] == "DC1", "storage_m3"] = float(np.ceil(dc_volume.max() / 0.95 / 10) * 10)

    def emit(name: str, built: Built) -> None:
        files[name] = _write(out / name, built[0])
        dirty.extend(built[1])
        _release_memory()

    emit("pos/sales.csv", _pos_sales(biz, store_lines, web_lines, orders, drng))
    del web_lines
    emit("logistics/shipments.jsonl.gz", _shipments(orders, biz, drng))
    emit("pos/traffic.csv", _traffic(rng, biz, store_lines, orders, drng))
    recent_orders_per_day = _recent_orders_per_day(orders)
    del store_lines, orders
    emit("inventory_db/purchase_orders.parquet", _purchase_orders(acc["orders"], biz, drng))
    emit("inventory_db/receipts.parquet", _receipts(acc["receipts"], biz, drng))
    emit("competitors/prices.csv", _competitors(acc["feed"], biz, drng))
    emit("pos/articles.csv", _articles(biz, drng))
    emit("pos/locations.csv", (_locations(biz.locs), []))
    emit("inventory_db/suppliers.parquet", (_suppliers(biz), []))
    emit("inventory_db/staff.parquet", (_staff(rng, biz, recent_orders_per_day), []))
    emit("calendar/holidays.csv", (_calendar(biz), []))
    write_truth(out, biz, acc, dc_volume, dirty, seed)
    write_manifest(out)
    return files, len(dirty)


def _write(path: Path, table: pa.Table) -> int:
    name = path.name
    if name.endswith(".csv"):
        rel = next(k for k in FILES if path.as_posix().endswith(k))
        return write_csv(table, path, MAPPINGS[FILES[rel]]["csv"]["delimiter"])
    if name.endswith(".parquet"):
        return write_parquet(table, path)
    return write_jsonl_gz(table, path)


def _n_dirty(rows: int) -> int:
    return 1 + rows // DIRTY_EVERY


def _dates(biz: Business, day: np.ndarray) -> np.ndarray:
    return np.datetime64(biz.axis.start, "D") + day.astype("timedelta64[D]")


def _stream_blocks(out: Path, biz: Business, blocks: Iterable[BlockOut], drng) -> tuple[dict, dict, list]:
    """Stream snapshots and ground truth to Parquet; collect everything else."""
    stock = _Stream(out / "inventory_db/stock_eod.parquet")
    truth = {"demand": _Stream(out / "ground_truth/demand.parquet"),
             "prices": _Stream(out / "ground_truth/prices.parquet")}
    acc = {k: [] for k in ("sales", "orders", "receipts", "feed", "dc_volume", "sku_extra")}
    dirty: list[dict] = []
    for b, blk in enumerate(blocks):
        table, bad = _stock(biz, blk.inventory, drng if b == 0 else None)
        stock.write(table)
        dirty += bad
        for name, s in truth.items():
            s.write(_truth_table(biz, getattr(blk, name)))
        for k in acc:
            acc[k].append(getattr(blk, k))
        _release_memory()
    files = {"inventory_db/stock_eod.parquet": stock.close()}
    for s in truth.values():
        s.close()
    return acc, files, dirty


def _release_memory() -> None:
    """Hand freed memory back to the OS between blocks: Arrow's pool, and glibc's heap (without
    ``malloc_trim`` fragmentation grows the resident size by ~100 MB per block at 50,000 SKUs)."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _truth_table(biz: Business, df: pd.DataFrame) -> pa.Table:
    cols = {"date": pa.array(_dates(biz, df["day"].to_numpy())),
            "sku_id": strings(biz.sku["sku_id"], df["sku"].to_numpy())}
    if "loc" in df:
        cols["location_id"] = strings(biz.locs["location_id"], df["loc"].to_numpy())
    rest = df.drop(columns=[c for c in ("day", "sku", "loc") if c in df])
    return pa.table({**cols, **{c: pa.array(rest[c].to_numpy()) for c in rest}})


def _stock(biz: Business, inv: pd.DataFrame, drng) -> Built:
    table = pa.table({"snap_dt": pa.array(_dates(biz, inv["day"].to_numpy())),
                      "item_id": strings(biz.sku["sku_id"], inv["sku"].to_numpy()),
                      "site_id": strings(biz.locs["location_id"], inv["loc"].to_numpy()),
                      "qty_oh": pa.array(inv["on_hand"].to_numpy(), pa.int32()),
                      "qty_oo": pa.array(inv["on_order"].to_numpy(), pa.int32())})
    if drng is None:
        return table, []
    n = _n_dirty(table.num_rows)
    before = biz.axis.start - dt.timedelta(days=1)
    specs = ([Dirty("location_id", "unknown_reference", "unknown location", {"site_id": f"DC9{k}"})
              for k in range(n)]
             + [Dirty("on_hand", "out_of_range", "negative on hand",
                      {"qty_oh": -3, "snap_dt": before - dt.timedelta(days=k)}) for k in range(n)])
    return inject(drng, table, "inventory_db/stock_eod.parquet", "inventory", specs)


# ----------------------------------------------------------------------------------------- orders
def _web_orders(rng, biz: Business, sales: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Web/marketplace sales → order lines and orders (numbered by creation time) with process timestamps.

    Lines: ``order`` (row in the orders frame), ``line_no``, ``sku``, ``channel``, ``units``, ``price``,
    ``promo``. Orders: ``order_no``, ``web`` (else marketplace), ``created_at``, ``lines``, ``units``,
    ``weight_kg``, ``customer``, process timestamps, carrier, freight."""
    types = np.array(biz.ch.types)
    web = sales[np.isin(types[sales["channel"].to_numpy()], ["web", "marketplace"])].reset_index(drop=True)
    group, qty = do.split_lines(rng, web["units"].to_numpy())
    ln = web.iloc[group].reset_index(drop=True).assign(units=qty)
    oid, line_no = do.group_orders(rng, ln["day"].to_numpy(), ln["channel"].to_numpy())
    first = np.unique(oid, return_index=True)[1]
    start = np.datetime64(biz.axis.start, "D")
    created = do.order_times(rng, ln["day"].to_numpy()[first], start)
    by_time = np.argsort(created, kind="stable")
    rank = np.empty_like(by_time)
    rank[by_time] = np.arange(by_time.size)
    ctype = types[ln["channel"].to_numpy()[first]]
    weight = biz.sku["weight_kg"].to_numpy()[ln["sku"].to_numpy()] * qty
    orders = pd.DataFrame({"order_no": rank + 1, "web": ctype == "web", "created_at": created, "channel_type": ctype,
                           "lines": np.bincount(oid), "units": np.bincount(oid, qty).astype(np.int64),
                           "weight_kg": np.bincount(oid, weight) + do.PACKAGING_KG})
    hol = set(biz.cal.loc[(biz.cal["event_type"] == "holiday") & (biz.cal["scope"] == "national"), "date"])
    orders = pd.concat([orders, do.warehouse_process(rng, orders, start, biz.axis.n_days, hol)], axis=1)
    orders["customer"] = rng.integers(0, max(100, len(orders) // 3), len(orders)) + 1
    lines = ln[["sku", "channel", "units", "price", "promo"]].assign(order=oid, line_no=line_no)
    return orders, lines


def _order_ids(web: np.ndarray, no: np.ndarray) -> pa.Array:
    """W######## (web shop) or M######## (marketplace) order numbers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(no), pa.string()), 8, "0")
    return pc.binary_join_element_wise(pa.array(np.where(web, "W", "M")), digits, "")


def _store_lines(biz: Business, s: pd.DataFrame) -> pd.DataFrame:
    """Store sales: one line per SKU × store × day on the day's Z-batch, booked at 20:00."""
    types = np.array(biz.ch.types)
    s = s[types[s["channel"].to_numpy()] == "store"].sort_values(["day", "channel", "sku"]).reset_index(drop=True)
    return s.assign(line_no=s.groupby(["day", "channel"]).cumcount().to_numpy() + 1)


def _pos_sales(biz: Business, store: pd.DataFrame, web: pd.DataFrame, orders: pd.DataFrame, drng) -> Built:
    """Sales lines in POS conventions, sorted by time: stores first within a minute, then orders."""
    T = biz.axis.n_days
    ch_ids = np.array(biz.ch.ids, dtype=object)
    batch = strings([f"{c}-{d}" for c in ch_ids for d in pd.Series(biz.axis.dates).dt.strftime("%Y%m%d")],
                    store["channel"].to_numpy().astype(np.int64) * T + store["day"].to_numpy())
    st_ts = _dates(biz, store["day"].to_numpy()).astype("datetime64[s]") + np.timedelta64(20 * 3600, "s")
    o = orders[["web", "order_no", "created_at", "customer"]].iloc[web["order"].to_numpy()]
    ts = np.concatenate([st_ts, o["created_at"].to_numpy().astype("datetime64[s]")])

    def both(col: str) -> np.ndarray:
        return np.concatenate([store[col].to_numpy(), web[col].to_numpy()])

    line_no = both("line_no")
    key = np.lexsort((line_no, np.r_[np.zeros(len(store)), o["order_no"]], ts))
    cust = pc.binary_join_element_wise("K", pc.cast(pa.array(o["customer"].to_numpy()), pa.string()), "")
    table = pa.table({
        "bon_nr": pa.concat_arrays([batch, _order_ids(o["web"].to_numpy(), o["order_no"].to_numpy())]),
        "pos": pa.array(line_no, pa.int32()),
        "zeit": fmt_ts(ts, "%d.%m.%Y %H:%M"),
        "artnr": strings(biz.sku["sku_id"], both("sku")),
        "filiale": strings(ch_ids, both("channel")),
        "menge": pa.array(both("units"), pa.int64()),
        "preis_cent": pa.array(np.round(both("price") * 100).astype(np.int64)),
        "aktion": strings(np.array(["N", "J"], dtype=object), both("promo").astype(int)),
        "kunde": pa.concat_arrays([pa.nulls(len(store), pa.string()), cust]),
    }).take(pa.array(key))
    n = _n_dirty(table.num_rows)
    ids = iter(f"DIRTY-{k:06d}" for k in range(1, 4 * n + 1))
    bad = [("sku_id", "unknown_reference", "unknown article", {"artnr": "A999999"}),
           ("ts", "bad_date", "31 February", {"zeit": "31.02.2025 12:00"}),
           ("units", "out_of_range", "absurd quantity", {"menge": 2_000_000}),
           ("unit_price", "out_of_range", "negative price", {"preis_cent": -199})]
    specs = [Dirty(f, r, d, {**v, "bon_nr": next(ids), "pos": 1}) for f, r, d, v in bad for _ in range(n)]
    return inject(drng, table, "pos/sales.csv", "sales", specs)


def _shipments(orders: pd.DataFrame, biz: Business, drng) -> Built:
    """One JSON record per order; timestamps after the export (end of history) are null."""
    by_no = np.argsort(orders["order_no"].to_numpy())

    def col(name: str) -> np.ndarray:
        return orders[name].to_numpy()[by_no]

    end = np.datetime64(biz.axis.dates[-1].date(), "s") + np.timedelta64(86399, "s")

    def iso(name: str) -> pa.Array:
        ts = col(name).astype("datetime64[s]")
        return fmt_ts(np.where(ts > end, np.datetime64("NaT"), ts), "%Y-%m-%dT%H:%M:%S")

    delivered = col("delivered_at").astype("datetime64[ms]")
    table = pa.table({
        "id": _order_ids(col("web"), col("order_no")),
        "channel": pa.array(col("channel_type"), pa.string()),
        "warehouse": pa.array(np.full(len(orders), "DC1", dtype=object), pa.string()),
        **{k: iso(f"{k}_at") for k in ("created", "picked", "packed", "shipped")},
        "delivered_ms": pa.array(delivered.astype(np.int64), pa.int64(), mask=delivered > end),
        "promised": fmt_ts(col("promised_at"), "%Y-%m-%dT%H:%M:%S"),
        "carrier": pa.array(col("carrier"), pa.string()),
        "n_lines": pa.array(col("lines"), pa.int64()), "n_units": pa.array(col("units"), pa.int64()),
        "weight_g": pa.array(np.round(col("weight_kg") * 1000).astype(np.int64)),
        "freight_eur": pa.array(col("freight_cost"))})
    n = _n_dirty(table.num_rows)
    specs = ([Dirty("created_at", "bad_date", "30 February",
                    {"id": f"W-DIRTY-{k}", "created": "2025-02-30T10:00:00"}) for k in range(n)]
             + [Dirty("weight_kg", "out_of_range", "negative weight",
                      {"id": f"W-DIRTY-{n + k}", "weight_g": -500}) for k in range(n)])
    return inject(drng, table, "logistics/shipments.jsonl.gz", "shipments", specs)


def _traffic(rng, biz: Business, store: pd.DataFrame, orders: pd.DataFrame, drng) -> Built:
    """Stores: receipts ≈ Poisson(units / 2.2) (≥ 1 on a day with sales), visitors = receipts /
    conversion (≈ 0.30); web: orders per day and sessions = orders / 0.025 (× noise)."""
    per = store.groupby(["day", "channel"])["units"].sum()
    bons = np.maximum(1, rng.poisson(per.to_numpy() / 2.2))
    visitors = np.round(bons / np.clip(rng.normal(0.30, 0.03, bons.size), 0.15, 0.5))
    web_day = (orders.loc[orders["web"], "created_at"].to_numpy().astype("datetime64[D]")
               - np.datetime64(biz.axis.start, "D")).astype(np.int64)
    wd = np.bincount(web_day, minlength=biz.axis.n_days)
    days = np.flatnonzero(wd)
    sessions = np.round(wd[days] / 0.025 * rng.lognormal(0, 0.05, days.size))
    df = pd.DataFrame({"day": np.r_[per.index.get_level_values(0), days],
                       "filiale": np.r_[np.array(biz.ch.ids, dtype=object)[per.index.get_level_values(1)],
                                        np.full(days.size, "WEB", dtype=object)],
                       "besucher": np.r_[visitors, sessions].astype(np.int64),
                       "bons": np.r_[bons, wd[days]].astype(np.int64)}).sort_values(["day", "filiale"])
    table = pa.table({"datum": fmt_ts(_dates(biz, df["day"].to_numpy()), "%d.%m.%Y"),
                      "filiale": pa.array(df["filiale"].to_numpy(), pa.string()),
                      "besucher": pa.array(df["besucher"].to_numpy()), "bons": pa.array(df["bons"].to_numpy())})
    before = (biz.axis.start - dt.timedelta(days=1)).strftime("%d.%m.%Y")
    specs = [Dirty("visitors", "out_of_range", "negative visitor count", {"besucher": -10, "datum": before})]
    return inject(drng, table, "pos/traffic.csv", "traffic", specs)


# ----------------------------------------------------------------------------------------- replenishment
def _po_columns(df: pd.DataFrame, biz: Business) -> dict[str, pa.Array]:
    """po_number (one PO per supplier × receiving location × order day: PO<yymmdd>-<supplier>-<location>),
    item, supplier and site codes."""
    item = strings(biz.sku["sku_id"], df["sku"].to_numpy())
    supplier = strings(biz.suppliers["supplier_id"], df["supplier"].to_numpy())
    site = strings(biz.locs["location_id"], df["loc"].to_numpy())
    day = fmt_ts(_dates(biz, df["t_order"].to_numpy()), "%y%m%d")
    po = pc.binary_join_element_wise(pc.binary_join_element_wise("PO", day, ""), supplier, site, "-")
    return {"po_number": po, "item_id": item, "supplier_code": supplier, "site_id": site}


def _purchase_orders(blocks: list[pd.DataFrame], biz: Business, drng) -> Built:
    po = pd.concat(blocks, ignore_index=True).sort_values(["t_order", "supplier", "loc", "sku"])
    table = pa.table({**_po_columns(po, biz),
                      "order_dt": pa.array(_dates(biz, po["t_order"].to_numpy())),
                      "eta_dt": pa.array(_dates(biz, po["t_expected"].to_numpy())),
                      "qty": pa.array(po["qty"].to_numpy(), pa.int64()),
                      "unit_cost": pa.array(po["unit_cost"].to_numpy())})
    specs = [Dirty("qty_ordered", "out_of_range", "negative order quantity",
                   {"po_number": "PO-DIRTY-1", "qty": -5})]
    return inject(drng, table, "inventory_db/purchase_orders.parquet", "purchase_orders", specs)


def _receipts(blocks: list[pd.DataFrame], biz: Business, drng) -> Built:
    rc = pd.concat(blocks, ignore_index=True).sort_values(["t_received", "supplier", "loc", "sku"])
    # receiving time of day: 07:00–15:00, a deterministic function of the row (no extra random draws)
    minutes = (rc["t_order"].to_numpy() * 37 + rc["t_received"].to_numpy() * 11) % 480 + 420
    ts = _dates(biz, rc["t_received"].to_numpy()).astype("datetime64[s]") + (minutes * 60).astype("timedelta64[s]")
    cols = _po_columns(rc, biz)
    table = pa.table({"po_number": cols["po_number"], "item_id": cols["item_id"], "recv_ts": pa.array(ts),
                      "qty_recv": pa.array(rc["qty"].to_numpy(), pa.int64())})
    specs = [Dirty("sku_id", "unknown_reference", "unknown item",
                   {"po_number": "PO-DIRTY-2", "item_id": "A999998"})]
    return inject(drng, table, "inventory_db/receipts.parquet", "receipts", specs)


def _competitors(blocks: list[pd.DataFrame], biz: Business, drng) -> Built:
    f = pd.concat(blocks, ignore_index=True).sort_values(["day", "competitor", "sku"])
    table = pa.table({"obs_date": fmt_ts(_dates(biz, f["day"].to_numpy()), "%Y-%m-%d"),
                      "our_sku": strings(biz.sku["sku_id"], f["sku"].to_numpy()),
                      "shop": strings([c[0] for c in dd.COMPETITORS], f["competitor"].to_numpy()),
                      "price_eur": pa.array(f["price"].to_numpy())})
    specs = [Dirty("sku_id", "unknown_reference", "unknown product", {"our_sku": "A999997"}),
             Dirty("price", "missing", "empty price", {"price_eur": np.nan, "shop": "comp_z"})]
    return inject(drng, table, "competitors/prices.csv", "competitor_prices", specs)


# ----------------------------------------------------------------------------------------- master data
def _articles(biz: Business, drng) -> Built:
    s, start = biz.sku, pd.Timestamp(biz.axis.start)
    before = start - pd.to_timedelta(30 + (np.arange(len(s)) * 7919) % 1500, unit="D")
    launch = np.where(s["launch_day"] >= 0, start + pd.to_timedelta(s["launch_day"].clip(lower=0), unit="D"), before)
    eol = start + pd.to_timedelta(s["eol_day"], unit="D")
    df = pd.DataFrame({
        "artnr": s["sku_id"], "bezeichnung": s["name"], "warengruppe": s["category"], "untergruppe": s["subcategory"],
        "preisfamilie": s["price_family"], "vk_cent": np.round(s["list_price"] * 100).astype(np.int64),
        "ek_cent": np.round(s["unit_cost"] * 100).astype(np.int64), "vpe": s["case_pack"], "mindestmenge": s["moq"],
        "lieferant": biz.suppliers["supplier_id"].to_numpy()[s["supplier_idx"]],
        "volumen_l": np.round(s["volume_m3"] * 1000, 3), "gewicht_g": np.round(s["weight_kg"] * 1000).astype(np.int64),
        "einfuehrung": pd.Series(launch).dt.strftime("%d.%m.%Y"),
        "auslauf": pd.Series(eol).dt.strftime("%d.%m.%Y").where(s["lifecycle"] == "eol")})
    specs = [Dirty("case_pack", "out_of_range", "case pack of zero", {"artnr": "A999996", "vpe": 0})]
    return inject(drng, pa.Table.from_pandas(df, preserve_index=False), "pos/articles.csv", "sku", specs)


def _locations(locs: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(pd.DataFrame({
        "filiale": locs["location_id"], "name": locs["name"], "typ": locs["type"].map(LOCATION_TYPE_LABELS),
        "region": locs["region"], "ort": locs["city"], "lager_m3": locs["storage_m3"],
        "flaeche_m2": locs["size_m2"]}), preserve_index=False)


def _suppliers(biz: Business) -> pa.Table:
    s = biz.suppliers
    return pa.Table.from_pandas(pd.DataFrame({
        "supplier_code": s["supplier_id"], "supplier_name": s["name"], "lt_mean_d": s["lead_time_days"],
        "lt_sd_d": s["lead_time_sd_days"], "min_order_val": s["min_order_value"]}), preserve_index=False)


def _recent_orders_per_day(orders: pd.DataFrame) -> float:
    """Orders per day over the last 8 weeks of history (sizes the DC's headcount)."""
    last = orders["created_at"] >= orders["created_at"].max() - np.timedelta64(56, "D")
    return last.sum() / 56.0


def _staff(rng, biz: Business, dc_orders_per_day: float) -> pa.Table:
    st = draw_staff(rng, biz.locs, dc_orders_per_day)
    return pa.Table.from_pandas(pd.DataFrame({
        "emp_no": st["employee_id"], "full_name": st["name"], "home_site": st["location_id"],
        "skills": st["skills"].str.replace("|", ",", regex=False), "min_h_week": st["contract_min_hours"],
        "max_h_week": st["contract_max_hours"], "rate_eur_h": st["hourly_cost"]}), preserve_index=False)


def _calendar(biz: Business) -> pa.Table:
    c = biz.cal
    return pa.Table.from_pandas(pd.DataFrame({
        "date": pd.to_datetime(c["date"]).dt.strftime("%Y-%m-%d"), "name": c["event"], "type": c["event_type"],
        "region": c["scope"]}), preserve_index=False)
