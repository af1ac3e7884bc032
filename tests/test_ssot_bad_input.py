"""Bad input: every refused file gets a clear error and leaves the store's tables untouched; every bad
row is quarantined with its reason and the rest of the batch still loads."""
from __future__ import annotations

import gzip
import io
import zipfile

import pandas as pd
import pytest

from model.ssot.ingest import IngestError, ingest_file
from model.ssot.schema import INGEST_KINDS

SKU_CSV = "sku_id,name\nA,apple\nB,banana\n"
LOC_CSV = "location_id,type\nS1,store\n"
HEADER = "order_id,line_no,ts,sku_id,location_id,units\n"
GOOD = HEADER + "o1,0,2024-01-01 10:00:00,A,S1,2\no2,0,2024-01-02 10:00:00,B,S1,1\n"


@pytest.fixture
def dims(store, tmp_path):
    (tmp_path / "sku.csv").write_text(SKU_CSV)
    (tmp_path / "loc.csv").write_text(LOC_CSV)
    ingest_file(store, tmp_path / "sku.csv", "sku")
    ingest_file(store, tmp_path / "loc.csv", "location")
    return store


def table_counts(con) -> dict:
    """Row count of every data table and of quarantine (lineage is allowed one 'rejected' row)."""
    names = [*INGEST_KINDS, "quarantine"]
    return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}


def parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"order_id": ["o1"], "line_no": [0]}).to_parquet(buf)
    return buf.getvalue()


def big_gzip_cut() -> bytes:
    """A gzip file cut in half, whose first 64 KiB still decompress (the damage is found by the reader)."""
    rows = "".join(f"o{i},0,2024-01-01 10:00:00,A,S1,{i % 7}\n" for i in range(60_000))
    blob = gzip.compress((HEADER + rows).encode())
    return blob[: len(blob) // 2]


def two_member_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.csv", GOOD)
        z.writestr("b.csv", GOOD)
    return buf.getvalue()


REFUSED = [
    # (case, file name, content, kind, mapping, expected message)
    ("empty file", "s.csv", b"", "sales", None, r"s\.csv: empty file \(0 bytes\)"),
    ("blank file", "s.csv", b"\n\n", "sales", None, r"empty file: no header and no data rows"),
    ("header only", "s.csv", HEADER.encode(), "sales", None, r"no data rows \(only a header\)"),
    ("truncated", "s.csv", (GOOD + "o3,0,2024-01").encode(), "sales", None,
     r"cannot read as csv \(truncated or garbled\?\): .*Line: 4.*Expected Number of Columns: 6 Found: 3"),
    ("unterminated quote", "s.csv", (GOOD + 'o3,0,"2024-01-01,A,S1,1\n').encode(), "sales", None,
     r"cannot read as csv.*unterminated quote"),
    ("non-UTF-8 body", "s.csv", (GOOD + "o3,0,2024-01-03 10:00:00,A,S1,1\n").encode() + "o4,0,caf\xe9,A,S1,1\n".encode("latin-1"),
     "sales", None, r"not valid utf-8 text: .*Line: 5.*declare the encoding"),
    ("non-UTF-8 header", "s.csv", "order_id,line_no,ts,sku_id,location_id,unités\n".encode("latin-1"), "sales", None,
     r"line 1: not valid utf-8 text.*declare the encoding"),
    ("parquet named .csv", "s.csv", parquet_bytes(), "sales", None,
     r"named as CSV text but the content is Parquet"),
    ("garbage named .gz", "s.csv.gz", b"this is not gzip at all\n", "sales", None, r"named \.gz but not gzip-compressed"),
    ("truncated .gz", "s.csv.gz", gzip.compress((GOOD * 2000).encode())[:300], "sales", None,
     r"corrupt gzip stream: Compressed file ended"),
    ("truncated large .gz", "s.csv.gz", big_gzip_cut(), "sales", None,
     r"cannot read as csv.*Unexpected end of GZIP stream"),
    ("text named .parquet", "s.parquet", GOOD.encode(), "sales", None, r"not a Parquet file.*looks like text"),
    ("truncated parquet", "s.parquet", parquet_bytes()[:-40], "sales", None, r"cannot read as Parquet"),
    ("zip of two files", "s.csv.zip", two_member_zip(), "sales", None, r"exactly one data file, found 2"),
    ("not json lines", "s.jsonl", GOOD.encode(), "sales", None, r"not JSON lines"),
    ("garbled json line", "s.jsonl", b'{"order_id": "o1", "line_no": 0}\n{"order_id": "o2", \n', "sales", None,
     r"s\.jsonl: cannot read as JSON lines"),
    ("unknown extension", "s.xlsx", GOOD.encode(), "sales", None, r"cannot tell the format from the name"),
    ("missing required column", "s.csv", b"order_id,line_no,sku_id,location_id,units\no1,0,A,S1,1\n", "sales", None,
     r"missing required column\(s\) ts for 'sales'"),
    ("extra unmapped column", "s.csv", (HEADER.strip() + ",colour\no1,0,2024-01-01,A,S1,1,red\n").encode(), "sales", None,
     r"column\(s\) colour map to nothing in 'sales'.*extra_columns: ignore"),
    ("duplicate header", "s.csv", b"order_id,order_id,ts\no1,o2,2024-01-01\n", "sales", None,
     r"duplicate column name\(s\) in the header: order_id"),
    ("reserved column name", "s.csv", (HEADER.strip() + ",_row\no1,0,2024-01-01,A,S1,1,7\n").encode(), "sales",
     {"extra_columns": "ignore"}, r"column name\(s\) _row are reserved by ingest"),
    ("unknown kind", "s.csv", GOOD.encode(), "orders", None, r"unknown kind 'orders'"),
    ("mapping renames a missing column", "s.csv", GOOD.encode(), "sales", {"columns": {"units": "qty"}},
     r"renames units <- 'qty', but the file has no such column"),
    ("mapping key unknown", "s.csv", GOOD.encode(), "sales", {"colums": {}}, r"unknown mapping key\(s\) colums"),
    ("mapping for another kind", "s.csv", GOOD.encode(), "sales", {"kind": "sku"}, r"mapping is for kind 'sku'"),
    ("mapping column not canonical", "s.csv", GOOD.encode(), "sales", {"constants": {"colour": "red"}},
     r"colour not column\(s\) of canonical table 'sales'"),
    ("derive is not SQL", "s.csv", GOOD.encode(), "sales", {"derive": {"promo": '"nope" >'}, "columns": {}},
     r"derive\.promo = '\"nope\" >' is not valid SQL"),
]


@pytest.mark.parametrize("case,name,content,kind,mapping,message", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_file_leaves_store_unchanged(dims, tmp_path, case, name, content, kind, mapping, message):
    path = tmp_path / name
    path.write_bytes(content)
    before = table_counts(dims)
    n_lineage = dims.execute("SELECT count(*) FROM lineage").fetchone()[0]
    with pytest.raises(IngestError, match=message) as err:
        ingest_file(dims, path, kind, mapping)
    assert str(path) in str(err.value) or "mapping" in str(err.value) or "kind" in str(err.value)
    assert table_counts(dims) == before
    rejected = dims.execute("SELECT status, rows_read, message FROM lineage ORDER BY started_at DESC LIMIT 1").fetchone()
    assert dims.execute("SELECT count(*) FROM lineage").fetchone()[0] == n_lineage + 1
    assert rejected[:2] == ("rejected", 0) and rejected[2] == str(err.value)


def test_declared_encoding_reads_a_latin1_file(dims, tmp_path):
    path = tmp_path / "sku.csv"
    path.write_bytes("sku_id,name\nC,café crème\n".encode("latin-1"))
    with pytest.raises(IngestError, match=r"not valid utf-8 text: .*Line: 2.*declare the encoding"):
        ingest_file(dims, path, "sku")
    r = ingest_file(dims, path, "sku", {"csv": {"encoding": "latin-1"}})
    assert r.accepted == 1
    assert dims.execute("SELECT name FROM sku WHERE sku_id = 'C'").fetchone()[0] == "café crème"


def test_declared_utf16_file_loads(dims, tmp_path):
    path = tmp_path / "sku.csv"
    path.write_bytes("sku_id,name\nD,Äpfel\nE,Bär\n".encode("utf-16"))
    with pytest.raises(IngestError, match="content is binary"):
        ingest_file(dims, path, "sku")
    assert ingest_file(dims, path, "sku", {"csv": {"encoding": "utf-16"}}).accepted == 2
    assert dims.execute("SELECT name FROM sku WHERE sku_id = 'E'").fetchone()[0] == "Bär"


def test_extra_columns_ignore_drops_them(dims, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER.strip() + ",colour\no1,0,2024-01-01,A,S1,1,red\n")
    assert ingest_file(dims, path, "sales", {"extra_columns": "ignore"}).accepted == 1


ROWS = [
    # (case, kind, csv text, expected (row, field, reason))
    ("wrong type", "sales", HEADER + "o1,0,2024-01-01,A,S1,two\n", (1, "units", "bad_type: units expected DOUBLE")),
    ("fractional line number", "sales", HEADER + "o1,0.5,2024-01-01,A,S1,1\n",
     (1, "line_no", "bad_type: line_no expected a whole number")),
    ("unparseable date", "sales", HEADER + "o1,0,31/12/2024,A,S1,1\n", (1, "ts", "bad_type: ts expected TIMESTAMP")),
    ("missing required value", "sales", HEADER + "o1,0,,A,S1,1\n", (1, "ts", "missing: ts is required")),
    ("absurd quantity", "sales", HEADER + "o1,0,2024-01-01,A,S1,1e9\n", (1, "units", "out_of_range: units above maximum 1e+06")),
    ("not a number", "sales", HEADER + "o1,0,2024-01-01,A,S1,nan\n", (1, "units", "bad_type: units is not a finite number")),
    ("unknown SKU", "sales", HEADER + "o1,0,2024-01-01,Q,S1,1\n",
     (1, "sku_id", "unknown_reference: sku_id not found in sku.sku_id")),
    ("unknown location", "sales", HEADER + "o1,0,2024-01-01,A,S9,1\n",
     (1, "location_id", "unknown_reference: location_id not found in location.location_id")),
    ("negative stock", "inventory", "snapshot_date,sku_id,location_id,on_hand\n2024-01-01,A,S1,-3\n",
     (1, "on_hand", "out_of_range: on_hand below minimum 0")),
    ("not an allowed value", "location", "location_id,type\nS2,shop\n",
     (1, "type", "not_allowed: type must be one of store | warehouse | web | marketplace")),
    ("duplicate key", "sales", HEADER + "o1,0,2024-01-01,A,S1,1\no1,0,2024-01-02,B,S1,5\n",
     (2, "order_id, line_no", "duplicate_key: same (order_id, line_no) as row 1 (kept)")),
]


@pytest.mark.parametrize("case,kind,text,expected", ROWS, ids=[c[0] for c in ROWS])
def test_bad_row_is_quarantined_and_the_rest_loads(dims, tmp_path, case, kind, text, expected):
    path = tmp_path / "f.csv"
    header, *rows = text.splitlines()
    good = {"sales": "o9,0,2024-01-05,B,S1,3", "inventory": "2024-01-01,B,S1,4", "location": "S3,warehouse"}[kind]
    path.write_text("\n".join([header, *rows, good]) + "\n")
    before = dims.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
    r = ingest_file(dims, path, kind)
    assert r.rows_read == len(rows) + 1 and r.accepted == len(rows) and r.quarantined == 1
    assert dims.execute(f"SELECT count(*) FROM {kind}").fetchone()[0] == before + len(rows)
    q = dims.execute("SELECT row_number, field, reason FROM quarantine WHERE batch_id = ?", [r.batch_id]).fetchall()
    assert q == [expected]


def test_a_row_with_several_problems_lists_each(dims, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "o1,0,never,Q,S1,-5e6\n")
    r = ingest_file(dims, path, "sales")
    assert r.quarantined == 1 and r.rows_read == 1
    reasons = {x[0] for x in dims.execute("SELECT reason FROM quarantine WHERE batch_id = ?", [r.batch_id]).fetchall()}
    assert reasons == {"bad_type: ts expected TIMESTAMP", "unknown_reference: sku_id not found in sku.sku_id",
                       "out_of_range: units below minimum -1e+06"}


MANIFESTS = [
    ("not a list", "files: sku.csv\n", r"'files' must be a non-empty list"),
    ("unknown key", "name: x\nowner: me\nfiles: [{path: sku.csv, kind: sku}]\n", r"unknown manifest key\(s\) owner"),
    ("entry key", "files: [{path: sku.csv, kind: sku, table: sku}]\n", r"files\[0\]: unknown key\(s\) table"),
    ("path and sql", "files: [{path: sku.csv, sql: SELECT 1, kind: sku}]\n", r"files\[0\]: give exactly one of 'path'"),
    ("unknown kind", "files: [{path: sku.csv, kind: skus}]\n", r"files\[0\]: kind 'skus' unknown"),
    ("missing mapping file", "files: [{path: sku.csv, kind: sku, mapping: nope.yaml}]\n", r"nope\.yaml: mapping not found"),
    ("bad view name", "views: {sales: sku.csv}\nfiles: [{sql: SELECT 1, kind: sku}]\n", r"views\.sales: view names"),
    ("invalid YAML", "files: [{path: sku.csv, kind: sku\n", r"invalid YAML in sources manifest"),
]


@pytest.mark.parametrize("case,text,message", MANIFESTS, ids=[m[0] for m in MANIFESTS])
def test_invalid_manifest_is_refused_before_anything_loads(dims, tmp_path, case, text, message):
    from model.ssot.ingest import ingest_manifest

    (tmp_path / "sku.csv").write_text("sku_id,name\nZ,zucchini\n")
    (tmp_path / "m.yaml").write_text(text)
    before = table_counts(dims)
    with pytest.raises(IngestError, match=message):
        ingest_manifest(dims, tmp_path / "m.yaml")
    assert table_counts(dims) == before


def test_manifest_with_a_missing_view_file_loads_nothing(dims, tmp_path):
    from model.ssot.ingest import ingest_manifest

    (tmp_path / "sku.csv").write_text("sku_id,name\nZ,zucchini\n")
    (tmp_path / "m.yaml").write_text("views: {extra: gone.csv}\nfiles:\n  - {path: sku.csv, kind: sku}\n"
                                     "  - {sql: SELECT * FROM extra, kind: competitor_prices}\n")
    before = table_counts(dims)
    with pytest.raises(IngestError, match=r"gone\.csv: file not found") as err:
        ingest_manifest(dims, tmp_path / "m.yaml")
    assert table_counts(dims) == before
    assert err.value.result.skipped == [str(tmp_path / "sku.csv"), "sql:competitor_prices_1"]


def test_invalid_query_is_refused(dims):
    from model.ssot.ingest import ingest_query

    before = table_counts(dims)
    with pytest.raises(IngestError, match=r"sql:broken: invalid query: .*no_such_table"):
        ingest_query(dims, "SELECT * FROM no_such_table", "sku", label="sql:broken")
    assert table_counts(dims) == before


def test_json_key_first_seen_late_is_an_extra_column(dims, tmp_path):
    lines = [f'{{"sku_id": "J{i}", "name": "item {i}"}}' for i in range(30_000)] + ['{"sku_id": "JX", "colour": "red"}']
    path = tmp_path / "sku.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestError, match="colour map to nothing"):
        ingest_file(dims, path, "sku")


def test_every_column_problem_is_named_at_once(dims, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("order_id,line_no,sku_id,location_id,qty,colour\no1,0,A,S1,1,red\n")
    with pytest.raises(IngestError) as err:
        ingest_file(dims, path, "sales", {"columns": {"units": "quantity"}})
    msg = str(err.value)
    assert "renames units <- 'quantity'" in msg and "missing required column(s) ts" in msg
    assert "column(s) qty, colour map to nothing" in msg and "(file columns: order_id, line_no" in msg
