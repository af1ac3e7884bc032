"""Map and validate a batch in DuckDB SQL, set-based (no Python loop over rows).

The source is a DuckDB table expression (``read_csv(...)``, ``read_parquet(...)``, a query);
``row_number() OVER ()`` over it, with insertion order preserved, is the 1-based data row of the file.
This module

1. resolves where each canonical column comes from (rename, derive, constant, identity) and refuses the
   file when a required column has no source or a source column maps to nothing;
2. builds ``stage`` in ONE pass over the source: ``_row``, every canonical column parsed / cast /
   converted, and ``_ok`` — false when any row rule fails: a required value missing, a wrong type, an
   unparseable date, a non-finite number, a value outside ``[min, max]`` or not an allowed value
   (:mod:`model.ssot.schema`), or a reference absent from its dimension table as it stands inside the
   batch's transaction (so a manifest's earlier files count);
3. finds duplicate natural keys among the ``_ok`` rows: the first row with a key is kept, every later
   row with that key is quarantined, naming the kept row;
4. gives the quarantine detail (row, field, raw value, reason, whole row as JSON): for rule failures from
   the staged failing rows, for duplicates by re-reading the source for those rows only.

Reasons start with a code: ``missing``, ``bad_type``, ``bad_date``, ``out_of_range``, ``not_allowed``,
``unknown_reference``, ``duplicate_key``.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from model.ssot.connectors import Source, short_error
from model.ssot.connectors import quote_ident as qi
from model.ssot.connectors import quote_str as qs
from model.ssot.mapping import IngestError, Mapping
from model.ssot.schema import Column, Table

INFER_TYPES = ("BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP")
NUMERIC = ("DOUBLE", "INTEGER", "BIGINT")
TEXT_PREFIX = "__text__"


@dataclass(frozen=True)
class Plan:
    """How a batch maps: the source, each canonical column's raw SQL (None if absent), and the inferred
    types of text columns used in derive expressions."""

    source: Source
    raw: dict[str, str | None]
    typed_sources: dict[str, str]


def _derive_refs(mapping: Mapping, source_cols: tuple[str, ...]) -> set[str]:
    return {s for s in source_cols for expr in mapping.derive.values() if qi(s) in expr}


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return qs(str(value))


def _check_sources(table: Table, mapping: Mapping, source_cols: tuple[str, ...], label: str) -> None:
    """Refuse the file when its columns do not fit the table and mapping; names every problem at once."""
    problems = []
    reserved = [s for s in source_cols if s in ("_row", "__record") or s.startswith(TEXT_PREFIX)]
    if reserved:
        problems.append(f"column name(s) {', '.join(reserved)} are reserved by ingest (_row, __record, "
                        f"{TEXT_PREFIX}*); rename them in the export")
    missing_src = {c: s for c, s in mapping.columns.items() if s not in source_cols}
    if missing_src:
        pairs = ", ".join(f"{c} <- {s!r}" for c, s in missing_src.items())
        problems.append(f"mapping {mapping.origin} renames {pairs}, but the file has no such column")
    provided = set(mapping.columns) | set(mapping.derive) | set(mapping.constants) | (
        set(source_cols) & set(table.column_names))
    required = [c.name for c in table.columns if (c.required or c.name in table.key) and c.name not in provided]
    if required:
        problems.append(f"missing required column(s) {', '.join(required)} for {table.name!r}: expected source "
                        f"column(s) with these names or a mapping entry")
    identity = {s for s in source_cols if s in table.column_names and not mapping.source_of(s)}
    used = set(mapping.columns.values()) | _derive_refs(mapping, source_cols) | identity
    extra = [s for s in source_cols if s not in used]
    if extra and mapping.extra_columns == "error":
        problems.append(f"column(s) {', '.join(extra)} map to nothing in {table.name!r}; map them in the mapping, "
                        f"or set 'extra_columns: ignore' to drop them")
    if problems:
        raise IngestError(f"{label}: " + "; ".join(problems) + f" (file columns: {', '.join(source_cols)})")


def _fails(col: str, typ: str) -> str:
    """SQL: a non-NULL text value that is not a ``typ`` (BIGINT: not a whole number — DuckDB would round)."""
    if typ == "BIGINT":
        return (f"{col} IS NOT NULL AND coalesce(TRY_CAST({col} AS DOUBLE) <> TRY_CAST({col} AS BIGINT), true)")
    return f"{col} IS NOT NULL AND TRY_CAST({col} AS {typ}) IS NULL"


def infer_types(con: duckdb.DuckDBPyConnection, read_sql: str, cols: set[str], label: str) -> dict[str, str]:
    """Type of each text column: the first of INFER_TYPES that every non-empty value casts to exactly
    (whole column, one scan), else VARCHAR. Derive expressions see these columns with these types."""
    if not cols:
        return {}
    order = sorted(cols)
    aggs = [f"count(*) FILTER (WHERE {_fails(qi(c), t)})" for c in order for t in INFER_TYPES]
    aggs += [f"count({qi(c)})" for c in order]
    try:
        row = con.execute(f"SELECT {', '.join(aggs)} FROM {read_sql}").fetchone()
    except duckdb.Error as e:
        raise IngestError(f"{label}: cannot read the file (truncated or garbled?): {short_error(e)}") from None
    out = {}
    for i, c in enumerate(order):
        fails = row[i * len(INFER_TYPES):(i + 1) * len(INFER_TYPES)]
        nonnull = row[len(order) * len(INFER_TYPES) + i]
        out[c] = next((t for t, f in zip(INFER_TYPES, fails) if f == 0 and nonnull), "VARCHAR")
    return out


def plan_columns(con, table: Table, mapping: Mapping, source: Source, label: str) -> Plan:
    """Check the file's columns against the table and mapping; say where every canonical column comes from."""
    _check_sources(table, mapping, source.columns, label)
    refs = _derive_refs(mapping, source.columns) & source.text_columns
    typed = {c: t for c, t in infer_types(con, source.read_sql, refs, label).items() if t != "VARCHAR"}

    def src(name: str) -> str:
        return qi(TEXT_PREFIX + name) if name in typed else qi(name)

    raw: dict[str, str | None] = {}
    for c in table.column_names:
        if c in mapping.columns:
            raw[c] = src(mapping.columns[c])
        elif c in mapping.derive:
            raw[c] = f"({mapping.derive[c]})"
        elif c in mapping.constants:
            raw[c] = _literal(mapping.constants[c])
        else:
            raw[c] = src(c) if c in source.columns else None
    return Plan(source=source, raw=raw, typed_sources=typed)


def scope_sql(plan: Plan, record: bool = False) -> str:
    """``_row`` + the source columns (derive inputs typed, their text kept under a private name);
    with ``record`` also the whole source row as JSON (``__record``)."""
    extra = ", to_json(r) AS __record" if record else ""
    if not plan.typed_sources:
        return f"SELECT row_number() OVER () AS _row, *{extra} FROM {plan.source.read_sql} r"
    replace = ", ".join(f"TRY_CAST({qi(c)} AS {t}) AS {qi(c)}" for c, t in plan.typed_sources.items())
    texts = ", ".join(f"{qi(c)} AS {qi(TEXT_PREFIX + c)}" for c in plan.typed_sources)
    return f"SELECT row_number() OVER () AS _row, * REPLACE ({replace}), {texts}{extra} FROM {plan.source.read_sql} r"


def _value_sql(col: Column, raw: str, mapping: Mapping) -> str:
    """Canonical value of ``col`` from its raw expression: parse / cast / convert (NULL when impossible)."""
    text = f"CAST({raw} AS VARCHAR)"
    if col.name in mapping.parse:
        fmts = "[" + ", ".join(qs(f) for f in mapping.parse[col.name]) + "]"
        parsed = f"TRY_STRPTIME({text}, {fmts})"
        return f"CAST({parsed} AS DATE)" if col.type == "DATE" else parsed
    if col.type == "VARCHAR":
        return f"NULLIF({text}, '')"
    if col.type not in NUMERIC:
        return f"TRY_CAST({raw} AS {col.type})"
    num = f"TRY_CAST({raw} AS DOUBLE)"
    if col.name in mapping.convert:
        m, a = mapping.convert[col.name]
        num = f"({num} * {m!r} + {a!r})"
    if col.type == "DOUBLE":
        return num
    return f"(CASE WHEN {num} = trunc({num}) THEN TRY_CAST({num} AS {col.type}) END)"


def _source_text(plan: Plan, name: str) -> str:
    return qi(TEXT_PREFIX + name) if name in plan.typed_sources else qi(name)


def mapped_sql(table: Table, plan: Plan, mapping: Mapping, record: bool = False, carry: bool = False) -> str:
    """``_row`` + per present canonical column ``c``: its raw value ``c__raw`` and canonical value ``c``;
    ``record``: the source row as JSON (``__record``); ``carry``: the source columns' text (``__src__<name>``)."""
    parts = ["_row", "__record"] if record else ["_row"]
    for c in table.columns:
        raw = plan.raw[c.name]
        if raw is None:
            parts.append(f"CAST(NULL AS {c.type}) AS {qi(c.name)}")
        else:
            parts += [f"{raw} AS {qi(c.name + '__raw')}", f"{_value_sql(c, raw, mapping)} AS {qi(c.name)}"]
    if carry:
        parts += [f"{_source_text(plan, n)} AS {qi('__src__' + n)}" for n in plan.source.columns]
    return f"SELECT {', '.join(parts)} FROM ({scope_sql(plan, record)}) s"


def _column_rules(table: Table, c: Column, mapping: Mapping) -> list[tuple[str, str, str]]:
    v, text = qi(c.name), f"coalesce(CAST({qi(c.name + '__raw')} AS VARCHAR), '')"
    rules = []
    if c.required or c.name in table.key:
        rules.append((c.name, f"{v} IS NULL AND {text} = ''", f"missing: {c.name} is required"))
    if c.name in mapping.parse:
        fmts = " or ".join(repr(f) for f in mapping.parse[c.name])
        rules.append((c.name, f"{v} IS NULL AND {text} <> ''", f"bad_date: {c.name} does not match {fmts}"))
    else:
        what = "a whole number" if c.type in ("INTEGER", "BIGINT") else c.type
        rules.append((c.name, f"{v} IS NULL AND {text} <> ''", f"bad_type: {c.name} expected {what}"))
    finite = ""
    if c.type == "DOUBLE":
        rules.append((c.name, f"NOT isfinite({v})", f"bad_type: {c.name} is not a finite number"))
        finite = f"isfinite({v}) AND "
    if c.min is not None:
        rules.append((c.name, f"{finite}{v} < {c.min!r}", f"out_of_range: {c.name} below minimum {c.min:g}"))
    if c.max is not None:
        rules.append((c.name, f"{finite}{v} > {c.max!r}", f"out_of_range: {c.name} above maximum {c.max:g}"))
    if c.allowed:
        rules.append((c.name, f"{v} NOT IN ({', '.join(qs(a) for a in c.allowed)})",
                      f"not_allowed: {c.name} must be one of {' | '.join(c.allowed)}"))
    return rules


def row_rules(table: Table, plan: Plan, mapping: Mapping) -> list[tuple[str, str, str]]:
    """(field, SQL condition flagging a problem, reason) for every rule of every present column,
    references to dimension tables included."""
    rules = [r for c in table.columns if plan.raw[c.name] is not None for r in _column_rules(table, c, mapping)]
    for fk in table.foreign_keys:
        if plan.raw[fk.column] is not None:
            v = qi(fk.column)
            rules.append((fk.column, f"{v} IS NOT NULL AND {v} NOT IN (SELECT {qi(fk.ref_column)} FROM {fk.ref_table})",
                          f"unknown_reference: {fk.column} not found in {fk.ref_table}.{fk.ref_column}"))
    return rules


def check_derive(con, plan: Plan, mapping: Mapping, label: str) -> None:
    """Bind every derive expression once (LIMIT 0) so a wrong one is named before the batch runs."""
    for col, expr in mapping.derive.items():
        try:
            con.execute(f"SELECT {expr} FROM ({scope_sql(plan)}) s LIMIT 0")
        except duckdb.Error as e:
            types = ", ".join(f"{c}: {t}" for c, t in plan.typed_sources.items()) or "all VARCHAR"
            raise IngestError(f"{label}: mapping {mapping.origin}: derive.{col} = {expr!r} is not valid SQL over the "
                              f"source columns (typed: {types}): {short_error(e)}") from None


def _bad_sql(table: Table, plan: Plan, mapping: Mapping) -> str:
    """One SQL condition, true when any row rule fails: the rules of :func:`row_rules` folded per column
    (a required column fails on NULL whatever the cause; an optional one when a non-empty raw value gave
    NULL) — cheaper to evaluate on every row than the rules one by one."""
    fails = []
    for c in table.columns:
        if plan.raw[c.name] is None:
            continue
        v, raw = qi(c.name), f"CAST({qi(c.name + '__raw')} AS VARCHAR)"
        fails.append(f"{v} IS NULL" if c.required or c.name in table.key else f"({v} IS NULL AND {raw} <> '')")
        fails += [f"NOT isfinite({v})"] if c.type == "DOUBLE" else []
        fails += [f"{v} < {c.min!r}"] if c.min is not None else []
        fails += [f"{v} > {c.max!r}"] if c.max is not None else []
        fails += [f"{v} NOT IN ({', '.join(qs(a) for a in c.allowed)})"] if c.allowed else []
    fails += [cond for _, cond, reason in row_rules(table, plan, mapping) if reason.startswith("unknown_reference")]
    return " OR ".join(f"coalesce({f}, false)" for f in fails) or "false"


def build_stage(con, table: Table, plan: Plan, mapping: Mapping, stage: str, label: str) -> int:
    """``stage`` in one pass over the source: ``_row``, every canonical column, ``_ok`` (no row rule
    fails) and, for failing rows only, ``__record`` (the source row as JSON) and ``__raws`` (each present
    column's raw value), so the quarantine detail needs no second read. Returns the rows read."""
    bad = _bad_sql(table, plan, mapping)
    cols = ", ".join(qi(c) for c in table.column_names)
    record = "{" + ", ".join(f"{qs(n)}: {qi('__src__' + n)}" for n in plan.source.columns) + "}"
    raws = "{" + ", ".join(f"{qs(c + '__raw')}: {qi(c + '__raw')}" for c, r in plan.raw.items() if r is not None) + "}"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT _row, {cols}, _ok, "
                    f"CASE WHEN NOT _ok THEN to_json({record}) END AS __record, "
                    f"CASE WHEN NOT _ok THEN {raws} END AS __raws "
                    f"FROM (SELECT *, NOT ({bad}) AS _ok FROM ({mapped_sql(table, plan, mapping, carry=True)}) m) x")
    except duckdb.Error as e:
        if "invalid unicode" in str(e).lower():
            raise IngestError(f"{label}: not valid {mapping.csv.encoding} text: {short_error(e)}; declare the "
                              f"encoding in the mapping (csv: {{encoding: latin-1}})") from None
        if not mapping.derive or isinstance(e, (duckdb.InvalidInputException, duckdb.IOException)):
            raise IngestError(f"{label}: cannot read as {plan.source.format} (truncated or garbled?): "
                              f"{short_error(e)}") from None
        raise IngestError(f"{label}: mapping {mapping.origin} failed while evaluating rows (use TRY_CAST in derive "
                          f"expressions): {short_error(e)}") from None
    n = con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
    if n == 0:
        raise IngestError(f"{label}: no data rows (only a header)")
    return n


def find_duplicates(con, table: Table, stage: str, dups: str) -> int:
    """``dups`` (_row, first_row): ``_ok`` rows whose natural key repeats an earlier ``_ok`` row."""
    keys = ", ".join(qi(k) for k in table.key)
    on = " AND ".join(f"g.{qi(k)} = d.{qi(k)}" for k in table.key)
    repeats = con.execute(f"SELECT count(*) - count(DISTINCT ({keys})) FROM {stage} WHERE _ok").fetchone()[0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {dups} (_row BIGINT, first_row BIGINT)")
    if repeats == 0:  # the common case: one aggregate, no join
        return 0
    con.execute(
        f"INSERT INTO {dups} WITH good AS (SELECT _row, {keys} FROM {stage} WHERE _ok), "
        f"d AS (SELECT {keys}, min(_row) AS first_row FROM good GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT g._row, d.first_row FROM good g JOIN d ON {on} WHERE g._row <> d.first_row")
    return con.execute(f"SELECT count(*) FROM {dups}").fetchone()[0]


def rule_problems_sql(table: Table, plan: Plan, mapping: Mapping, stage: str) -> str:
    """SELECT _row, field, value, reason, record — one row per failed rule of every ``NOT _ok`` row."""
    branches = [f"SELECT _row, {qs(f)} AS field, CAST({qi(f + '__raw')} AS VARCHAR) AS value, {qs(r)} AS reason, "
                f"__record FROM bad WHERE coalesce({cond}, false)"
                for f, cond, r in row_rules(table, plan, mapping)]
    cols = ", ".join(qi(c) for c in table.column_names)
    return (f"WITH bad AS MATERIALIZED (SELECT _row, __record, {cols}, __raws.* FROM {stage} WHERE NOT _ok) "
            + " UNION ALL ".join(branches))


def duplicate_problems_sql(table: Table, plan: Plan, mapping: Mapping, dups: str) -> str:
    """SELECT _row, field, value, reason, record for the duplicate rows (re-reads the source for them)."""
    key_label = ", ".join(table.key)
    key_value = " || ', ' || ".join(f"coalesce(CAST({qi(k)} AS VARCHAR), '')" for k in table.key)
    return (f"SELECT _row, {qs(key_label)} AS field, {key_value} AS value, 'duplicate_key: same ({key_label}) as "
            f"row ' || first_row || ' (kept)' AS reason, __record "
            f"FROM ({mapped_sql(table, plan, mapping, record=True)}) m JOIN {dups} USING (_row)")
