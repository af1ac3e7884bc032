"""The watch loop end to end on a small demo business: landed files → ingest → signals → actions, a
malformed file quarantined while the others proceed, restart without duplicates, replay."""
import json
import shutil

import pandas as pd
import pytest

from model.signals.commands import watch_command
from model.ssot.demo import generate
from model.ssot.ingest import ingest_manifest
from model.ssot.store import open_store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    generate(d / "raw", skus=40, years=0.5, seed=11)
    db = d / "ssot.duckdb"
    con = open_store(db)
    ingest_manifest(con, d / "raw" / "sources.yaml")
    last = con.execute("SELECT max(ts)::DATE FROM sales").fetchone()[0]
    con.close()
    return db, last


def _day_files(db, landing, last):
    """A next-day batch in canonical columns: every web sale of the last day again, dated a day later,
    and the last inventory snapshot moved one day on."""
    con = open_store(db, read_only=True)
    sales = con.execute("SELECT * FROM sales WHERE ts::DATE = ?", [last]).df()
    inv = con.execute("SELECT * FROM inventory WHERE snapshot_date = (SELECT max(snapshot_date) FROM inventory)").df()
    con.close()
    sales["order_id"] = "next-" + sales["order_id"]
    sales["ts"] = sales["ts"] + pd.Timedelta(days=1)
    inv["snapshot_date"] = pd.to_datetime(inv["snapshot_date"]) + pd.Timedelta(days=1)
    landing.mkdir(parents=True, exist_ok=True)
    sales.to_csv(landing / "sales_next.csv", index=False)
    inv.to_parquet(landing / "inventory_next.parquet", index=False)
    (landing / "sales_broken.csv").write_bytes(b"\xff\xfe garbage \x00\x01")
    return len(sales), len(inv)


def test_watch_once_then_restart_without_duplicates(demo_store, tmp_path):
    src, last = demo_store
    db = tmp_path / "ssot.duckdb"
    shutil.copy(src, db)
    landing = tmp_path / "landing"
    n_sales, n_inv = _day_files(db, landing, last)
    resend = tmp_path / "resend"
    shutil.copytree(landing, resend)
    summary, _ = watch_command(db, landing, None, once=True, interval=0, replay=None)
    cyc = summary["cycles"][0]
    status = {f["path"].split("/")[-1]: f["status"] for f in cyc["files"]}
    assert status == {"sales_next.csv": "loaded", "inventory_next.parquet": "loaded", "sales_broken.csv": "rejected"}
    assert (landing / "failed" / "sales_broken.csv").exists()
    assert (landing / "processed" / "sales_next.csv").exists()
    con = open_store(db)
    assert con.execute("SELECT count(*) FROM sales WHERE order_id LIKE 'next-%'").fetchone()[0] == n_sales
    n_actions = con.execute("SELECT count(*) FROM actions").fetchone()[0]
    assert n_actions == summary["actions_new"] > 0
    types = {r[0] for r in con.execute("SELECT DISTINCT action_type FROM actions").fetchall()}
    assert types <= {"purchase_order", "price_change", "staffing_change"}
    row = con.execute("SELECT status, signal_id, before_value, expected_impact FROM actions LIMIT 1").fetchone()
    assert row[0] in ("proposed", "auto-approved") and row[1] and json.loads(row[3]) is not None
    con.close()
    outbox = tmp_path / "actions.jsonl"
    assert len(outbox.read_text().splitlines()) == n_actions
    # restart: the same files land again (a re-sent export) → nothing new, no duplicate action
    for f in resend.iterdir():
        shutil.copy(f, landing / f.name)
    summary2, _ = watch_command(db, landing, None, once=True, interval=0, replay=None)
    marks = {f["path"].split("/")[-1]: f["status"] for f in summary2["cycles"][0]["files"]}
    assert marks == {"sales_next.csv": "duplicate", "inventory_next.parquet": "duplicate",
                     "sales_broken.csv": "rejected"}
    assert summary2["actions_new"] == 0
    con = open_store(db, read_only=True)
    assert con.execute("SELECT count(*) FROM actions").fetchone()[0] == n_actions
    con.close()


def test_replay_reports_what_the_loop_would_have_done(demo_store, tmp_path):
    src, last = demo_store
    db = tmp_path / "r.duckdb"
    shutil.copy(src, db)
    start = (pd.Timestamp(last) - pd.Timedelta(days=2)).date().isoformat()
    summary, text = watch_command(db, None, None, once=False, interval=0, replay=(start, last.isoformat()))
    assert [d["as_of"] for d in summary["days"]] == [
        (pd.Timestamp(start) + pd.Timedelta(days=k)).date().isoformat() for k in range(3)]
    assert summary["actions_total"] == sum(sum(d["actions_by_type"].values()) for d in summary["days"])
    assert summary["seconds_per_day"]["p95"] > 0
    con = open_store(db, read_only=True)   # replay writes no actions
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'actions'").fetchone()[0] in (0, 1)
    con.close()
    with pytest.raises(ValueError, match="after TO"):
        watch_command(db, None, None, once=False, interval=0, replay=(last.isoformat(), start))
