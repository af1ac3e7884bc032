"""Signal-to-action latency on a 10,000-SKU store.

Builds the demo business at ``--skus`` SKUs, then drops ``--batches`` daily batches (the day's sales and
end-of-day inventory, in canonical columns) into a landing folder one at a time and runs one watch cycle
for each, measuring the latency from the files landing to the last action committed, split by stage
(ingest, detect, re-plan, write). Prints p50 / p95 and the goal ratio (p95 / 10 s).

    python benchmarks/signals.py [--skus 10000] [--years 0.5] [--batches 8]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.signals import loop  # noqa: E402
from model.ssot.demo import generate  # noqa: E402
from model.ssot.ingest import ingest_manifest  # noqa: E402
from model.ssot.store import new_run_id, open_store  # noqa: E402
from scenarios.schema import Scenario  # noqa: E402

GOAL_P95_S = 10.0


def day_batch(con, day_offset: int, template_day, landing: Path) -> tuple[int, int]:
    """The template day's sales and inventory, shifted ``day_offset`` days later, as landed files."""
    sales = con.execute("SELECT * FROM sales WHERE ts::DATE = ?", [template_day]).df()
    inv = con.execute("SELECT * FROM inventory WHERE snapshot_date = ?", [template_day]).df()
    sales["order_id"] = f"b{day_offset}-" + sales["order_id"]
    sales["ts"] = sales["ts"] + pd.Timedelta(days=day_offset)
    inv["snapshot_date"] = pd.to_datetime(inv["snapshot_date"]) + pd.Timedelta(days=day_offset)
    tmp = landing.parent / "staging"
    tmp.mkdir(exist_ok=True)
    sales.to_csv(tmp / f"sales_{day_offset:03d}.csv", index=False)
    inv.to_parquet(tmp / f"inventory_{day_offset:03d}.parquet", index=False)
    for f in tmp.iterdir():  # land atomically: complete files appear at once
        f.rename(landing / f.name)
    return len(sales), len(inv)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--years", type=float, default=0.5)
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: temporary)")
    a = ap.parse_args()
    work = a.keep or Path(tempfile.mkdtemp(prefix="scaleplan-signals-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    raw = work / "raw"
    if not (raw / "sources.yaml").exists():
        generate(raw, skus=a.skus, years=a.years, seed=5)
    db = work / "ssot.duckdb"
    con = open_store(db)
    if con.execute("SELECT count(*) FROM sales").fetchone()[0] == 0:
        ingest_manifest(con, raw / "sources.yaml")
    print(f"store: {a.skus:,} SKUs, {con.execute('SELECT count(*) FROM sales').fetchone()[0]:,} sales lines "
          f"(built in {time.perf_counter() - t:.0f}s)")
    template = con.execute("SELECT max(ts)::DATE FROM sales").fetchone()[0]
    landing = work / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir()
    scn = Scenario(name="bench")
    run_id = new_run_id("bench")
    rows = []
    for b in range(1, a.batches + 1):
        n_sales, n_inv = day_batch(con, b, template, landing)
        t0 = time.perf_counter()
        rep = loop.run_cycle(con, landing, scn, run_id, work / "actions.jsonl")
        total = time.perf_counter() - t0
        rows.append({"batch": b, "sales_rows": n_sales, "inventory_rows": n_inv, **rep.seconds, "total": total,
                     "signals": sum(rep.signals.values()), "actions_new": rep.actions_new})
        print(f"batch {b}: {n_sales:,} sales + {n_inv:,} inventory rows → {sum(rep.signals.values())} signals, "
              f"{rep.actions_new} new actions in {total:.2f}s "
              f"({', '.join(f'{k} {v:.2f}s' for k, v in rep.seconds.items())})")
    con.close()
    df = pd.DataFrame(rows)
    stages = ["ingest", "detect", "replan", "write", "total"]
    table = pd.DataFrame({s: [np.percentile(df[s], 50), np.percentile(df[s], 95)] for s in stages},
                         index=["p50_s", "p95_s"])
    print("\nlatency from landing to last action committed (seconds):")
    print(table.round(3).to_string())
    p95 = float(table.loc["p95_s", "total"])
    print(f"\np95 {p95:.2f}s vs goal {GOAL_P95_S:.0f}s: ratio {p95 / GOAL_P95_S:.2f} "
          f"({'met' if p95 <= GOAL_P95_S else 'NOT met'}); polling adds up to --interval seconds on top")
    if a.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
