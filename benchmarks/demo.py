"""Demo-business generation: time, rows, size on disk and peak memory per size, against a reference.

    python benchmarks/demo.py [--sizes 500x3,5000x1,50000x1] [--workdir DIR] [--seed 7]

For every ``SKUSxYEARS`` size, in its own fresh process:

* ``demo``      — :func:`model.ssot.demo.generate` (prices, demand, stock, orders, every export, truth);
* ``reference`` — DuckDB writing the same number of raw rows (five random columns) to one Parquet file,
  i.e. the cost of merely materialising that many rows.

Prints seconds, raw rows, rows/s, MB written and peak resident memory (``ru_maxrss`` of the child), and
the ratio demo seconds / reference seconds. Goals (issue 2): the default 500 × 3 in ≤ ~20 s with
≤ ~1.5 M raw rows; 50,000 × 1 in minutes and a few GB at most.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child_demo(out: Path, skus: int, years: float, seed: int) -> dict:
    from model.ssot.demo import generate
    t0 = time.perf_counter()
    summary = generate(out, skus=skus, years=years, seed=seed)
    return {"seconds": time.perf_counter() - t0, "rows": summary["rows_total"],
            "mb": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2 ** 20}


def child_reference(out: Path, rows: int) -> dict:
    import duckdb
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    t0 = time.perf_counter()
    con.execute(f"COPY (SELECT i, random() AS a, random() AS b, (random() * 100)::INT AS c, "
                f"'A' || (i % 50000) AS s FROM range({rows}) t(i)) TO '{out / 'ref.parquet'}' (FORMAT parquet)")
    return {"seconds": time.perf_counter() - t0, "rows": rows, "mb": (out / "ref.parquet").stat().st_size / 2 ** 20}


def _in_child(kind: str, **kw) -> dict:
    """Run one measurement in a fresh interpreter; adds the child's peak RSS in MB."""
    code = (f"import json, resource, sys; sys.path.insert(0, {str(REPO)!r}); from pathlib import Path; "
            f"import benchmarks.demo as b; r = b.child_{kind}(**{{k: (Path(v) if k == 'out' else v) for k, v in "
            f"json.loads(sys.argv[1]).items()}}); r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF)"
            f".ru_maxrss / 1024; print(json.dumps(r))")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(kw, default=str)], capture_output=True,
                          text=True, check=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500x3,5000x1", help="comma-separated SKUSxYEARS")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        print(f"{'size':>10} {'what':>9} {'seconds':>8} {'rows':>11} {'rows/s':>10} {'MB':>7} {'peak MB':>8} "
              f"{'ratio':>6}")
        for size in args.sizes.split(","):
            skus, years = size.split("x")
            out = Path(tmp) / size
            demo = _in_child("demo", out=str(out), skus=int(skus), years=float(years), seed=args.seed)
            ref = _in_child("reference", out=str(Path(tmp) / f"{size}-ref"), rows=demo["rows"])
            for what, r in (("demo", demo), ("reference", ref)):
                ratio = demo["seconds"] / ref["seconds"] if what == "demo" else 1.0
                print(f"{size:>10} {what:>9} {r['seconds']:8.1f} {r['rows']:11,d} {r['rows'] / r['seconds']:10,.0f} "
                      f"{r['mb']:7.1f} {r['peak_mb']:8.0f} {ratio:6.1f}")


if __name__ == "__main__":
    main()
