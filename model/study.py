"""The annual scenario study: SSOT → forecast → pricing → replenishment → roster → simulation → report.

``run_study(scenario)`` runs the chain stage by stage with timings and progress, writes every stage's
tables to the SSOT (keyed by run id and scenario) and to ``out/<scenario>/tables/`` (Parquet + CSV),
the merged ``scenario.yaml`` and ``provenance.json``, then renders ``report.html`` and ``report.pdf``.
A failing stage stops the study with :class:`StageFailed` naming the stage and the reason.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

import scenarios
from model.ssot import store as ssot_store
from model.stage import StageContext, StageResult
from scenarios.schema import Scenario

STAGES = ("forecast", "pricing", "inventory", "workforce", "simulation")
PACKAGES = ("scaleplan", "duckdb", "pyomo", "highspy", "simpy", "statsforecast", "torch", "pytorch-forecasting",
            "lightning", "pandas", "numpy", "pydantic", "altair", "weasyprint", "ibis-framework")


class StageFailed(RuntimeError):
    def __init__(self, stage: str, reason: str):
        self.stage, self.reason = stage, reason
        super().__init__(f"stage '{stage}' failed: {reason}")

    def __reduce__(self):  # picklable, so a batch worker's failure reaches the parent intact
        return StageFailed, (self.stage, self.reason)


@dataclass
class StudyResult:
    scenario: Scenario
    run_id: str
    out_dir: Path
    stages: dict[str, StageResult] = field(default_factory=dict)
    data_quality: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "scenario": self.scenario.name, "run_id": self.run_id, "out_dir": str(self.out_dir),
            "stage_seconds": self.provenance.get("stage_seconds", {}),
            "data_quality": {k: v for k, v in self.data_quality.items() if k != "lineage"},
            "stages": {k: v.summary for k, v in self.stages.items()},
            "report": self.report,
        }


class Progress:
    """Per-stage timing lines on stderr, prefixed with the seconds since the study started (silent with
    quiet=True). Plain lines rather than a live bar, so they read the same in a terminal and in a batch log."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------- data stage
def demo_cache_dir(out_root: Path, scn: Scenario) -> Path:
    from model.ssot.demo import GENERATOR_VERSION
    d = scn.data.demo
    return out_root / "_demo" / f"skus{d.skus}_years{d.years:g}_seed{d.seed}_v{GENERATOR_VERSION}"


def ensure_demo_exports(out_root: Path, scn: Scenario) -> Path:
    """Generate the demo business's raw exports once per (skus, years, seed); later runs reuse them."""
    from model.ssot.demo import generate
    target = demo_cache_dir(out_root, scn)
    if (target / "sources.yaml").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    d = scn.data.demo
    generate(tmp, skus=d.skus, years=d.years, seed=d.seed)
    try:
        tmp.rename(target)
    except OSError:  # another process finished first: use theirs
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def build_ssot(scn: Scenario, out_root: Path, scenario_dir: Path | None, progress) -> tuple:
    """Open the scenario's store and load its sources (configured manifest, else the demo business).

    Ingest is idempotent (natural keys), so re-running a study re-uses an existing store unchanged.
    Returns ``(connection, data_quality_dict)``.
    """
    from model.ssot.ingest import ingest_manifest
    db = Path(scn.data.db.format(scenario=scn.name))
    if not db.is_absolute() and scn.data.db.startswith("out/"):
        db = out_root / Path(*db.parts[1:])
    con = ssot_store.open_store(db)
    if scn.data.sources:
        manifest = Path(scn.data.sources)
        if not manifest.is_absolute() and scenario_dir is not None:
            manifest = scenario_dir / manifest
        progress(f"ssot: ingesting sources {manifest}")
    else:
        manifest = ensure_demo_exports(out_root, scn) / "sources.yaml"
        progress(f"ssot: demo business {scn.data.demo.skus} SKUs × {scn.data.demo.years:g} years")
    result = ingest_manifest(con, manifest)
    return con, data_quality(con, result)


def data_quality(con, ingest_result) -> dict:
    """Lineage per batch, quarantine counts by kind × reason, table row counts and the data fingerprint."""
    totals = getattr(ingest_result, "totals", None)
    if totals is not None and not isinstance(totals, dict):
        totals = dict(vars(totals))
    lineage = con.execute(
        "SELECT kind, source, rows_read, accepted, quarantined, unchanged, status FROM lineage "
        "ORDER BY started_at, batch_id").df()
    quarantine = con.execute(
        "SELECT kind, reason, count(*) AS rows FROM quarantine GROUP BY kind, reason ORDER BY 3 DESC, 1, 2").df()
    rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("sku", "location", "sales", "inventory", "purchase_orders", "shipments",
                      "competitor_prices", "staff", "traffic")}
    return {"this_run": totals, "lineage": lineage.to_dict(orient="records"),
            "quarantine": quarantine.to_dict(orient="records"), "table_rows": rows,
            "fingerprint": ssot_store.data_fingerprint(con)}


# ----------------------------------------------------------------------------------------- chain
def apply_growth(forecast: pd.DataFrame, growth_by_month: list[float]) -> pd.DataFrame:
    """Scale forecast mean and quantiles by the scenario's demand multiplier of each period's month."""
    if all(g == 1.0 for g in growth_by_month):
        return forecast
    out = forecast.copy()
    mult = pd.to_datetime(out["period_start"]).dt.month.map(lambda m: growth_by_month[m - 1]).to_numpy()
    for c in [c for c in out.columns if c == "mean" or c.startswith("q0.")]:
        out[c] = out[c] * mult
    return out


def _run_stage(name: str, con, ctx: StageContext) -> StageResult:
    try:
        mod = importlib.import_module(f"model.{name}.stage")
    except ImportError as e:
        raise StageFailed(name, f"stage module missing: {e}") from e
    t0 = time.perf_counter()
    cur = con.cursor()  # the stage's own handle: a result it leaves unfetched cannot block the study's writes
    try:
        res = mod.run(cur, ctx)
    except StageFailed:
        raise
    except Exception as e:  # the study must say which stage failed and why
        tb = traceback.format_exc(limit=-3)
        raise StageFailed(name, f"{type(e).__name__}: {e}\n{tb}") from e
    finally:
        cur.close()
    res.seconds = time.perf_counter() - t0
    return res


def _save_tables(con, res: StageResult, run_id: str, scn: Scenario, tables_dir: Path) -> None:
    for tname, df in res.tables.items():
        ssot_store.write_output(con, tname, df, run_id, scn.name)
        df.to_parquet(tables_dir / f"{tname}.parquet", index=False)
        df.to_csv(tables_dir / f"{tname}.csv", index=False)


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def start_engine(scn: Scenario, con, scope: contextlib.ExitStack, progress) -> dict:
    """Enter the scenario's engine (:func:`model.ssot.engine.engine_scope`) on ``scope``: with ``spark``
    the stages' derived tables and fan-out run on Spark until ``scope`` closes. Returns its provenance."""
    from model.ssot.engine import engine_scope
    t = time.perf_counter()
    try:
        info = scope.enter_context(engine_scope(scn.engine, con))
    except Exception as e:
        raise StageFailed("engine", f"{type(e).__name__}: {e}") from e
    if info["kind"] == "spark":
        info["start_seconds"] = round(time.perf_counter() - t, 3)
        progress(f"engine: spark {info['spark']} at {scn.engine.spark_master}, "
                 f"{len(info['mirrored_tables'])} tables mirrored in {info['start_seconds']:.1f}s")
    return info


def run_study(scn: Scenario, out_root: Path = Path("out"), quiet: bool = False,
              scenario_dir: Path | None = None, render: bool = True) -> StudyResult:
    progress = Progress(quiet)
    out_dir = out_root / scn.name
    tables_dir = out_dir / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "scenario.yaml").write_text(scenarios.dump(scn), encoding="utf-8")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        con, dq = build_ssot(scn, out_root, scenario_dir, progress)
    except Exception as e:
        raise StageFailed("ssot", f"{type(e).__name__}: {e}") from e
    timings["ssot"] = time.perf_counter() - t0
    progress(f"ssot: done in {timings['ssot']:.1f}s — {dq['table_rows']['sales']:,} sales lines, "
             f"fingerprint {dq['fingerprint']}")
    run_id = ssot_store.new_run_id("study")
    ssot_store.start_run(con, run_id, scn.name, "study", seed=scn.seed, data_fingerprint=dq["fingerprint"])
    result = StudyResult(scn, run_id, out_dir, data_quality=dq)
    ctx = StageContext(scenario=scn, run_id=run_id, results=result.stages, progress=progress)
    status = "failed"
    engine, scope = {"kind": scn.engine.kind}, contextlib.ExitStack()
    try:
        engine.update(start_engine(scn, con, scope, progress))
        for name in STAGES:
            progress(f"{name}: start")
            res = _run_stage(name, con, ctx)
            if name == "forecast" and "forecast" in res.tables:
                res.tables["forecast"] = apply_growth(res.tables["forecast"], scn.growth_by_month)
            result.stages[name] = res
            timings[name] = res.seconds
            _save_tables(con, res, run_id, scn, tables_dir)
            progress(f"{name}: done in {res.seconds:.1f}s")
        status = "ok"
    finally:
        scope.close()
        result.provenance = {
            "scenario": scn.name, "run_id": run_id, "data_fingerprint": dq["fingerprint"], "seed": scn.seed,
            "engine": engine,
            "stage_seeds": {s: ctx.seed_for(s) for s in STAGES},
            "solver_statuses": {k: v.solves for k, v in result.stages.items() if v.solves},
            "stage_seconds": {k: round(v, 3) for k, v in timings.items()},
            "versions": versions(), "status": status,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (out_dir / "provenance.json").write_text(json.dumps(result.provenance, indent=2, default=str))
        ssot_store.finish_run(con, run_id, status, result.provenance)
        con.close()
    if render:
        t = time.perf_counter()
        progress("report: rendering HTML + PDF")
        result.report = render_report(result)
        timings["report"] = time.perf_counter() - t
        result.provenance["stage_seconds"]["report"] = round(timings["report"], 3)
        (out_dir / "provenance.json").write_text(json.dumps(result.provenance, indent=2, default=str))
        progress(f"report: done in {timings['report']:.1f}s → {result.report.get('html')}")
    return result


def to_report(result: StudyResult):
    from reports.data import StudyReport
    return StudyReport(scenario_name=result.scenario.name, scenario=result.scenario.model_dump(mode="json"),
                       provenance=result.provenance, data_quality=result.data_quality, stages=result.stages)


def render_report(result: StudyResult) -> dict:
    from reports.render import render_study_report
    paths = render_study_report(to_report(result), result.out_dir)
    return {k: str(v) for k, v in paths.items()}


# ----------------------------------------------------------------------------------------- CLI entry points
def study_command(scenario_path: Path, out_root: Path = Path("out"), quiet: bool = False):
    scn = scenarios.load(scenario_path)
    r = run_study(scn, Path(out_root), quiet=quiet, scenario_dir=Path(scenario_path).resolve().parent)
    s = r.summary()
    lines = [f"study {scn.name} ({r.run_id}) → {r.out_dir}"]
    lines += [f"  {k:<11} {v:7.1f}s" for k, v in r.provenance["stage_seconds"].items()]
    lines += [f"  report: {r.report.get('html')}  {r.report.get('pdf')}"]
    return s, "\n".join(lines)


def _study_worker(args) -> dict:
    path, out_root = args
    scn = scenarios.load(path)
    r = run_study(scn, Path(out_root), quiet=True, scenario_dir=Path(path).resolve().parent)
    return {"summary": r.summary(), "report": to_report(r)}


def batch_command(scenario_paths: list[Path], out_root: Path = Path("out"), workers: int = 1):
    """Run many scenarios (``workers`` processes) and render a comparison report."""
    for p in scenario_paths:  # validate everything before anything runs
        scenarios.load(p)
    jobs = [(str(p), str(out_root)) for p in scenario_paths]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            done = list(ex.map(_study_worker, jobs))
    else:
        done = [_study_worker(j) for j in jobs]
    from reports.render import render_comparison_report
    cmp_dir = Path(out_root) / ("compare_" + "_vs_".join(d["summary"]["scenario"] for d in done))
    paths = render_comparison_report([d["report"] for d in done], cmp_dir)
    summary = {"scenarios": [d["summary"] for d in done], "comparison": {k: str(v) for k, v in paths.items()}}
    text = "\n".join([f"{d['summary']['scenario']}: {d['summary']['out_dir']}" for d in done] +
                     [f"comparison: {paths.get('html')}"])
    return summary, text
