"""`run.py watch`: the signal-to-action loop as a command (poll, --once, --replay FROM TO)."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np

import scenarios
from model.signals import loop
from model.ssot.store import StoreBusyError, new_run_id, open_store
from scenarios.schema import Scenario


def _scenario(path: Path | None) -> Scenario:
    return scenarios.load(path) if path else Scenario(name="watch")


def _open(db: Path):
    try:
        return open_store(db)
    except StoreBusyError as e:
        raise StoreBusyError(f"another watcher or writer holds {db}; only one process may act on a store. {e}") from None


def _date(s: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"--replay {what} must be a date YYYY-MM-DD, got {s!r}") from None


def watch_command(db: Path, landing: Path | None, scenario_path: Path | None, once: bool, interval: float,
                  replay: tuple[str, str] | None, max_cycles: int | None = None):
    scn = _scenario(scenario_path)
    con = _open(db)
    run_id = new_run_id("watch")
    try:
        if replay and any(replay):
            return _replay(con, scn, replay, run_id)
        if landing is None:
            raise ValueError("watch needs --landing DIR (or --replay FROM TO)")
        landing = Path(landing)
        if not landing.is_dir():
            raise ValueError(f"landing folder {landing} does not exist")
        outbox_path = landing.parent / scn.signals.outbox
        reports, n = [], 0
        while True:
            rep = loop.run_cycle(con, landing, scn, run_id, outbox_path)
            if rep.files or once:
                reports.append(rep)
            n += 1
            if once or (max_cycles is not None and n >= max_cycles):
                break
            time.sleep(interval)
        summary = {"run_id": run_id, "cycles": [r.as_dict() for r in reports],
                   "actions_new": sum(r.actions_new for r in reports), "outbox": str(outbox_path)}
        text = "\n".join(
            f"as of {r.as_of}: {len(r.files)} file(s), signals {r.signals}, {r.actions_new} new action(s), "
            f"{sum(r.seconds.values()):.2f}s" for r in reports) or "nothing landed"
        return summary, text
    finally:
        con.close()


def _replay(con, scn: Scenario, replay: tuple[str, str], run_id: str):
    start, end = _date(replay[0], "FROM"), _date(replay[1], "TO")
    reps = loop.replay(con, scn, start, end, run_id)
    secs = np.array([sum(r.seconds.values()) for r in reps])
    days = [r.as_dict() for r in reps]
    summary = {"run_id": run_id, "from": start.isoformat(), "to": end.isoformat(), "days": days,
               "actions_total": sum(len(r.actions) for r in reps),
               "seconds_per_day": {"p50": float(np.percentile(secs, 50)), "p95": float(np.percentile(secs, 95))}}
    text = "\n".join(f"{d['as_of']}: signals {d['signals']} → actions {d['actions_by_type']} "
                     f"({sum(d['seconds'].values()):.2f}s)" for d in days)
    return summary, text
