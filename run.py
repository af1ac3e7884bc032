"""scaleplan command line: parse, load the scenario, call the model, print, exit code.

Every command that produces results also prints a JSON summary with ``--json``. Domain logic lives in
``model/``; this file only wires arguments to one function per command.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch/numpy on one thread: measured faster here

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="scaleplan: SSOT, forecasts, optimisation and simulation for e-commerce planning.")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


def _emit(summary: dict, as_json: bool, text: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str, allow_nan=False))
    else:
        typer.echo(text if text is not None else json.dumps(summary, indent=2, default=str))


def _fail(msg: str, code: int = EXIT_FAIL) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _known_errors():
    """Exceptions that are user-facing answers (bad input, busy store, infeasible) → message + exit code."""
    from model.ssot.store import StoreBusyError, StoreError
    from model.study import StageFailed
    from scenarios import ScenarioError
    from solvers import InfeasibleModelError
    try:
        from model.ssot.ingest import IngestError
    except ImportError:  # pragma: no cover
        IngestError = StoreError
    return StoreBusyError, (StoreError, ScenarioError, InfeasibleModelError, IngestError, StageFailed, ValueError,
                            FileNotFoundError)


def _run(fn, *args, **kwargs):
    busy, known = _known_errors()
    try:
        return fn(*args, **kwargs)
    except busy as e:
        _fail(str(e), EXIT_BUSY)
    except known as e:
        _fail(str(e))


# ----------------------------------------------------------------------------------------- SSOT
@app.command("demo-data")
def demo_data(out_dir: Path = typer.Argument(..., help="folder for the raw exports"),
              skus: int = typer.Option(500, help="number of SKUs"),
              years: float = typer.Option(3.0, help="years of daily history"),
              seed: int = typer.Option(7, help="random seed (same seed, same files)"),
              as_json: bool = typer.Option(False, "--json", help="print a JSON summary")):
    """Write the demo business's raw exports (POS, inventory DB, logistics, competitor feed) + sources.yaml."""
    from model.ssot.demo import generate
    summary = _run(generate, out_dir, skus=skus, years=years, seed=seed)
    _emit(summary, as_json)


@app.command()
def ingest(files: List[Path] = typer.Argument(None, help="file(s) to ingest (CSV, Parquet, JSON lines; .gz/.zip)"),
           db: Path = typer.Option(..., help="DuckDB file of the SSOT (created if missing)"),
           kind: Optional[str] = typer.Option(None, help="canonical table the file feeds (sales, sku, ...)"),
           mapping: Optional[Path] = typer.Option(None, help="mapping YAML (renames, date formats, units)"),
           sources: Optional[Path] = typer.Option(None, help="sources manifest: many files in dependency order"),
           as_json: bool = typer.Option(False, "--json", help="print a JSON summary")):
    """Validate and load exports into the SSOT; bad rows go to quarantine with their reason."""
    from model.ssot.ingest import ingest_command
    summary, ok = _run(ingest_command, db=db, files=files or [], kind=kind, mapping=mapping, sources=sources)
    _emit(summary, as_json)
    raise typer.Exit(EXIT_OK if ok else EXIT_FAIL)


# ----------------------------------------------------------------------------------------- models
@app.command()
def forecast(db: Path = typer.Option(..., help="SSOT DuckDB file"),
             freq: str = typer.Option("W", help="D | W | M"),
             horizon: int = typer.Option(13, help="periods ahead"),
             models: Optional[List[str]] = typer.Option(None, "--models", help="models to run (repeatable)"),
             backtest: bool = typer.Option(False, "--backtest", help="rolling-origin backtest and metrics"),
             scenario: Optional[Path] = typer.Option(None, help="scenario YAML for forecast settings"),
             as_json: bool = typer.Option(False, "--json")):
    """Probabilistic demand forecasts into the SSOT (quantiles per series × period)."""
    from model.forecast.commands import forecast_command
    summary, text = _run(forecast_command, db=db, freq=freq, horizon=horizon, models=models or None,
                         backtest=backtest, scenario_path=scenario)
    _emit(summary, as_json, text)


@app.command()
def plan(db: Path = typer.Option(..., help="SSOT DuckDB file"),
         only: str = typer.Option(..., "--only", help="inventory | pricing | workforce"),
         scenario: Optional[Path] = typer.Option(None, help="scenario YAML"),
         as_json: bool = typer.Option(False, "--json")):
    """Solve one planning program on the SSOT and write its plan back."""
    modules = {"inventory": "model.inventory.commands", "pricing": "model.pricing.commands",
               "workforce": "model.workforce.commands"}
    if only not in modules:
        _fail(f"--only must be one of {', '.join(modules)}, got {only!r}", EXIT_USAGE)
    import importlib
    mod = importlib.import_module(modules[only])
    summary, text = _run(mod.plan_command, db=db, scenario_path=scenario)
    _emit(summary, as_json, text)


@app.command()
def simulate(scenario: Path = typer.Argument(..., help="scenario YAML with a simulation: section"),
             replications: Optional[int] = typer.Option(None, help="override the scenario's replications"),
             seed: Optional[int] = typer.Option(None, help="override the scenario's seed"),
             sweep: Optional[str] = typer.Option(None, help="growth sweep START:STOP:STEP, e.g. 1.0:3.0:0.25"),
             ladder: int = typer.Option(0, help="relieve the bottleneck K times (bottleneck ladder)"),
             db: Optional[Path] = typer.Option(None, help="optional SSOT to fit service times and log results"),
             as_json: bool = typer.Option(False, "--json")):
    """Discrete-event simulation of the warehouse network: KPIs, bottleneck, growth sweep, ladder."""
    from model.simulation.commands import simulate_command
    summary, text = _run(simulate_command, scenario_path=scenario, replications=replications, seed=seed,
                         sweep=sweep, ladder=ladder, db=db)
    _emit(summary, as_json, text)


# ----------------------------------------------------------------------------------------- studies
@app.command()
def study(scenario: Path = typer.Argument(..., help="scenario YAML"),
          out: Path = typer.Option(Path("out"), help="output root; results go to OUT/<scenario>/"),
          quiet: bool = typer.Option(False, "--quiet", help="no progress output"),
          as_json: bool = typer.Option(False, "--json")):
    """Run the whole chain for one scenario and write the HTML + PDF report."""
    from model.study import study_command
    summary, text = _run(study_command, scenario_path=scenario, out_root=out, quiet=quiet)
    _emit(summary, as_json, text)


@app.command()
def compare(scenarios_: List[Path] = typer.Argument(..., metavar="SCENARIOS...", help="scenario YAMLs"),
            out: Path = typer.Option(Path("out"), help="output root"),
            workers: int = typer.Option(1, help="parallel processes"),
            as_json: bool = typer.Option(False, "--json")):
    """Run several scenarios and write a comparison report."""
    from model.study import batch_command
    summary, text = _run(batch_command, scenario_paths=scenarios_, out_root=out, workers=workers)
    _emit(summary, as_json, text)


@app.command()
def batch(scenarios_: List[Path] = typer.Argument(..., metavar="SCENARIOS...", help="scenario YAMLs"),
          out: Path = typer.Option(Path("out"), help="output root"),
          workers: int = typer.Option(2, help="parallel processes"),
          as_json: bool = typer.Option(False, "--json")):
    """Run many scenarios as a batch job (parallel processes) and a comparison report."""
    from model.study import batch_command
    summary, text = _run(batch_command, scenario_paths=scenarios_, out_root=out, workers=workers)
    _emit(summary, as_json, text)


@app.command()
def watch(db: Path = typer.Option(..., help="SSOT DuckDB file (the watcher owns it while running)"),
          landing: Optional[Path] = typer.Option(None, help="landing folder for new files"),
          scenario: Optional[Path] = typer.Option(None, help="scenario YAML with signals: rules"),
          once: bool = typer.Option(False, "--once", help="process what is there and exit"),
          interval: float = typer.Option(5.0, help="seconds between polls"),
          replay: Optional[Tuple[str, str]] = typer.Option(None, "--replay", help="FROM TO (YYYY-MM-DD): replay history day by day"),
          as_json: bool = typer.Option(False, "--json")):
    """Signal-to-action loop: ingest landed files, detect signals, re-plan, write actions."""
    from model.signals.commands import watch_command
    summary, text = _run(watch_command, db=db, landing=landing, scenario_path=scenario, once=once,
                         interval=interval, replay=replay)
    _emit(summary, as_json, text)


def main() -> None:  # console entry point
    app()


if __name__ == "__main__":
    sys.exit(app())
