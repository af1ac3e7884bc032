"""The source systems' file conventions: one mapping per export (``MAPPINGS``: source columns, date
formats, unit conversions and derivations back to the canonical table; see docs/ssot.md for the format),
the file → mapping list of the manifest (``FILES``), dirty-row insertion (``inject``) and the writers
(CSV, Parquet, gzipped JSON lines) for Arrow tables built by ``demo_write``.

A dirty record names the 1-based data row (header excluded), the canonical field and the quarantine
reason code ingest must give it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

POS_DATE, POS_TS = "%d.%m.%Y", "%d.%m.%Y %H:%M"
POS_CSV = {"delimiter": ";", "header": True, "encoding": "utf-8"}
LOCATION_TYPE_LABELS = {"warehouse": "Lager", "web": "Webshop", "marketplace": "Marktplatz", "store": "Filiale"}

MAPPINGS: dict[str, dict] = {
    "pos_articles": {
        "kind": "sku", "format": "csv", "csv": POS_CSV,
        "columns": {"sku_id": "artnr", "name": "bezeichnung", "category": "warengruppe",
                    "subcategory": "untergruppe", "price_family": "preisfamilie", "list_price": "vk_cent",
                    "unit_cost": "ek_cent", "case_pack": "vpe", "moq": "mindestmenge", "supplier_id": "lieferant",
                    "volume_m3": "volumen_l", "weight_kg": "gewicht_g", "launch_date": "einfuehrung",
                    "eol_date": "auslauf"},
        "parse": {"launch_date": POS_DATE, "eol_date": POS_DATE},
        "convert": {"list_price": {"multiply": 0.01}, "unit_cost": {"multiply": 0.01},
                    "volume_m3": {"multiply": 0.001}, "weight_kg": {"multiply": 0.001}},
    },
    "pos_locations": {
        "kind": "location", "format": "csv", "csv": POS_CSV,
        "columns": {"location_id": "filiale", "name": "name", "region": "region", "city": "ort",
                    "storage_m3": "lager_m3", "size_m2": "flaeche_m2"},
        "derive": {"type": "CASE \"typ\" " + " ".join(f"WHEN '{v}' THEN '{k}'" for k, v in
                                                      LOCATION_TYPE_LABELS.items()) + " END"},
    },
    "pos_sales": {
        "kind": "sales", "format": "csv", "csv": POS_CSV,
        "columns": {"order_id": "bon_nr", "line_no": "pos", "ts": "zeit", "sku_id": "artnr",
                    "location_id": "filiale", "units": "menge", "unit_price": "preis_cent", "customer_id": "kunde"},
        "parse": {"ts": POS_TS},
        "convert": {"unit_price": {"multiply": 0.01}},
        "derive": {"promo": "\"aktion\" = 'J'"},
    },
    "pos_traffic": {
        "kind": "traffic", "format": "csv", "csv": POS_CSV,
        "columns": {"ts": "datum", "location_id": "filiale", "visitors": "besucher", "transactions": "bons"},
        "parse": {"ts": POS_DATE},
        "constants": {"grain": "day"},
    },
    "invdb_suppliers": {
        "kind": "supplier", "format": "parquet",
        "columns": {"supplier_id": "supplier_code", "name": "supplier_name", "lead_time_days": "lt_mean_d",
                    "lead_time_sd_days": "lt_sd_d", "min_order_value": "min_order_val"},
    },
    "invdb_stock": {
        "kind": "inventory", "format": "parquet",
        "columns": {"snapshot_date": "snap_dt", "sku_id": "item_id", "location_id": "site_id",
                    "on_hand": "qty_oh", "on_order": "qty_oo"},
    },
    "invdb_purchase_orders": {
        "kind": "purchase_orders", "format": "parquet",
        "columns": {"po_id": "po_number", "sku_id": "item_id", "supplier_id": "supplier_code",
                    "location_id": "site_id", "ordered_date": "order_dt", "expected_date": "eta_dt",
                    "qty_ordered": "qty", "unit_cost": "unit_cost"},
    },
    "invdb_receipts": {
        "kind": "receipts", "format": "parquet",
        "columns": {"po_id": "po_number", "sku_id": "item_id", "qty_received": "qty_recv"},
        "derive": {"received_date": "CAST(\"recv_ts\" AS DATE)"},
    },
    "invdb_staff": {
        "kind": "staff", "format": "parquet",
        "columns": {"employee_id": "emp_no", "name": "full_name", "location_id": "home_site",
                    "contract_min_hours": "min_h_week", "contract_max_hours": "max_h_week",
                    "hourly_cost": "rate_eur_h"},
        "derive": {"skills": "replace(\"skills\", ',', '|')"},
    },
    "logistics_shipments": {
        "kind": "shipments", "format": "jsonl",
        "columns": {"order_id": "id", "location_id": "warehouse", "created_at": "created",
                    "picked_at": "picked", "packed_at": "packed", "shipped_at": "shipped",
                    "promised_at": "promised", "carrier": "carrier", "lines": "n_lines", "units": "n_units",
                    "weight_kg": "weight_g", "freight_cost": "freight_eur"},
        "parse": {"created_at": "%Y-%m-%dT%H:%M:%S", "picked_at": "%Y-%m-%dT%H:%M:%S",
                  "packed_at": "%Y-%m-%dT%H:%M:%S", "shipped_at": "%Y-%m-%dT%H:%M:%S",
                  "promised_at": "%Y-%m-%dT%H:%M:%S"},
        "convert": {"weight_kg": {"multiply": 0.001}},
        "derive": {"delivered_at": "epoch_ms(\"delivered_ms\")"},
        "extra_columns": "ignore",  # "channel" is in the sales lines already
    },
    "competitor_prices": {
        "kind": "competitor_prices", "format": "csv", "csv": {"delimiter": ",", "header": True},
        "columns": {"date": "obs_date", "sku_id": "our_sku", "competitor": "shop", "price": "price_eur"},
        "parse": {"date": "%Y-%m-%d"},
    },
    "calendar": {
        "kind": "calendar", "format": "csv", "csv": {"delimiter": ",", "header": True},
        "columns": {"date": "date", "event": "name", "event_type": "type", "scope": "region"},
        "parse": {"date": "%Y-%m-%d"},
    },
}

# file → mapping name; order as in the manifest (ingest sorts by model.ssot.schema.INGEST_ORDER anyway)
FILES: dict[str, str] = {
    "inventory_db/suppliers.parquet": "invdb_suppliers",
    "pos/locations.csv": "pos_locations",
    "pos/articles.csv": "pos_articles",
    "calendar/holidays.csv": "calendar",
    "inventory_db/staff.parquet": "invdb_staff",
    "pos/sales.csv": "pos_sales",
    "inventory_db/stock_eod.parquet": "invdb_stock",
    "inventory_db/purchase_orders.parquet": "invdb_purchase_orders",
    "inventory_db/receipts.parquet": "invdb_receipts",
    "logistics/shipments.jsonl.gz": "logistics_shipments",
    "competitors/prices.csv": "competitor_prices",
    "pos/traffic.csv": "pos_traffic",
}


DIRTY_REASONS = ("unknown_reference", "bad_date", "out_of_range", "missing")  # ingest's quarantine reason codes


@dataclass(frozen=True)
class Dirty:
    """A deliberately bad row: source values overriding a copy of a clean row, and why ingest rejects it."""

    field: str           # canonical field that is wrong
    reason: str          # the quarantine reason code ingest must give (one of DIRTY_REASONS)
    detail: str          # what is wrong, in words
    values: dict         # source column → bad value (applied to a copy of a random clean row)

    def __post_init__(self):
        if self.reason not in DIRTY_REASONS:
            raise ValueError(f"dirty row reason must be one of {DIRTY_REASONS}; got {self.reason!r}")


def inject(rng: np.random.Generator, table: pa.Table, file: str, kind: str, dirty: list[Dirty]
           ) -> tuple[pa.Table, list[dict]]:
    """Insert one copy of a random clean row per ``Dirty`` (with its bad values) at a random position.
    Returns the new table and one record per dirty row: file, row_number (1-based), kind, field, reason,
    detail."""
    n, m = table.num_rows, len(dirty)
    if not m or not n:
        return table, []
    src = table.take(pa.array(rng.integers(0, n, m))).to_pandas()
    for k, d in enumerate(dirty):
        for col, val in d.values.items():
            src.iloc[k, src.columns.get_loc(col)] = val
    bad = pa.Table.from_pandas(src, schema=table.schema, preserve_index=False)
    pos = np.sort(rng.choice(n + m, m, replace=False))
    cuts = pos - np.arange(m)  # clean rows before each dirty row
    parts = [table.slice(a, b - a) for a, b in zip(np.r_[0, cuts], np.r_[cuts, n])]  # zero-copy slices
    out = pa.concat_tables([p for k, clean in enumerate(parts)
                            for p in ([clean, bad.slice(k, 1)] if k < m else [clean])])
    return out, [{"file": file, "row_number": int(p) + 1, "kind": kind, "field": d.field, "reason": d.reason,
                  "detail": d.detail} for p, d in zip(pos, dirty)]


def strings(values, idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as an Arrow string array (no Python string objects per row)."""
    return pa.array(np.asarray(values, dtype=object), pa.string()).take(pa.array(idx))


def fmt_ts(ts: np.ndarray, fmt: str) -> pa.Array:
    """strftime on a datetime64 array (seconds or days) in Arrow; NaT → null."""
    unit = "D" if np.issubdtype(ts.dtype, np.datetime64) and np.datetime_data(ts.dtype)[0] == "D" else "s"
    return pc.strftime(pa.array(ts.astype(f"datetime64[{unit}]")), format=fmt)


def write_csv(table: pa.Table, path: Path, delimiter: str) -> int:
    """UTF-8 CSV, '\\n' line ends, values unquoted (the writer refuses values containing the delimiter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter=delimiter, quoting_style="none"))
    return table.num_rows


def write_parquet(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def _sql_quote(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def write_jsonl_gz(table: pa.Table, path: Path) -> int:
    """JSON lines, gzip, written by DuckDB (one thread, insertion order: the bytes depend only on the
    content; the gzip header carries no time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET threads = 1")
        con.execute("SET memory_limit = '1GB'")
        con.register("export_table", table)
        con.execute(f"COPY (SELECT * FROM export_table) TO '{_sql_quote(path)}' (FORMAT json, COMPRESSION gzip)")
    finally:
        con.close()
    return table.num_rows
