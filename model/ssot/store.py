"""The DuckDB store: opening it (one writer per file), creating the canonical schema, writing run outputs.

DuckDB allows one read-write process per database file; a second process — even a read-only one — gets
an IO/lock error while a writer holds the file. :func:`open_store` turns that into :class:`StoreBusyError`
with a message that says what to do, instead of a stack trace.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from model.ssot.schema import TABLES, all_ddl


class StoreError(RuntimeError):
    """Base class of store errors."""


class StoreBusyError(StoreError):
    """Another process holds the store's write lock."""


_LOCK_PATTERNS = ("could not set lock", "conflicting lock", "lock on file", "resource temporarily unavailable")


def open_store(path: str | Path, read_only: bool = False, create: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (and on first use create) the SSOT at ``path``; ``":memory:"`` gives a throw-away store.

    Raises :class:`StoreBusyError` when another process holds the file, and :class:`StoreError` when
    ``create`` is false and the file does not exist.
    """
    path = str(path)
    if path != ":memory:":
        p = Path(path)
        if not p.exists():
            if not create or read_only:
                raise StoreError(f"store {path} does not exist; build it first with `run.py ingest --db {path} ...`")
            p.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as e:  # the lock error is an IOException
        msg = str(e).lower()
        if any(s in msg for s in _LOCK_PATTERNS):
            raise StoreBusyError(
                f"store is busy: {path} is open for writing by another process (DuckDB allows one writer "
                f"per file). Wait for that process (ingest, study or watch) to finish, or point --db at "
                f"another file. ({e})"
            ) from None
        raise StoreError(f"cannot open store {path}: {e}") from None
    if not read_only:
        init_schema(con)
    return con


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every canonical table that does not exist yet (idempotent)."""
    for ddl in all_ddl():
        con.execute(ddl)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT; any exception rolls everything back and re-raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"invalid table name {name!r}: letters, digits and '_' only")
    return name


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def write_output(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame, run_id: str, scenario: str) -> int:
    """Write a run's output table ``name`` (``forecast``, ``plan_orders``, ``sim_kpis``, …).

    Rows are keyed by ``run_id`` and ``scenario`` (prepended as columns); writing the same run again
    replaces that run's rows. New columns in later runs are added (older runs get NULL there).
    Returns the number of rows written.
    """
    _check_ident(name)
    if name in TABLES:
        raise ValueError(f"{name!r} is a canonical input table; outputs need their own name")
    out = df.copy()
    out.insert(0, "scenario", scenario)
    out.insert(0, "run_id", run_id)
    con.register("_out_df", out)
    try:
        with transaction(con):
            if not table_exists(con, name):
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _out_df LIMIT 0')
            existing = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]).fetchall()}
            types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM _out_df)")
                         .fetchall())
            for col in out.columns:
                if col not in existing:
                    con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{col}" {types[col]}')
            con.execute(f'DELETE FROM "{name}" WHERE run_id = ? AND scenario = ?', [run_id, scenario])
            cols = ", ".join(f'"{c}"' for c in out.columns)
            con.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM _out_df')
    finally:
        con.unregister("_out_df")
    return len(out)


def read_output(con: duckdb.DuckDBPyConnection, name: str, run_id: str | None = None) -> pd.DataFrame:
    """Rows of output table ``name`` for ``run_id`` (default: the latest run that wrote it)."""
    _check_ident(name)
    if not table_exists(con, name):
        raise StoreError(f"the store has no {name!r} table yet")
    if run_id is None:
        row = con.execute(
            f'SELECT o.run_id FROM "{name}" o LEFT JOIN runs r USING (run_id) '
            f"ORDER BY r.started_at DESC NULLS LAST, o.run_id DESC LIMIT 1").fetchone()
        if row is None:
            return con.execute(f'SELECT * FROM "{name}" LIMIT 0').df()
        run_id = row[0]
    return con.execute(f'SELECT * FROM "{name}" WHERE run_id = ?', [run_id]).df()


def new_run_id(prefix: str = "run") -> str:
    return f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, scenario: str, command: str,
              seed: int | None = None, data_fingerprint: str | None = None) -> None:
    con.execute(
        "INSERT OR REPLACE INTO runs (run_id, scenario, command, started_at, data_fingerprint, seed, status) "
        "VALUES (?, ?, ?, now(), ?, ?, 'running')",
        [run_id, scenario, command, data_fingerprint, seed],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, provenance: dict | None = None) -> None:
    con.execute(
        "UPDATE runs SET finished_at = now(), status = ?, provenance = ? WHERE run_id = ?",
        [status, json.dumps(provenance or {}, default=str), run_id],
    )


@contextlib.contextmanager
def recorded_run(con: duckdb.DuckDBPyConnection, prefix: str, scenario: str, command: str,
                 seed: int | None = None) -> Iterator[tuple[str, dict]]:
    """Register a run in ``runs`` and yield ``(run_id, provenance)``; the run is finished ``ok`` with the
    provenance the block filled in, or ``failed`` with the error when the block raises."""
    run_id = new_run_id(prefix)
    start_run(con, run_id, scenario, command, seed, data_fingerprint(con))
    provenance: dict = {}
    try:
        yield run_id, provenance
    except BaseException as e:
        finish_run(con, run_id, "failed", {**provenance, "error": f"{type(e).__name__}: {e}"[:2000]})
        raise
    finish_run(con, run_id, "ok", provenance)


def latest_output(con: duckdb.DuckDBPyConnection, name: str, db: str | Path, hint: str) -> pd.DataFrame:
    """The latest run's rows of output ``name``; a clear error naming the command to run when there are none."""
    df = read_output(con, name) if table_exists(con, name) else None
    if df is None or df.empty:
        raise ValueError(f"{db}: no {name} in the store; run `{hint}` first")
    return df


def data_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A hash of what is in the store's input tables: the lineage of every loaded batch (file hashes)
    plus each input table's row count. Same inputs ⇒ same fingerprint."""
    h = hashlib.sha256()
    for batch in con.execute(
            "SELECT DISTINCT kind, file_hash, mapping_hash FROM lineage WHERE status = 'loaded' "
            "ORDER BY kind, file_hash, mapping_hash").fetchall():
        h.update(repr(batch).encode())
    for name, t in TABLES.items():
        if t.kind in ("dimension", "fact"):
            h.update(f"{name}:{con.execute(f'SELECT count(*) FROM {name}').fetchone()[0]}".encode())
    return h.hexdigest()[:16]
