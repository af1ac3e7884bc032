"""Canonical schema of the single source of truth (SSOT).

Every table of the store is declared here once, as data: columns with DuckDB types, which are required,
value ranges, the natural key (primary key) and the references to dimensions. The DDL, the ingest
validation rules, the README's schema table and the tests all read these declarations, so the schema
cannot drift between them.

Kinds of table
--------------
* ``dimension`` — master data (``sku``, ``location``, ``supplier``, ``calendar``, ``staff``).
* ``fact``      — raw events and snapshots (``sales``, ``inventory``, ``purchase_orders``, ``receipts``,
  ``shipments``, ``competitor_prices``, ``traffic``).
* ``meta``      — bookkeeping of the store itself (``lineage``, ``quarantine``, ``runs``).

Outputs of runs (``forecast``, ``plan_*``, ``sim_*``, ``actions``) are written by
:func:`model.ssot.store.write_output`, always keyed by ``run_id`` and ``scenario``.

Ingestable kinds are the dimension and fact tables; ``INGEST_ORDER`` is the dependency order a sources
manifest is loaded in (dimensions before the facts that reference them).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One column: DuckDB type, whether a value is required, an allowed closed range, allowed values."""

    name: str
    type: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    doc: str = ""


@dataclass(frozen=True)
class ForeignKey:
    """``column`` must match ``ref_table.ref_column`` (referential integrity, checked at ingest)."""

    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # dimension | fact | meta
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    doc: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def ddl(self) -> str:
        """CREATE TABLE statement with the natural key as PRIMARY KEY (NOT NULL on required columns)."""
        cols = []
        for c in self.columns:
            not_null = " NOT NULL" if (c.required or c.name in self.key) else ""
            cols.append(f'    "{c.name}" {c.type}{not_null}')
        if self.key:
            cols.append("    PRIMARY KEY (" + ", ".join(f'"{k}"' for k in self.key) + ")")
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n" + ",\n".join(cols) + "\n)"


C = Column
FK = ForeignKey

# Hard plausibility limits: a value outside these is a data error (quarantined), not a business fact.
MAX_UNITS_PER_LINE = 1_000_000.0
MAX_PRICE = 1_000_000.0

LOCATION_TYPES = ("store", "warehouse", "web", "marketplace")

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        # ------------------------------------------------------------------ dimensions
        Table(
            "supplier", "dimension",
            (
                C("supplier_id", "VARCHAR", True, doc="supplier natural key"),
                C("name", "VARCHAR"),
                C("lead_time_days", "DOUBLE", min=0, max=365, doc="mean replenishment lead time, days"),
                C("lead_time_sd_days", "DOUBLE", min=0, max=365, doc="standard deviation of lead time, days"),
                C("min_order_value", "DOUBLE", min=0, doc="minimum order value per PO, currency"),
            ),
            key=("supplier_id",),
            doc="Suppliers and their replenishment terms.",
        ),
        Table(
            "sku", "dimension",
            (
                C("sku_id", "VARCHAR", True),
                C("name", "VARCHAR"),
                C("category", "VARCHAR"),
                C("subcategory", "VARCHAR"),
                C("price_family", "VARCHAR", doc="SKUs of one family must carry the same price"),
                C("unit_cost", "DOUBLE", min=0, max=MAX_PRICE, doc="purchase cost per unit, currency"),
                C("list_price", "DOUBLE", min=0, max=MAX_PRICE, doc="regular selling price per unit, currency"),
                C("case_pack", "INTEGER", min=1, max=100_000, doc="units per case; orders are whole cases"),
                C("moq", "INTEGER", min=0, max=10_000_000, doc="minimum order quantity, units"),
                C("supplier_id", "VARCHAR"),
                C("lead_time_days", "DOUBLE", min=0, max=365, doc="overrides the supplier's lead time"),
                C("lead_time_sd_days", "DOUBLE", min=0, max=365),
                C("volume_m3", "DOUBLE", min=0, max=100, doc="storage volume per unit, m^3"),
                C("weight_kg", "DOUBLE", min=0, max=10_000, doc="weight per unit, kg"),
                C("launch_date", "DATE"),
                C("eol_date", "DATE", doc="end of life: no sales planned after this date"),
            ),
            key=("sku_id",),
            foreign_keys=(FK("supplier_id", "supplier", "supplier_id"),),
            doc="Stock-keeping units with cost, price, pack sizes and logistics attributes.",
        ),
        Table(
            "location", "dimension",
            (
                C("location_id", "VARCHAR", True),
                C("name", "VARCHAR"),
                C("type", "VARCHAR", True, allowed=LOCATION_TYPES, doc="store | warehouse | web | marketplace"),
                C("region", "VARCHAR"),
                C("city", "VARCHAR"),
                C("storage_m3", "DOUBLE", min=0, doc="storage capacity, m^3 (warehouses)"),
                C("size_m2", "DOUBLE", min=0),
            ),
            key=("location_id",),
            doc="Stores, warehouses and sales channels (web shop, marketplaces).",
        ),
        Table(
            "calendar", "dimension",
            (
                C("date", "DATE", True),
                C("event", "VARCHAR", True, doc="holiday or event name"),
                C("event_type", "VARCHAR", doc="holiday | peak | promotion | closure | other"),
                C("scope", "VARCHAR", True, doc="'national' or a region / location_id"),
            ),
            key=("date", "event", "scope"),
            doc="Holidays and events (Black Friday, Christmas, local holidays).",
        ),
        Table(
            "staff", "dimension",
            (
                C("employee_id", "VARCHAR", True),
                C("name", "VARCHAR"),
                C("location_id", "VARCHAR"),
                C("skills", "VARCHAR", doc="roles the employee can work, separated by '|'"),
                C("contract_min_hours", "DOUBLE", min=0, max=80, doc="minimum paid hours per week"),
                C("contract_max_hours", "DOUBLE", min=0, max=80, doc="maximum paid hours per week"),
                C("hourly_cost", "DOUBLE", min=0, max=10_000, doc="loaded labour cost per hour, currency"),
            ),
            key=("employee_id",),
            foreign_keys=(FK("location_id", "location", "location_id"),),
            doc="Employees with skills, contract hours and cost.",
        ),
        # ------------------------------------------------------------------ facts
        Table(
            "sales", "fact",
            (
                C("order_id", "VARCHAR", True, doc="order or receipt id"),
                C("line_no", "INTEGER", True, min=0, doc="line within the order"),
                C("ts", "TIMESTAMP", True, doc="time of sale"),
                C("sku_id", "VARCHAR", True),
                C("location_id", "VARCHAR", True, doc="store, warehouse-served web shop or marketplace"),
                C("units", "DOUBLE", True, min=-MAX_UNITS_PER_LINE, max=MAX_UNITS_PER_LINE,
                  doc="units sold (negative = return)"),
                C("unit_price", "DOUBLE", min=0, max=MAX_PRICE, doc="net selling price per unit, currency"),
                C("promo", "BOOLEAN", doc="line sold under a promotion"),
                C("customer_id", "VARCHAR"),
            ),
            key=("order_id", "line_no"),
            foreign_keys=(FK("sku_id", "sku", "sku_id"), FK("location_id", "location", "location_id")),
            doc="Sales lines from POS and web orders.",
        ),
        Table(
            "inventory", "fact",
            (
                C("snapshot_date", "DATE", True),
                C("sku_id", "VARCHAR", True),
                C("location_id", "VARCHAR", True),
                C("on_hand", "DOUBLE", True, min=0, max=1e9, doc="units physically on hand at end of day"),
                C("on_order", "DOUBLE", min=0, max=1e9, doc="units ordered, not yet received"),
            ),
            key=("snapshot_date", "sku_id", "location_id"),
            foreign_keys=(FK("sku_id", "sku", "sku_id"), FK("location_id", "location", "location_id")),
            doc="End-of-day inventory snapshots.",
        ),
        Table(
            "purchase_orders", "fact",
            (
                C("po_id", "VARCHAR", True),
                C("sku_id", "VARCHAR", True),
                C("supplier_id", "VARCHAR"),
                C("location_id", "VARCHAR", True, doc="receiving location"),
                C("ordered_date", "DATE", True),
                C("expected_date", "DATE"),
                C("qty_ordered", "DOUBLE", True, min=0, max=1e9),
                C("unit_cost", "DOUBLE", min=0, max=MAX_PRICE),
            ),
            key=("po_id", "sku_id"),
            foreign_keys=(
                FK("sku_id", "sku", "sku_id"),
                FK("supplier_id", "supplier", "supplier_id"),
                FK("location_id", "location", "location_id"),
            ),
            doc="Purchase order lines (ordered and expected).",
        ),
        Table(
            "receipts", "fact",
            (
                C("po_id", "VARCHAR", True),
                C("sku_id", "VARCHAR", True),
                C("received_date", "DATE", True),
                C("qty_received", "DOUBLE", True, min=0, max=1e9),
            ),
            key=("po_id", "sku_id", "received_date"),
            foreign_keys=(FK("sku_id", "sku", "sku_id"),),
            doc="Goods receipts against purchase orders (actual lead times come from here).",
        ),
        Table(
            "shipments", "fact",
            (
                C("order_id", "VARCHAR", True),
                C("location_id", "VARCHAR", doc="shipping warehouse / seller"),
                C("created_at", "TIMESTAMP", True, doc="order placed / released to the warehouse"),
                C("picked_at", "TIMESTAMP"),
                C("packed_at", "TIMESTAMP"),
                C("shipped_at", "TIMESTAMP", doc="handed to the carrier"),
                C("delivered_at", "TIMESTAMP"),
                C("promised_at", "TIMESTAMP", doc="promised delivery time"),
                C("carrier", "VARCHAR"),
                C("lines", "INTEGER", min=0, max=100_000),
                C("units", "DOUBLE", min=0, max=MAX_UNITS_PER_LINE),
                C("weight_kg", "DOUBLE", min=0, max=1e6),
                C("freight_cost", "DOUBLE", min=0, max=1e7),
                C("approved_at", "TIMESTAMP", doc="payment approved / order released for fulfilment"),
            ),
            key=("order_id",),
            foreign_keys=(FK("location_id", "location", "location_id"),),
            doc="Outbound orders with warehouse process timestamps.",
        ),
        Table(
            "competitor_prices", "fact",
            (
                C("date", "DATE", True),
                C("sku_id", "VARCHAR", True),
                C("competitor", "VARCHAR", True),
                C("price", "DOUBLE", True, min=0, max=MAX_PRICE),
            ),
            key=("date", "sku_id", "competitor"),
            foreign_keys=(FK("sku_id", "sku", "sku_id"),),
            doc="Observed competitor shelf prices.",
        ),
        Table(
            "traffic", "fact",
            (
                C("location_id", "VARCHAR", True),
                C("ts", "TIMESTAMP", True, doc="start of the period"),
                C("grain", "VARCHAR", True, allowed=("hour", "day"), doc="hour | day"),
                C("visitors", "DOUBLE", min=0, max=1e9),
                C("transactions", "DOUBLE", min=0, max=1e9),
            ),
            key=("location_id", "ts", "grain"),
            foreign_keys=(FK("location_id", "location", "location_id"),),
            doc="Store footfall / web sessions and transaction counts.",
        ),
        # ------------------------------------------------------------------ meta
        Table(
            "lineage", "meta",
            (
                C("batch_id", "VARCHAR", True),
                C("kind", "VARCHAR", True),
                C("source", "VARCHAR", True, doc="file path as given"),
                C("file_hash", "VARCHAR", True, doc="sha256 of the file bytes"),
                C("mapping_hash", "VARCHAR"),
                C("rows_read", "BIGINT", True),
                C("accepted", "BIGINT", True),
                C("quarantined", "BIGINT", True),
                C("unchanged", "BIGINT", True),
                C("started_at", "TIMESTAMP", True),
                C("finished_at", "TIMESTAMP", True),
                C("status", "VARCHAR", True, doc="loaded | rejected"),
                C("message", "VARCHAR"),
            ),
            key=("batch_id",),
            doc="One row per ingested batch.",
        ),
        Table(
            "quarantine", "meta",
            (
                C("batch_id", "VARCHAR", True),
                C("kind", "VARCHAR", True),
                C("source", "VARCHAR", True),
                C("row_number", "BIGINT", True, doc="1-based data row in the file (header excluded)"),
                C("field", "VARCHAR", doc="offending canonical field"),
                C("value", "VARCHAR", doc="offending raw value"),
                C("reason", "VARCHAR", True),
                C("raw", "VARCHAR", doc="the whole source row as JSON"),
            ),
            key=("batch_id", "row_number", "reason"),
            doc="Every rejected row with the reason; nothing is dropped silently.",
        ),
        Table(
            "runs", "meta",
            (
                C("run_id", "VARCHAR", True),
                C("scenario", "VARCHAR", True),
                C("command", "VARCHAR", True, doc="study | forecast | plan | simulate | watch"),
                C("started_at", "TIMESTAMP", True),
                C("finished_at", "TIMESTAMP"),
                C("data_fingerprint", "VARCHAR"),
                C("seed", "BIGINT"),
                C("status", "VARCHAR"),
                C("provenance", "JSON", doc="versions, solver statuses, stage timings"),
            ),
            key=("run_id",),
            doc="Every run that wrote results into the store.",
        ),
    ]
}

INGEST_KINDS: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.kind in ("dimension", "fact"))

# Dependency order for a sources manifest: referenced tables first.
INGEST_ORDER: tuple[str, ...] = (
    "supplier", "location", "sku", "calendar", "staff",
    "sales", "inventory", "purchase_orders", "receipts", "shipments", "competitor_prices", "traffic",
)
assert set(INGEST_ORDER) == set(INGEST_KINDS)


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown SSOT table {name!r}; known: {', '.join(TABLES)}") from None


def all_ddl() -> list[str]:
    return [t.ddl() for t in TABLES.values()]


def schema_markdown() -> str:
    """The canonical schema as Markdown (used to keep docs/ssot.md true; see tests)."""
    out = []
    for t in TABLES.values():
        out.append(f"### `{t.name}` ({t.kind})\n\n{t.doc}\n\nKey: `({', '.join(t.key)})`")
        if t.foreign_keys:
            out.append("References: " + ", ".join(f"`{f.column}` → `{f.ref_table}.{f.ref_column}`"
                                                 for f in t.foreign_keys))
        out.append("\n| column | type | required | rule | meaning |\n|---|---|---|---|---|")
        for c in t.columns:
            rule = []
            if c.min is not None:
                rule.append(f"≥ {c.min:g}")
            if c.max is not None:
                rule.append(f"≤ {c.max:g}")
            if c.allowed:
                rule.append(" / ".join(c.allowed))
            req = "yes" if (c.required or c.name in t.key) else ""
            out.append(f"| `{c.name}` | {c.type} | {req} | {', '.join(rule)} | {c.doc} |")
        out.append("")
    return "\n".join(out)
