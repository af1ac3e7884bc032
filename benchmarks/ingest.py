"""Ingest throughput and peak memory against DuckDB's own CSV load of the same file.

    python benchmarks/ingest.py [--rows 5000000] [--workdir DIR] [--memory-limit 1.5GB] [--repeat N]

1. Generates a sales CSV of ``--rows`` lines (deterministic: every value is a function of the line index;
   one line in 100,000 carries a non-numeric quantity, so quarantine is exercised) plus the ``sku``
   (50,000) and ``location`` (20) files it references.
2. Runs, each in its own fresh process with the same DuckDB memory limit (default: ingest's own,
   ``model.ssot.ingest.MEMORY_LIMIT``) and a fresh store file:
   * ``raw``    — ``CREATE TABLE sales AS SELECT * FROM read_csv(file)`` (DuckDB's sniffer, no checks);
   * ``raw_pk`` — the same reader inserting into the canonical ``sales`` table, whose primary key
     (natural key, needed for idempotent upserts) DuckDB maintains as an ART index: the keyed floor;
   * ``ingest`` — :func:`model.ssot.ingest.ingest_file` (map, validate, quarantine, upsert, lineage);
     it also checks that the quarantined rows carry the right 1-based row numbers of the file.
3. Prints rows/s of each, the ratios ingest / raw and ingest / raw_pk, and each process's peak resident memory
   (``ru_maxrss`` of the child: DuckDB allocates outside Python, so tracemalloc would not see it).
Goal (issue 2): ratio ≥ 0.5 and peak memory < 2 GB.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from model.ssot.ingest import MEMORY_LIMIT, configure, ingest_file
from model.ssot.store import open_store

N_SKUS, N_LOCATIONS, BAD_EVERY = 50_000, 20, 100_000


def generate(workdir: Path, rows: int) -> dict[str, Path]:
    """Write sales.csv (``rows`` lines), sku.csv and location.csv; returns their paths."""
    files = {k: workdir / f"{k}.csv" for k in ("sales", "sku", "location")}
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'SKU' || lpad(i::VARCHAR, 5, '0') AS sku_id, 'item ' || i AS name, "
                f"round(1 + (i % 97) * 0.37, 2) AS unit_cost FROM range({N_SKUS}) t(i)) "
                f"TO '{files['sku']}' (HEADER)")
    con.execute(f"COPY (SELECT 'L' || i AS location_id, CASE WHEN i = 0 THEN 'web' ELSE 'store' END AS type "
                f"FROM range({N_LOCATIONS}) t(i)) TO '{files['location']}' (HEADER)")
    con.execute(
        f"COPY (SELECT 'O' || (i // 3) AS order_id, i % 3 AS line_no, "
        f"strftime(TIMESTAMP '2023-01-01' + to_seconds(i * 6), '%Y-%m-%d %H:%M:%S') AS ts, "
        f"'SKU' || lpad(((i * 7919) % {N_SKUS})::VARCHAR, 5, '0') AS sku_id, 'L' || (i % {N_LOCATIONS}) AS location_id, "
        f"CASE WHEN i % {BAD_EVERY} = 99 THEN 'n/a' ELSE (1 + i % 5)::VARCHAR END AS units, "
        f"round(2 + (i % 1000) * 0.01, 2) AS unit_price, (i % 10 = 0) AS promo "
        f"FROM range({rows}) t(i)) TO '{files['sales']}' (HEADER)")
    con.close()
    return files


def child_raw(files: dict[str, Path], db: Path, memory_limit: str) -> dict:
    con = duckdb.connect(str(db))
    con.execute(f"SET memory_limit = '{memory_limit}'")
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE sales AS SELECT * FROM read_csv('{files['sales']}')")
    seconds = time.perf_counter() - t0
    rows = con.execute("SELECT count(*) FROM sales").fetchone()[0]
    con.close()
    return {"seconds": seconds, "rows": rows}


def child_raw_pk(files: dict[str, Path], db: Path, memory_limit: str) -> dict:
    """Reference: DuckDB's reader straight into the canonical ``sales`` table (primary key, NOT NULLs),
    no validation beyond dropping the rows whose quantity is not a number."""
    con = open_store(db)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    t0 = time.perf_counter()
    con.execute(f"INSERT INTO sales (order_id, line_no, ts, sku_id, location_id, units, unit_price, promo) "
                f"SELECT order_id, line_no, ts, sku_id, location_id, TRY_CAST(units AS DOUBLE), unit_price, promo "
                f"FROM read_csv('{files['sales']}') WHERE TRY_CAST(units AS DOUBLE) IS NOT NULL")
    seconds = time.perf_counter() - t0
    rows = con.execute("SELECT count(*) FROM sales").fetchone()[0]
    con.close()
    return {"seconds": seconds, "rows": rows}


def child_ingest(files: dict[str, Path], db: Path, memory_limit: str) -> dict:
    con = open_store(db)
    configure(con, memory_limit)
    ingest_file(con, files["location"], "location")
    ingest_file(con, files["sku"], "sku")
    t0 = time.perf_counter()
    r = ingest_file(con, files["sales"], "sales")
    seconds = time.perf_counter() - t0
    rows = [x[0] for x in con.execute("SELECT row_number FROM quarantine ORDER BY 1").fetchall()]
    expected = [i + 1 for i in range(99, r.rows_read, BAD_EVERY)]  # line i is bad when i % BAD_EVERY == 99
    con.close()
    return {"seconds": seconds, "rows": r.rows_read, **r.summary(), "row_numbers_match_file": rows == expected}


def run_child(mode: str, workdir: Path, memory_limit: str) -> dict:
    """Run one measurement in a fresh process; its JSON line carries its own ru_maxrss."""
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--workdir", str(workdir),
                          "--memory-limit", memory_limit], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--memory-limit", default=MEMORY_LIMIT)
    ap.add_argument("--repeat", type=int, default=1, help="alternate raw/ingest N times, report the best of each")
    ap.add_argument("--child", choices=tuple(CHILDREN), default=None)
    args = ap.parse_args()
    if args.child:
        files = {k: args.workdir / f"{k}.csv" for k in ("sales", "sku", "location")}
        fn = CHILDREN[args.child]
        db = args.workdir / f"{args.child}.duckdb"
        for stale in (db, db.with_suffix(".duckdb.wal")):
            stale.unlink(missing_ok=True)  # every measurement starts from an empty store
        res = fn(files, db, args.memory_limit)
        res["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res))
        return
    with tempfile.TemporaryDirectory(prefix="scaleplan-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        generate(workdir, args.rows)
        size_mb = (workdir / "sales.csv").stat().st_size / 2**20
        print(f"generated {args.rows:,} lines ({size_mb:,.0f} MiB) in {time.perf_counter() - t0:.1f} s")
        runs = [{m: run_child(m, workdir, args.memory_limit) for m in CHILDREN} for _ in range(args.repeat)]
    best = {m: min((r[m] for r in runs), key=lambda x: x["seconds"]) for m in CHILDREN}
    rps = {m: b["rows"] / b["seconds"] for m, b in best.items()}
    for m, label in (("raw", "duckdb read_csv → table"), ("raw_pk", "read_csv → sales (PK)"),
                     ("ingest", "scaleplan ingest_file")):
        print(f"{label:24}: {best[m]['seconds']:7.2f} s  {rps[m]:12,.0f} rows/s  peak RSS {best[m]['maxrss_mb']:7.0f} MB")
    print(f"ratio ingest / raw      : {rps['ingest'] / rps['raw']:.2f}   (goal ≥ 0.50; peak memory goal < 2048 MB)")
    print(f"ratio ingest / raw_pk   : {rps['ingest'] / rps['raw_pk']:.2f}   (validation + quarantine + lineage overhead "
          f"over the keyed load)")
    ing = best["ingest"]
    print(f"accepted {ing['accepted']:,}, quarantined {ing['quarantined']:,} (row numbers match the file: "
          f"{ing['row_numbers_match_file']})")
    print(json.dumps({**best, "ratio": rps["ingest"] / rps["raw"], "ratio_pk": rps["ingest"] / rps["raw_pk"]}))


CHILDREN = {"raw": child_raw, "raw_pk": child_raw_pk, "ingest": child_ingest}

if __name__ == "__main__":
    main()
