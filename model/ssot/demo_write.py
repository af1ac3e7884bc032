"""Assemble the demo business's exports from the simulated blocks and write every file of ``OUT_DIR``.

Random stream ``[seed, 2]`` draws the orders, warehouse process, traffic and staff; ``[seed, 3]`` the
placement of dirty rows. Files large enough to matter at 50,000 SKUs (stock snapshots, ground-truth
demand and prices) are streamed block by block.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from ruamel.yaml import YAML

from model.ssot import demo_orders as do
from model.ssot.demo_blocks import BlockOut, Business
from model.ssot.demo_catalog import CATEGORIES, ELASTICITY_HALF_WIDTH, ELASTICITY_SD, draw_staff
from model.ssot.demo_export import FILES, LOCATION_TYPE_LABELS, MAPPINGS, Dirty, inject, write_csv, \
    write_jsonl_gz, write_parquet

DIRTY_EVERY = 500_000  # one more dirty row of each type per this many clean rows


class _Stream:
    """Append frames to one Parquet file (schema from the first frame)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.writer, self.rows = path, None, 0

    def write(self, df: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table.cast(self.writer.schema))
        self.rows += len(df)

    def close(self) -> int:
        if self.writer is not None:
            self.writer.close()
        return self.rows


def write_all(out: Path, biz: Business, blocks: Iterable[BlockOut], seed: int) -> tuple[dict, int]:
    """Write every export, mapping, the manifest and the ground truth; returns ({file: rows}, dirty rows)."""
    rng, drng = np.random.default_rng([seed, 2]), np.random.default_rng([seed, 3])
    acc, files, dirty = _stream_blocks(out, biz, blocks, drng)
    dates = biz.axis.dates
    orders, lines = _web_orders(rng, biz, pd.concat(acc["sales"], ignore_index=True))
    sales = pd.concat([_store_lines(biz, acc["sales"]), lines], ignore_index=True)
    dc_volume = np.sum(acc["dc_volume"], axis=0)
    biz.locs.loc[biz.locs["location_id"] == "DC1", "storage_m3"] = float(np.ceil(dc_volume.max() / 0.95 / 10) * 10)
    writers = {
        "pos/sales.csv": lambda: _pos_sales(sales, biz, drng),
        "logistics/shipments.jsonl.gz": lambda: _shipments(orders, drng),
        "pos/traffic.csv": lambda: _traffic(rng, biz, sales, orders, drng),
        "inventory_db/purchase_orders.parquet": lambda: _purchase_orders(acc["orders"], biz, drng),
        "inventory_db/receipts.parquet": lambda: _receipts(acc["receipts"], biz, drng),
        "competitors/prices.csv": lambda: _competitors(acc["feed"], biz, drng),
        "pos/articles.csv": lambda: _articles(biz, drng),
        "pos/locations.csv": lambda: (write_csv(_locations(biz.locs), out / "pos/locations.csv", ";"), []),
        "inventory_db/suppliers.parquet": lambda: (write_parquet(_suppliers(biz), out / "inventory_db/suppliers.parquet"), []),
        "inventory_db/staff.parquet": lambda: (write_parquet(_staff(rng, biz, orders), out / "inventory_db/staff.parquet"), []),
        "calendar/holidays.csv": lambda: (write_csv(_calendar(biz), out / "calendar/holidays.csv", ","), []),
    }
    for name, write in writers.items():
        files[name], bad = write() if name not in _FRAMES else _write_frame(out, name, write())
        dirty += bad
    _write_truth(out, biz, acc, dc_volume, dirty, seed)
    _write_manifest(out)
    return files, len(dirty)


_FRAMES = {"pos/sales.csv", "logistics/shipments.jsonl.gz", "pos/traffic.csv",
           "inventory_db/purchase_orders.parquet", "inventory_db/receipts.parquet", "competitors/prices.csv",
           "pos/articles.csv"}


def _write_frame(out: Path, name: str, frame_and_dirty: tuple[pd.DataFrame, list]) -> tuple[int, list]:
    df, bad = frame_and_dirty
    path = out / name
    if name.endswith(".csv"):
        return write_csv(df, path, MAPPINGS[FILES[name]]["csv"]["delimiter"]), bad
    if name.endswith(".parquet"):
        return write_parquet(df, path), bad
    return write_jsonl_gz(df, path), bad


def _n_dirty(rows: int) -> int:
    return 1 + rows // DIRTY_EVERY


def _stream_blocks(out: Path, biz: Business, blocks: Iterable[BlockOut], drng) -> tuple[dict, dict, list]:
    """Stream snapshots and ground truth to Parquet; collect everything else."""
    streams = {"inventory_db/stock_eod.parquet": _Stream(out / "inventory_db/stock_eod.parquet"),
               "ground_truth/demand.parquet": _Stream(out / "ground_truth/demand.parquet"),
               "ground_truth/prices.parquet": _Stream(out / "ground_truth/prices.parquet")}
    acc = {k: [] for k in ("sales", "orders", "receipts", "feed", "dc_volume", "sku_extra")}
    dirty: list[dict] = []
    start = np.datetime64(biz.axis.start, "D")
    for b, blk in enumerate(blocks):
        stock, bad = _stock(blk.inventory, start, drng if b == 0 else None)
        dirty += bad
        streams["inventory_db/stock_eod.parquet"].write(stock)
        for name, df in (("ground_truth/demand.parquet", blk.demand), ("ground_truth/prices.parquet", blk.prices)):
            streams[name].write(df.assign(date=start + df.pop("day").to_numpy().astype("timedelta64[D]"))
                                .pipe(lambda x: x[["date"] + [c for c in x.columns if c != "date"]]))
        for k in acc:
            acc[k].append(getattr(blk, k))
    files = {name: s.close() for name, s in streams.items() if not name.startswith("ground_truth")}
    for name, s in streams.items():
        if name.startswith("ground_truth"):
            s.close()
    return acc, files, dirty


def _stock(inv: pd.DataFrame, start: np.datetime64, drng) -> tuple[pd.DataFrame, list]:
    df = pd.DataFrame({"snap_dt": start + inv["day"].to_numpy().astype("timedelta64[D]"),
                       "item_id": inv["sku_id"], "site_id": inv["location_id"],
                       "qty_oh": inv["on_hand"].astype(np.int32), "qty_oo": inv["on_order"].astype(np.int32)})
    if drng is None:
        return df, []
    n = _n_dirty(len(df))
    before = start - np.timedelta64(1, "D")
    specs = ([Dirty("location_id", "unknown_reference", "unknown location", {"site_id": f"DC9{k}"})
              for k in range(n)]
             + [Dirty("on_hand", "out_of_range", "negative on hand",
                      {"qty_oh": -3, "snap_dt": before - np.timedelta64(k, "D")}) for k in range(n)])
    return inject(drng, df, "inventory_db/stock_eod.parquet", "inventory", specs)


# ----------------------------------------------------------------------------------------- orders
def _web_orders(rng, biz: Business, sales: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Web/marketplace sales → order lines (canonical sales frame) and orders with process timestamps."""
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
    prefix = np.where(ctype == "web", "W", "M")
    order_id = pd.Series(prefix).str.cat(pd.Series(rank + 1).astype(str).str.zfill(8)).to_numpy()
    weight = biz.sku["weight_kg"].to_numpy()[ln["sku"].to_numpy()] * qty
    orders = pd.DataFrame({"order_id": order_id, "created_at": created, "channel_type": ctype,
                           "lines": np.bincount(oid), "units": np.bincount(oid, qty).astype(int),
                           "weight_kg": np.bincount(oid, weight) + do.PACKAGING_KG})
    hol = set(biz.cal.loc[(biz.cal["event_type"] == "holiday") & (biz.cal["scope"] == "national"), "date"])
    orders = pd.concat([orders, do.warehouse_process(rng, orders, start, biz.axis.n_days, hol)], axis=1)
    n_cust = max(100, len(orders) // 3)
    cust = np.char.add("K", (rng.integers(0, n_cust, len(orders)) + 1).astype(str).astype(object).astype(str))
    lines = pd.DataFrame({"order_id": order_id[oid], "line_no": line_no, "ts": created[oid],
                          "sku": ln["sku"], "location_id": np.array(biz.ch.ids)[ln["channel"]],
                          "units": qty, "price": ln["price"], "promo": ln["promo"], "customer_id": cust[oid]})
    return orders.iloc[by_time].reset_index(drop=True), lines


def _store_lines(biz: Business, sales_blocks: list[pd.DataFrame]) -> pd.DataFrame:
    """Store sales: one line per SKU × store × day on the day's Z-batch, booked at 20:00."""
    types = np.array(biz.ch.types)
    s = pd.concat(sales_blocks, ignore_index=True)
    s = s[types[s["channel"].to_numpy()] == "store"].sort_values(["day", "channel", "sku"]).reset_index(drop=True)
    loc = np.array(biz.ch.ids)[s["channel"].to_numpy()]
    day = np.datetime64(biz.axis.start, "D") + s["day"].to_numpy().astype("timedelta64[D]")
    ymd = pd.Series(day).dt.strftime("%Y%m%d").to_numpy()
    oid = pd.Series(loc).str.cat(pd.Series(ymd), sep="-").to_numpy()
    return pd.DataFrame({"order_id": oid, "line_no": s.groupby([s["day"], s["channel"]]).cumcount() + 1,
                         "ts": day.astype("datetime64[s]") + np.timedelta64(20 * 3600, "s"), "sku": s["sku"],
                         "location_id": loc, "units": s["units"], "price": s["price"], "promo": s["promo"],
                         "customer_id": None})


def _pos_ts(ts: np.ndarray, fmt: str) -> np.ndarray:
    """Format timestamps via the distinct values only (fast at tens of millions of rows)."""
    uniq, inv = np.unique(ts, return_inverse=True)
    return pd.Series(uniq).dt.strftime(fmt).to_numpy(dtype=object)[inv]


def _pos_sales(sales: pd.DataFrame, biz: Business, drng) -> tuple[pd.DataFrame, list]:
    sales = sales.sort_values(["ts", "order_id", "line_no"], kind="stable")
    df = pd.DataFrame({
        "bon_nr": sales["order_id"].to_numpy(), "pos": sales["line_no"].to_numpy(),
        "zeit": _pos_ts(sales["ts"].to_numpy(), "%d.%m.%Y %H:%M"),
        "artnr": biz.sku["sku_id"].to_numpy()[sales["sku"].to_numpy()], "filiale": sales["location_id"].to_numpy(),
        "menge": sales["units"].to_numpy(), "preis_cent": np.round(sales["price"].to_numpy() * 100).astype(np.int64),
        "aktion": np.where(sales["promo"].to_numpy(dtype=bool), "J", "N"),
        "kunde": sales["customer_id"].to_numpy()})
    n = _n_dirty(len(df))
    ids = iter(f"DIRTY-{k:06d}" for k in range(1, 4 * n + 1))
    bad = [("sku_id", "unknown_reference", "unknown article", {"artnr": "A999999"}),
           ("ts", "bad_date", "31 February", {"zeit": "31.02.2025 12:00"}),
           ("units", "out_of_range", "absurd quantity", {"menge": 2_000_000}),
           ("unit_price", "out_of_range", "negative price", {"preis_cent": -199})]
    specs = [Dirty(f, r, d, {**v, "bon_nr": next(ids), "pos": 1}) for f, r, d, v in bad for _ in range(n)]
    return inject(drng, df.reset_index(drop=True), "pos/sales.csv", "sales", specs)


def _iso(ts: np.ndarray, export_end: np.datetime64) -> np.ndarray:
    """ISO strings; None after the export time (not happened yet)."""
    s = pd.Series(ts).dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(dtype=object)
    s[ts > export_end] = None
    return s


def _shipments(orders: pd.DataFrame, drng) -> tuple[pd.DataFrame, list]:
    end = orders["created_at"].to_numpy().astype("datetime64[D]").max() + np.timedelta64(86399, "s")
    delivered = orders["delivered_at"].to_numpy()
    ms = (delivered - np.datetime64(0, "s")).astype(np.int64) * 1000
    df = pd.DataFrame({
        "id": orders["order_id"], "channel": orders["channel_type"], "warehouse": "DC1",
        **{k: _iso(orders[f"{k}_at"].to_numpy(), end) for k in ("created", "picked", "packed", "shipped")},
        "delivered_ms": pd.array(np.where(delivered > end, pd.NA, ms), dtype="Int64"),
        "promised": _iso(orders["promised_at"].to_numpy(), np.datetime64("9999-12-31T00:00:00")),
        "carrier": orders["carrier"], "n_lines": orders["lines"], "n_units": orders["units"],
        "weight_g": np.round(orders["weight_kg"].to_numpy() * 1000).astype(np.int64),
        "freight_eur": orders["freight_cost"]})
    n = _n_dirty(len(df))
    specs = ([Dirty("created_at", "bad_date", "30 February",
                    {"id": f"W-DIRTY-{k}", "created": "2025-02-30T10:00:00"}) for k in range(n)]
             + [Dirty("weight_kg", "out_of_range", "negative weight",
                      {"id": f"W-DIRTY-{n + k}", "weight_g": -500}) for k in range(n)])
    return inject(drng, df, "logistics/shipments.jsonl.gz", "shipments", specs)


def _traffic(rng, biz: Business, sales: pd.DataFrame, orders: pd.DataFrame, drng) -> tuple[pd.DataFrame, list]:
    """Stores: receipts ≈ Poisson(units / 2.2), visitors = receipts / conversion (≈ 0.30); web: orders
    per day and sessions = orders / 0.025 (× noise)."""
    stores = [c for c, t in zip(biz.ch.ids, biz.ch.types) if t == "store"]
    st = sales[sales["location_id"].isin(stores)]
    day = st["ts"].to_numpy().astype("datetime64[D]")
    per = st.groupby([day, st["location_id"].to_numpy()])["units"].sum()
    bons = np.maximum(1, rng.poisson(per.to_numpy() / 2.2))
    visitors = np.round(bons / np.clip(rng.normal(0.30, 0.03, bons.size), 0.15, 0.5))
    web = orders[orders["channel_type"] == "web"]
    wd = pd.Series(web["created_at"].to_numpy().astype("datetime64[D]")).value_counts().sort_index()
    sessions = np.round(wd.to_numpy() / 0.025 * rng.lognormal(0, 0.05, wd.size))
    df = pd.concat([
        pd.DataFrame({"datum": per.index.get_level_values(0), "filiale": per.index.get_level_values(1),
                      "besucher": visitors.astype(np.int64), "bons": bons.astype(np.int64)}),
        pd.DataFrame({"datum": wd.index, "filiale": "WEB", "besucher": sessions.astype(np.int64),
                      "bons": wd.to_numpy().astype(np.int64)})]).sort_values(["datum", "filiale"])
    df["datum"] = pd.to_datetime(df["datum"]).dt.strftime("%d.%m.%Y")
    before = (pd.Timestamp(biz.axis.start) - pd.Timedelta(days=1)).strftime("%d.%m.%Y")
    specs = [Dirty("visitors", "out_of_range", "negative visitor count", {"besucher": -10, "datum": before})]
    return inject(drng, df.reset_index(drop=True), "pos/traffic.csv", "traffic", specs)


# ----------------------------------------------------------------------------------------- replenishment
def _po_id(df: pd.DataFrame, start: np.datetime64) -> pd.Series:
    """One PO per supplier × receiving location × order day: PO<yymmdd>-<supplier>-<location>."""
    d = pd.Series(start + df["t_order"].to_numpy().astype("timedelta64[D]")).dt.strftime("%y%m%d")
    return "PO" + d.to_numpy(dtype=object) + "-" + df["supplier_id"].to_numpy(dtype=object) + "-" + \
        df["location_id"].to_numpy(dtype=object)


def _purchase_orders(blocks: list[pd.DataFrame], biz: Business, drng) -> tuple[pd.DataFrame, list]:
    po = pd.concat(blocks, ignore_index=True).sort_values(["t_order", "supplier_id", "location_id", "sku_id"])
    start = np.datetime64(biz.axis.start, "D")
    df = pd.DataFrame({"po_number": _po_id(po, start), "item_id": po["sku_id"].to_numpy(),
                       "supplier_code": po["supplier_id"].to_numpy(), "site_id": po["location_id"].to_numpy(),
                       "order_dt": start + po["t_order"].to_numpy().astype("timedelta64[D]"),
                       "eta_dt": start + po["t_expected"].to_numpy().astype("timedelta64[D]"),
                       "qty": po["qty"].to_numpy().astype(np.int64), "unit_cost": po["unit_cost"].to_numpy()})
    specs = [Dirty("qty_ordered", "out_of_range", "negative order quantity",
                   {"po_number": "PO-DIRTY-1", "qty": -5})]
    return inject(drng, df, "inventory_db/purchase_orders.parquet", "purchase_orders", specs)


def _receipts(blocks: list[pd.DataFrame], biz: Business, drng) -> tuple[pd.DataFrame, list]:
    rc = pd.concat(blocks, ignore_index=True).sort_values(["t_received", "supplier_id", "location_id", "sku_id"])
    start = np.datetime64(biz.axis.start, "D")
    # receiving time of day: 07:00–15:00, a deterministic function of the row (no extra random draws)
    minutes = (rc["t_order"].to_numpy() * 37 + rc["t_received"].to_numpy() * 11) % 480 + 420
    ts = (start + rc["t_received"].to_numpy().astype("timedelta64[D]")).astype("datetime64[s]") + \
        (minutes * 60).astype("timedelta64[s]")
    df = pd.DataFrame({"po_number": _po_id(rc, start), "item_id": rc["sku_id"].to_numpy(), "recv_ts": ts,
                       "qty_recv": rc["qty"].to_numpy().astype(np.int64)})
    specs = [Dirty("sku_id", "unknown_reference", "unknown item",
                   {"po_number": "PO-DIRTY-2", "item_id": "A999998"})]
    return inject(drng, df, "inventory_db/receipts.parquet", "receipts", specs)


def _competitors(blocks: list[pd.DataFrame], biz: Business, drng) -> tuple[pd.DataFrame, list]:
    f = pd.concat(blocks, ignore_index=True).sort_values(["day", "competitor", "sku_id"])
    start = np.datetime64(biz.axis.start, "D")
    df = pd.DataFrame({"obs_date": pd.Series(start + f["day"].to_numpy().astype("timedelta64[D]")).dt.strftime("%Y-%m-%d"),
                       "our_sku": f["sku_id"].to_numpy(), "shop": f["competitor"].to_numpy(),
                       "price_eur": f["price"].to_numpy()})
    specs = [Dirty("sku_id", "unknown_reference", "unknown product", {"our_sku": "A999997"}),
             Dirty("price", "missing", "empty price", {"price_eur": np.nan, "shop": "comp_z"})]
    return inject(drng, df, "competitors/prices.csv", "competitor_prices", specs)


# ----------------------------------------------------------------------------------------- master data
def _articles(biz: Business, drng) -> tuple[pd.DataFrame, list]:
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
    return inject(drng, df, "pos/articles.csv", "sku", specs)


def _locations(locs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"filiale": locs["location_id"], "name": locs["name"],
                         "typ": locs["type"].map(LOCATION_TYPE_LABELS), "region": locs["region"],
                         "ort": locs["city"], "lager_m3": locs["storage_m3"], "flaeche_m2": locs["size_m2"]})


def _suppliers(biz: Business) -> pd.DataFrame:
    s = biz.suppliers
    return pd.DataFrame({"supplier_code": s["supplier_id"], "supplier_name": s["name"],
                         "lt_mean_d": s["lead_time_days"], "lt_sd_d": s["lead_time_sd_days"],
                         "min_order_val": s["min_order_value"]})


def _staff(rng, biz: Business, orders: pd.DataFrame) -> pd.DataFrame:
    last = orders["created_at"] >= orders["created_at"].max() - np.timedelta64(56, "D")
    st = draw_staff(rng, biz.locs, last.sum() / 56.0)
    return pd.DataFrame({"emp_no": st["employee_id"], "full_name": st["name"], "home_site": st["location_id"],
                         "skills": st["skills"].str.replace("|", ",", regex=False),
                         "min_h_week": st["contract_min_hours"], "max_h_week": st["contract_max_hours"],
                         "rate_eur_h": st["hourly_cost"]})


def _calendar(biz: Business) -> pd.DataFrame:
    c = biz.cal
    return pd.DataFrame({"date": pd.to_datetime(c["date"]).dt.strftime("%Y-%m-%d"), "name": c["event"],
                         "type": c["event_type"], "region": c["scope"]})


# ----------------------------------------------------------------------------------------- truth, manifest
def _write_truth(out: Path, biz: Business, acc: dict, dc_volume: np.ndarray, dirty: list, seed: int) -> None:
    gt = out / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    sku = pd.concat([biz.sku.reset_index(drop=True), pd.concat(acc["sku_extra"], ignore_index=True)], axis=1)
    q = sku["base_rate"].rank(pct=True)
    sku["popularity"] = np.select([sku["lifecycle"] == "dead", q > 0.8, sku["base_rate"] < 0.25],
                                  ["dead_stock", "fast", "slow"], "medium")
    sku.loc[sku["n_competitors"] == 0, "cross_elasticity"] = 0.0
    start = pd.Timestamp(biz.axis.start)
    for col in ("launch_day", "eol_day", "dead_day"):
        valid = (sku[col] >= 0) & (sku[col] < biz.axis.n_days)
        sku[col.replace("_day", "_date")] = (start + pd.to_timedelta(sku[col], unit="D")).where(valid).dt.date
    keep = ["sku_id", "category", "subcategory", "price_family", "list_price", "unit_cost", "elasticity",
            "cross_elasticity", "promo_uplift", "post_promo_dip", "base_rate", "popularity", "lifecycle",
            "launch_date", "eol_date", "dead_date", "price_varies", "n_competitors", "stores_carrying"]
    sku[keep].to_csv(gt / "sku_truth.csv", index=False)
    pd.DataFrame(dirty).sort_values(["file", "row_number"]).to_csv(gt / "dirty_rows.csv", index=False)
    cap = float(biz.locs.loc[biz.locs["location_id"] == "DC1", "storage_m3"].iloc[0])
    pd.DataFrame({"date": biz.axis.dates.strftime("%Y-%m-%d"), "volume_m3": np.round(dc_volume, 3),
                  "capacity_m3": cap}).to_csv(gt / "dc_storage.csv", index=False)
    (gt / "params.json").write_text(json.dumps(_params(biz, seed, dc_volume, cap), indent=2, default=str) + "\n")


def _params(biz: Business, seed: int, dc_volume: np.ndarray, cap: float) -> dict:
    from model.ssot import demo_demand as dd, demo_stock as ds
    peak = int(np.argmax(dc_volume))
    return {
        "seed": seed, "skus": len(biz.sku), "start": str(biz.axis.start), "end": str(biz.axis.dates[-1].date()),
        "n_days": biz.axis.n_days, "locations": biz.locs["location_id"].tolist(),
        "categories": [{"name": c.name, "elasticity_mean": c.elasticity,
                        "elasticity_range": [round(c.elasticity - ELASTICITY_HALF_WIDTH, 4),
                                             round(c.elasticity + ELASTICITY_HALF_WIDTH, 4)],
                        "season_amp": c.season_amp, "peak_doy": c.peak_doy, "xmas": c.xmas} for c in CATEGORIES],
        "elasticity_sd": ELASTICITY_SD,
        "demand": {"nb_shape": dd.NB_SHAPE, "growth_per_year": dd.GROWTH_PER_YEAR, "dow": dd.DOW,
                   "events": dd.EVENTS, "promo_rate_per_year": dd.PROMO_RATE_PER_YEAR,
                   "post_promo_days": dd.POST_PROMO_DAYS, "competitors": dd.COMPETITORS},
        "stock": {"review_days": ds.REVIEW_DAYS, "split_share": ds.SPLIT_SHARE},
        "dc_storage": {"capacity_m3": cap, "peak_volume_m3": round(float(dc_volume.max()), 3),
                       "peak_date": str(biz.axis.dates[peak].date())},
        "dirty_every_rows": DIRTY_EVERY,
    }


def _write_manifest(out: Path) -> None:
    """One mapping YAML per export and the ``sources.yaml`` manifest listing them (paths relative)."""
    (out / "mappings").mkdir(parents=True, exist_ok=True)
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    for name, mapping in MAPPINGS.items():
        with open(out / "mappings" / f"{name}.yaml", "w", encoding="utf-8") as f:
            y.dump(mapping, f)
    manifest = {"name": "demo-business",
                "files": [{"path": path, "kind": MAPPINGS[m]["kind"], "mapping": f"mappings/{m}.yaml"}
                          for path, m in FILES.items()]}
    with open(out / "sources.yaml", "w", encoding="utf-8") as f:
        y.dump(manifest, f)
