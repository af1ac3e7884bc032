"""Ingest pipeline: mapping features, formats, counts, quarantine, idempotent upsert, atomic batches."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.ssot import ingest as ingest_mod
from model.ssot.ingest import IngestError, ingest_command, ingest_file, ingest_manifest
from model.ssot.store import open_store

REPO = Path(__file__).resolve().parents[1]

SKU_CSV = "sku_id,name,unit_cost,list_price\nA,apple,1.0,2.0\nB,banana,0.5,1.0\nC,cherry,3.0,5.0\n"
LOC_CSV = "location_id,type\nS1,store\nWEB,web\n"
SALES_CSV = (
    "order_id,line_no,ts,sku_id,location_id,units,unit_price,promo\n"
    "o1,1,2024-01-01 10:00:00,A,S1,2,1.9,false\n"
    "o1,2,2024-01-01 10:00:00,B,S1,1,0.9,true\n"
    "o2,1,2024-01-02 11:30:00,C,WEB,-1,4.5,false\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def dims(store, tmp_path):
    """A store with three SKUs and two locations."""
    ingest_file(store, write(tmp_path / "sku.csv", SKU_CSV), "sku")
    ingest_file(store, write(tmp_path / "location.csv", LOC_CSV), "location")
    return store


def counts(con) -> dict:
    return dict(con.execute("SELECT 'sales', count(*) FROM sales UNION ALL SELECT 'quarantine', count(*) FROM quarantine "
                            "UNION ALL SELECT 'lineage', count(*) FROM lineage").fetchall())


def test_canonical_csv_loads_every_value(dims, tmp_path):
    r = ingest_file(dims, write(tmp_path / "sales.csv", SALES_CSV), "sales")
    assert (r.rows_read, r.accepted, r.quarantined, r.unchanged) == (3, 3, 0, 0)
    df = dims.execute("SELECT * FROM sales ORDER BY order_id, line_no").df()
    assert df["units"].tolist() == [2.0, 1.0, -1.0]  # negative units are returns (schema allows them)
    assert df["promo"].tolist() == [False, True, False]
    assert df["ts"].iloc[2] == pd.Timestamp("2024-01-02 11:30:00")
    lin = dims.execute("SELECT kind, rows_read, accepted, quarantined, unchanged, status, file_hash FROM lineage "
                       "WHERE batch_id = ?", [r.batch_id]).fetchone()
    assert lin[:6] == ("sales", 3, 3, 0, 0, "loaded") and len(lin[6]) == 64


def test_reingest_adds_nothing_and_changed_rows_are_replaced(dims, tmp_path):
    f = write(tmp_path / "sales.csv", SALES_CSV)
    ingest_file(dims, f, "sales")
    again = ingest_file(dims, f, "sales")
    assert (again.accepted, again.quarantined, again.unchanged) == (0, 0, 3)
    assert dims.execute("SELECT count(*) FROM sales").fetchone()[0] == 3
    changed = write(tmp_path / "sales2.csv", SALES_CSV.replace("o2,1,2024-01-02 11:30:00,C,WEB,-1",
                                                                  "o2,1,2024-01-02 11:30:00,C,WEB,7")
                    + "o3,1,2024-01-03 09:00:00,A,S1,1,1.9,false\n")
    r = ingest_file(dims, changed, "sales")
    assert (r.rows_read, r.accepted, r.unchanged) == (4, 2, 2)  # one replaced, one new
    assert dims.execute("SELECT units FROM sales WHERE order_id = 'o2'").fetchone()[0] == 7.0
    assert dims.execute("SELECT count(*) FROM sales").fetchone()[0] == 4


def test_row_problems_are_quarantined_with_row_field_value_and_raw(dims, tmp_path):
    text = SALES_CSV + ("o3,1,2024-01-03 09:00:00,A,S1,abc,1.0,false\n"      # row 4: wrong type
                        "o4,1,2024-01-03 09:00:00,ZZZ,S1,1,1.0,false\n"      # row 5: unknown SKU
                        "o1,1,2024-01-01 10:00:00,A,S1,5,1.9,false\n"        # row 6: duplicate of row 1
                        "o5,1,yesterday,A,S1,1,1.0,false\n"                  # row 7: unparseable timestamp
                        "o6,1,2024-01-03 09:00:00,A,S1,5000000,1.0,false\n")  # row 8: absurd quantity
    r = ingest_file(dims, write(tmp_path / "sales.csv", text), "sales")
    assert (r.rows_read, r.accepted, r.quarantined, r.unchanged) == (8, 3, 5, 0)
    q = dims.execute("SELECT row_number, field, value, reason, raw FROM quarantine ORDER BY row_number").fetchall()
    assert [(row, field, value) for row, field, value, _, _ in q] == [
        (4, "units", "abc"), (5, "sku_id", "ZZZ"), (6, "order_id, line_no", "o1, 1"), (7, "ts", "yesterday"),
        (8, "units", "5000000")]
    reasons = [reason for _, _, _, reason, _ in q]
    assert reasons[0] == "bad_type: units expected DOUBLE"
    assert reasons[1] == "unknown_reference: sku_id not found in sku.sku_id"
    assert reasons[2] == "duplicate_key: same (order_id, line_no) as row 1 (kept)"
    assert reasons[4] == "out_of_range: units above maximum 1e+06"
    assert json.loads(q[0][4])["units"] == "abc" and json.loads(q[0][4])["order_id"] == "o3"
    assert dims.execute("SELECT units FROM sales WHERE order_id = 'o1' AND line_no = 1").fetchone()[0] == 2.0


def test_mapping_renames_parses_converts_derives_and_fills_constants(dims, tmp_path):
    src = write(tmp_path / "pos.csv", "receipt;pos;sold_at;article;qty;cents;disc;till\n"
                                      "R1;1;05.01.2024 10:15;A;2;190;0;7\n"
                                      "R1;2;05.01.2024 10:15;B;1;95;10;7\n")
    mapping = write(tmp_path / "pos.yaml", """
kind: sales
csv: {delimiter: ";"}
columns: {order_id: receipt, ts: sold_at, sku_id: article, units: qty, unit_price: cents}
parse: {ts: "%d.%m.%Y %H:%M"}
convert: {unit_price: {multiply: 0.01}}
constants: {location_id: S1}
derive: {line_no: '"pos" - 1', promo: '"disc" > 0'}
extra_columns: ignore
""")
    r = ingest_file(dims, src, "sales", mapping)
    assert (r.accepted, r.quarantined) == (2, 0)
    rows = dims.execute("SELECT order_id, line_no, ts, location_id, unit_price, promo FROM sales ORDER BY line_no").fetchall()
    assert rows[0][:4] == ("R1", 0, pd.Timestamp("2024-01-05 10:15").to_pydatetime(), "S1")
    assert rows[0][4] == pytest.approx(1.9) and rows[0][5] is False
    assert rows[1][1] == 1 and rows[1][4] == pytest.approx(0.95) and rows[1][5] is True
    lin = dims.execute("SELECT mapping_hash FROM lineage WHERE batch_id = ?", [r.batch_id]).fetchone()[0]
    assert lin is not None and len(lin) == 64


def test_unparseable_date_under_a_format_is_bad_date(dims, tmp_path):
    src = write(tmp_path / "s.csv", "order_id,line_no,ts,sku_id,location_id,units\n"
                                    "o1,0,05.01.2024,A,S1,1\no2,0,2024-01-05,A,S1,1\n")
    r = ingest_file(dims, src, "sales", {"parse": {"ts": "%d.%m.%Y"}})
    assert (r.accepted, r.quarantined) == (1, 1)
    assert dims.execute("SELECT row_number, reason FROM quarantine").fetchone() == (2, "bad_date: ts does not match '%d.%m.%Y'")


@pytest.mark.parametrize("fmt", ["csv.gz", "csv.zip", "parquet", "jsonl", "jsonl.gz"])
def test_every_format_gives_the_same_rows(dims, tmp_path, fmt):
    df = pd.read_csv(pd.io.common.StringIO(SALES_CSV), dtype=str)
    path = tmp_path / f"sales.{fmt}"
    if fmt == "csv.gz":
        path.write_bytes(gzip.compress(SALES_CSV.encode()))
    elif fmt == "csv.zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("sales.csv", SALES_CSV)
    elif fmt == "parquet":
        df.assign(units=df["units"].astype(float), line_no=df["line_no"].astype(int),
                  ts=pd.to_datetime(df["ts"]), promo=df["promo"] == "true").to_parquet(path)
    else:
        text = "\n".join(json.dumps(rec) for rec in df.to_dict("records")) + "\n"
        path.write_bytes(gzip.compress(text.encode()) if fmt.endswith(".gz") else text.encode())
    r = ingest_file(dims, path, "sales")
    assert (r.rows_read, r.accepted, r.quarantined) == (3, 3, 0)
    got = dims.execute("SELECT order_id, line_no, ts, units, promo FROM sales ORDER BY order_id, line_no").fetchall()
    ref = open_store(":memory:")
    ingest_file(ref, write(tmp_path / "sku.csv", SKU_CSV), "sku")
    ingest_file(ref, write(tmp_path / "location.csv", LOC_CSV), "location")
    ingest_file(ref, write(tmp_path / "ref.csv", SALES_CSV), "sales")
    assert got == ref.execute("SELECT order_id, line_no, ts, units, promo FROM sales ORDER BY order_id, line_no").fetchall()


def test_failure_mid_batch_leaves_the_store_exactly_as_before(dims, tmp_path, monkeypatch):
    bad = SALES_CSV + "o9,1,2024-01-03 09:00:00,ZZZ,S1,1,1.0,false\n"
    before = counts(dims)

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest_mod, "_lineage", crash)  # fails after quarantine + upsert ran
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_file(dims, write(tmp_path / "s.csv", bad), "sales")
    assert counts(dims) == before
    monkeypatch.undo()
    r = ingest_file(dims, tmp_path / "s.csv", "sales")  # and the store still works
    assert (r.accepted, r.quarantined) == (3, 1)


def test_manifest_loads_in_dependency_order_with_sql_entries(store, tmp_path):
    write(tmp_path / "sales.csv", SALES_CSV)
    write(tmp_path / "sku.csv", SKU_CSV)
    write(tmp_path / "items.csv", "product,qty\nA,2\nA,3\nB,1\n")
    write(tmp_path / "loc.csv", "code,kind\nS1,store\nWEB,web\n")
    manifest = write(tmp_path / "sources.yaml", """
name: tiny-shop
views: {items: items.csv}
files:
  - {path: sales.csv, kind: sales}
  - {sql: "SELECT product, sum(CAST(qty AS INT)) AS total FROM items GROUP BY product ORDER BY product",
     name: totals, kind: competitor_prices,
     mapping: {columns: {sku_id: product, price: total}, constants: {date: 2024-01-01, competitor: X}}}
  - {path: sku.csv, kind: sku}
  - {path: loc.csv, kind: location, mapping: {columns: {location_id: code, type: kind}}}
""")
    res = ingest_manifest(store, manifest)
    assert [b.kind for b in res.batches] == ["location", "sku", "sales", "competitor_prices"]
    assert res.totals() == {"rows_read": 10, "accepted": 10, "quarantined": 0, "unchanged": 0}
    assert store.execute("SELECT sku_id, price FROM competitor_prices ORDER BY sku_id").fetchall() == [("A", 5.0), ("B", 1.0)]
    assert res.batches[-1].source == "sql:totals"
    again = ingest_manifest(store, manifest)
    assert again.totals()["unchanged"] == 10 and again.totals()["accepted"] == 0


def test_manifest_stops_at_a_refused_file_and_keeps_earlier_batches(store, tmp_path):
    write(tmp_path / "sku.csv", SKU_CSV)
    write(tmp_path / "loc.csv", "location_id,type,colour\nS1,store,red\n")  # extra column: refused
    write(tmp_path / "sales.csv", SALES_CSV)
    manifest = write(tmp_path / "m.yaml", "files:\n  - {path: sales.csv, kind: sales}\n"
                                          "  - {path: sku.csv, kind: sku}\n  - {path: loc.csv, kind: location}\n")
    with pytest.raises(IngestError, match="colour map to nothing") as err:
        ingest_manifest(store, manifest)
    res = err.value.result
    assert [b.status for b in res.batches] == ["rejected"] and res.skipped == [str(tmp_path / "sku.csv"),
                                                                                  str(tmp_path / "sales.csv")]
    summary, ok = res.summary(), res.ok
    assert not ok and summary["totals"]["rows_read"] == 0


def test_ingest_command_json_shapes_and_exit_status(tmp_path):
    db = tmp_path / "ssot.duckdb"
    write(tmp_path / "sku.csv", SKU_CSV)
    write(tmp_path / "loc.csv", LOC_CSV)
    manifest = write(tmp_path / "m.yaml", "files:\n  - {path: sku.csv, kind: sku}\n  - {path: loc.csv, kind: location}\n")
    summary, ok = ingest_command(db, [], None, None, manifest)
    assert ok and summary["totals"] == {"rows_read": 5, "accepted": 5, "quarantined": 0, "unchanged": 0}
    assert {f["kind"] for f in summary["files"]} == {"sku", "location"} and "file" in summary["files"][0]
    summary, ok = ingest_command(db, [write(tmp_path / "s.csv", SALES_CSV)], "sales", None, None)
    assert ok and set(summary) == {"batch_id", "rows_read", "accepted", "quarantined", "unchanged"}
    summary, ok = ingest_command(db, [write(tmp_path / "e.csv", "")], "sales", None, None)
    assert not ok and "empty file" in summary["error"]
    with pytest.raises(IngestError, match="not both"):
        ingest_command(db, [tmp_path / "s.csv"], "sales", None, manifest)
    more = write(tmp_path / "s2.csv", SALES_CSV.replace("o1,", "o7,"))
    summary, ok = ingest_command(db, [tmp_path / "s.csv", more, tmp_path / "e.csv", tmp_path / "s.csv"], "sales",
                                 None, None)
    assert not ok and [f["file"] for f in summary["files"]] == [str(tmp_path / n) for n in ("s.csv", "s2.csv", "e.csv")]
    assert summary["totals"] == {"rows_read": 6, "accepted": 2, "quarantined": 0, "unchanged": 4}
    assert summary["skipped"] == [str(tmp_path / "s.csv")] and "empty file" in summary["error"]


def test_cli_prints_json_and_fails_on_a_refused_file(tmp_path):
    db = tmp_path / "ssot.duckdb"
    sku = write(tmp_path / "sku.csv", SKU_CSV)
    ok = subprocess.run([sys.executable, "run.py", "ingest", "--db", str(db), "--kind", "sku", str(sku), "--json"],
                        cwd=REPO, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["accepted"] == 3
    bad = subprocess.run([sys.executable, "run.py", "ingest", "--db", str(db), "--kind", "nonsense", str(sku), "--json"],
                         cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown kind 'nonsense'" in json.loads(bad.stdout)["error"]


GOOD = st.tuples(st.sampled_from("ABC"), st.integers(0, 50))
BAD = st.sampled_from(["units=abc", "sku=ZZZ", "ts=never", "units=-2e6", "loc=", "price=-1"])
DUP = st.just("dup")  # a valid row reusing the key (o0, 0) of the first row


def _sales_line(i: int, row) -> str:
    if row == "dup":
        return "o0,0,2024-01-02,B,S1,1,1.5"
    if isinstance(row, tuple):
        return f"o{i},0,2024-01-01,{row[0]},S1,{row[1]},1.5"
    field, value = row.split("=")
    v = {"units": "1", "sku": "A", "ts": "2024-01-01", "loc": "S1", "price": "1.5"} | {field: value}
    return f"o{i},0,{v['ts']},{v['sku']},{v['loc']},{v['units']},{v['price']}"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(GOOD, BAD, DUP), min_size=1, max_size=40), reingest=st.booleans())
def test_counts_always_add_up(tmp_path, rows, reingest):
    """rows_read = accepted + quarantined + unchanged on any mix; exactly the bad rows and the repeats of
    an already valid key are quarantined; re-ingest turns every accepted row into unchanged."""
    con = open_store(":memory:")
    ingest_file(con, write(tmp_path / "sku.csv", SKU_CSV), "sku")
    ingest_file(con, write(tmp_path / "location.csv", LOC_CSV), "location")
    lines = ["order_id,line_no,ts,sku_id,location_id,units,unit_price"]
    lines += [_sales_line(i, row) for i, row in enumerate(rows)]
    f = write(tmp_path / "sales.csv", "\n".join(lines) + "\n")
    n_bad = sum(isinstance(r, str) and r != "dup" for r in rows)
    first_valid = isinstance(rows[0], tuple) or rows[0] == "dup"
    valid_o0 = int(first_valid) + sum(r == "dup" for r in rows[1:])  # valid rows with the key (o0, 0)
    n_quarantined = n_bad + max(valid_o0 - 1, 0)  # all but the first valid (o0, 0) are duplicates
    n_loaded = len(rows) - n_quarantined
    r = ingest_file(con, f, "sales")
    if reingest:
        r = ingest_file(con, f, "sales")
    assert r.rows_read == r.accepted + r.quarantined + r.unchanged == len(rows)
    assert r.quarantined == n_quarantined
    assert (r.unchanged, r.accepted) == ((n_loaded, 0) if reingest else (0, n_loaded))
    assert con.execute("SELECT count(*) FROM sales").fetchone()[0] == n_loaded
    con.close()


def test_bad_value_beyond_any_sniffing_sample_is_quarantined_not_fatal(dims, tmp_path):
    """DuckDB may push casts into its CSV reader; ingest reads text and must still quarantine row 25,000."""
    lines = [f"o{i},0,2024-01-01,A,S1,{i % 9}" for i in range(25_000)] + ["o_bad,0,2024-01-01,A,S1,lots"]
    f = write(tmp_path / "s.csv", "order_id,line_no,ts,sku_id,location_id,units\n" + "\n".join(lines) + "\n")
    r = ingest_file(dims, f, "sales", {"derive": {"unit_price": '"line_no" + 1.5'}})
    assert (r.rows_read, r.accepted, r.quarantined) == (25_001, 25_000, 1)
    assert dims.execute("SELECT row_number, field FROM quarantine").fetchone() == (25_001, "units")


def test_row_numbers_follow_the_file_for_multi_row_group_parquet_and_jsonl(dims, tmp_path):
    n, bad = 120_000, {17, 64_001, 119_999}  # 0-based lines with a quantity out of range
    df = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "line_no": 0, "ts": pd.Timestamp("2024-01-01"),
                       "sku_id": "A", "location_id": "S1", "units": [-5e6 if i in bad else 1.0 for i in range(n)]})
    df.to_parquet(tmp_path / "s.parquet", row_group_size=10_000)
    df.assign(ts="2024-01-01").to_json(tmp_path / "s.jsonl", orient="records", lines=True)
    for name in ("s.parquet", "s.jsonl"):
        r = ingest_file(dims, tmp_path / name, "sales")
        rows = [x[0] for x in dims.execute("SELECT row_number FROM quarantine WHERE batch_id = ? ORDER BY 1",
                                          [r.batch_id]).fetchall()]
        assert rows == sorted(i + 1 for i in bad)


def test_bom_crlf_and_quoted_fields(store, tmp_path):
    """Excel-style export: UTF-8 BOM, CRLF line ends, ';' delimiter, a quoted name holding ';', quotes and a
    line break. Row numbers count data rows, not physical lines."""
    text = '\ufeffsku_id;name\r\nA;"big; ""bold""\r\napple"\r\nB;banana\r\n;nameless\r\n'
    f = tmp_path / "sku.csv"
    f.write_bytes(text.encode("utf-8"))
    r = ingest_file(store, f, "sku", {"csv": {"delimiter": ";"}})
    assert (r.rows_read, r.accepted, r.quarantined) == (3, 2, 1)
    assert store.execute("SELECT name FROM sku WHERE sku_id = 'A'").fetchone()[0] == 'big; "bold"\r\napple'
    assert store.execute("SELECT row_number, reason FROM quarantine").fetchone() == (3, "missing: sku_id is required")
