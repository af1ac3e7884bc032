"""The store: one writer per file (a second process gets 'store is busy'), keys enforced, docs in sync."""
from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from model.ssot.ingest import ingest_command, ingest_file
from model.ssot.schema import TABLES, schema_markdown
from model.ssot.store import StoreBusyError, init_schema, open_store

REPO = Path(__file__).resolve().parents[1]
HOLD = ("import duckdb, sys, time\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute('CREATE TABLE IF NOT EXISTS holder (x INT)')\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n")


@contextlib.contextmanager
def held(db: Path):
    """``db`` held open for writing by another process while the block runs."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=30)


@pytest.fixture
def store_file(tmp_path):
    db = tmp_path / "ssot.duckdb"
    con = open_store(db)
    (tmp_path / "sku.csv").write_text("sku_id,name\nA,apple\n")
    ingest_file(con, tmp_path / "sku.csv", "sku")
    con.close()
    return db


def test_second_writer_gets_store_is_busy_and_nothing_breaks(store_file, tmp_path):
    (tmp_path / "more.csv").write_text("sku_id,name\nB,banana\n")
    with held(store_file):
        with pytest.raises(StoreBusyError, match="store is busy"):
            open_store(store_file)
        with pytest.raises(StoreBusyError, match="store is busy"):
            ingest_command(store_file, [tmp_path / "more.csv"], "sku", None, None)
    summary, ok = ingest_command(store_file, [tmp_path / "more.csv"], "sku", None, None)  # holder gone
    assert ok and summary["accepted"] == 1
    con = open_store(store_file, read_only=True)
    assert con.execute("SELECT sku_id FROM sku ORDER BY sku_id").fetchall() == [("A",), ("B",)]
    con.close()


def test_cli_exits_3_with_store_is_busy(store_file, tmp_path):
    with held(store_file):
        cli = subprocess.run([sys.executable, "run.py", "ingest", "--db", str(store_file), "--kind", "sku",
                              str(tmp_path / "sku.csv")], cwd=REPO, capture_output=True, text=True)
    assert cli.returncode == 3 and "store is busy" in cli.stderr


def test_natural_keys_are_enforced(store):
    store.execute("INSERT INTO location (location_id, type) VALUES ('S1', 'store')")
    with pytest.raises(duckdb.ConstraintException):
        store.execute("INSERT INTO location (location_id, type) VALUES ('S1', 'web')")
    with pytest.raises(duckdb.ConstraintException):
        store.execute("INSERT INTO location (location_id) VALUES ('S2')")  # type is required


def test_schema_creation_is_idempotent(store):
    init_schema(store)
    names = {r[0] for r in store.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(TABLES) <= names


def test_docs_ssot_md_carries_the_generated_schema():
    doc = (REPO / "docs" / "ssot.md").read_text(encoding="utf-8")
    assert schema_markdown() in doc, "docs/ssot.md is stale: regenerate its schema section from schema_markdown()"


def test_recorded_run_finishes_ok_or_failed(tmp_path):
    import json

    from model.ssot.store import open_store, recorded_run
    con = open_store(tmp_path / "runs.duckdb")
    with recorded_run(con, "plan-x", "base", "plan", seed=3) as (ok_id, prov):
        prov["solver"] = "optimal"
    with pytest.raises(RuntimeError, match="boom"):
        with recorded_run(con, "plan-x", "base", "plan") as (bad_id, prov):
            raise RuntimeError("boom")
    rows = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    assert rows == {ok_id: "ok", bad_id: "failed"}
    (p,) = con.execute("SELECT provenance FROM runs WHERE run_id = ?", [bad_id]).fetchone()
    assert json.loads(p)["error"] == "RuntimeError: boom"
    con.close()
