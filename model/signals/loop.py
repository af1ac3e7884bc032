"""The watch loop: landed files → validated ingest → signal rules → targeted re-plan → actions outbox.

Landing folder conventions: a file's kind is the canonical table its name starts with
(``sales_2024-12-01.csv``, ``competitor_prices-feed.csv.gz``) or the sub-folder it lies in
(``landing/inventory/…``); an optional ``landing/mappings/<kind>.yaml`` maps its columns. Processed files
move to ``landing/processed/``, refused ones to ``landing/failed/`` (with the reason in ``watch_files``
and ``lineage``) — the loop keeps running.

One owner: the watcher holds the store's write lock for its whole life, so a second watcher (or any
other writer) gets "store is busy" and cannot act. Restart-safety: a cycle's actions, signals and file
marks commit together; actions carry idempotency keys, so re-processing inserts nothing twice.
"""
from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from model.signals import outbox, replan, rules
from model.ssot.connectors import file_sha256
from model.ssot.schema import INGEST_KINDS
from scenarios.schema import Scenario

STAGES = ("ingest", "detect", "replan", "write")


@dataclass
class CycleReport:
    as_of: str | None
    files: list[dict] = field(default_factory=list)
    signals: dict[str, int] = field(default_factory=dict)
    actions_new: int = 0
    actions: list[dict] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"as_of": self.as_of, "files": self.files, "signals": self.signals, "actions_new": self.actions_new,
                "actions_by_type": pd.Series([a["action_type"] for a in self.actions], dtype=object)
                .value_counts().to_dict(), "seconds": {k: round(v, 4) for k, v in self.seconds.items()}}


def kind_of(path: Path, landing: Path) -> str | None:
    rel = path.relative_to(landing)
    if len(rel.parts) > 1 and rel.parts[0] in INGEST_KINDS:
        return rel.parts[0]
    name = path.name.lower()
    for k in sorted(INGEST_KINDS, key=len, reverse=True):
        if name.startswith(k) and (len(name) == len(k) or not name[len(k)].isalnum()):
            return k
    return None


def landed_files(landing: Path) -> list[Path]:
    skip = {"processed", "failed", "mappings"}
    return sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and not skip.intersection(p.relative_to(landing).parts[:1]) and not p.name.endswith(".tmp"))


def _move(path: Path, landing: Path, sub: str) -> None:
    dest = landing / sub / path.relative_to(landing)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), dest)


def ingest_landed(con, landing: Path) -> list[dict]:
    """Ingest every landed file (in schema dependency order); return one mark per file."""
    from model.ssot.ingest import IngestError, ingest_file
    from model.ssot.schema import INGEST_ORDER
    outbox.init_outbox(con)
    done = {r[0] for r in con.execute("SELECT file_hash FROM watch_files WHERE status = 'loaded'").fetchall()}
    marks = []
    files = [(kind_of(p, landing), p) for p in landed_files(landing)]
    files.sort(key=lambda kp: (INGEST_ORDER.index(kp[0]) if kp[0] else -1, str(kp[1])))
    for kind, p in files:
        h = file_sha256(p)
        mark = {"file_hash": h, "path": str(p), "kind": kind, "status": "loaded", "message": ""}
        if h in done:
            mark["status"] = "duplicate"
        elif kind is None:
            mark.update(status="rejected", message="file name names no known kind (e.g. sales_*.csv)")
        else:
            mapping = landing / "mappings" / f"{kind}.yaml"
            try:
                res = ingest_file(con, p, kind, mapping if mapping.exists() else None)
                mark["message"] = f"accepted {res.accepted}, quarantined {res.quarantined}, unchanged {res.unchanged}"
            except (IngestError, ValueError, duckdb.Error) as e:
                mark.update(status="rejected", message=str(e)[:2000])
        marks.append(mark)
    return marks


def capacity_by_dow(con) -> dict[int, float] | None:
    """Rostered staff-hours per weekday from the latest roster plan, if one was written."""
    try:
        df = con.execute("SELECT day, sum(end_hour - start_hour) AS h FROM plan_roster WHERE run_id = "
                         "(SELECT max(run_id) FROM plan_roster) GROUP BY day").df()
    except duckdb.Error:
        return None
    if df.empty:
        return None
    days = pd.to_datetime(df["day"], errors="coerce")
    if days.notna().all():
        return df.assign(dow=days.dt.dayofweek).groupby("dow")["h"].mean().to_dict()
    return None


def detect(con, as_of: dt.date, scn: Scenario) -> list[outbox.Signal]:
    c = scn.signals
    found: list[outbox.Signal] = []
    if c.reorder.enabled:
        found += rules.reorder_signals(con, as_of, c.reorder)
    if c.demand_shift.enabled:
        found += rules.demand_shift_signals(con, as_of, c.demand_shift)
    if c.competitor_price.enabled:
        found += rules.competitor_price_signals(con, as_of, c.competitor_price)
    if c.slow_mover.enabled:
        found += rules.slow_mover_signals(con, as_of, c.slow_mover)
    if c.workload.enabled:
        found += rules.workload_signals(con, as_of, c.workload, capacity_by_dow(con))
    if c.backlog.enabled:
        found += rules.backlog_signals(con, as_of, c.backlog)
    return found


def new_signals(con, sigs: list[outbox.Signal]) -> list[outbox.Signal]:
    """Signals whose event (signal id) the store has not recorded yet."""
    outbox.init_outbox(con)
    if not sigs:
        return sigs
    seen = {r[0] for r in con.execute("SELECT signal_id FROM signals WHERE signal_id IN (SELECT unnest(?))",
                                      [[s.signal_id for s in sigs]]).fetchall()}
    return [s for s in sigs if s.signal_id not in seen]


def run_cycle(con, landing: Path | None, scn: Scenario, run_id: str, outbox_path: Path | None,
              as_of: dt.date | None = None, write: bool = True) -> CycleReport:
    """One cycle. ``landing=None`` skips ingest (replay); ``write=False`` computes actions without storing."""
    t = time.perf_counter()
    marks = ingest_landed(con, landing) if landing is not None else []
    secs = {"ingest": time.perf_counter() - t}
    as_of = as_of or rules.data_date(con)
    rep = CycleReport(as_of=as_of.isoformat() if as_of else None, files=marks)
    if as_of is None:
        if write and marks:
            outbox.write_cycle(con, [], [], run_id, scn.name, marks)
        rep.seconds = secs
        return rep
    t = time.perf_counter()
    sigs = detect(con, as_of, scn)
    if write:  # re-plan only what is new: events already handled keep their actions
        sigs = new_signals(con, sigs)
    secs["detect"] = time.perf_counter() - t
    t = time.perf_counter()
    acts = replan.replan(con, sigs, scn.signals, scn.pricing)
    secs["replan"] = time.perf_counter() - t
    t = time.perf_counter()
    if write:
        rep.actions_new = outbox.write_cycle(con, sigs, acts, run_id, scn.name, marks)
        if outbox_path is not None:
            outbox.export_jsonl(con, outbox_path)
    secs["write"] = time.perf_counter() - t
    rep.signals = pd.Series([s.rule for s in sigs], dtype=object).value_counts().to_dict()
    rep.actions = outbox.as_records(acts)
    rep.seconds = secs
    if landing is not None and write:
        for m in marks:
            p = Path(m["path"])
            if p.exists():
                _move(p, landing, "failed" if m["status"] == "rejected" else "processed")
    return rep


def replay(con, scn: Scenario, start: dt.date, end: dt.date, run_id: str) -> list[CycleReport]:
    """Day by day from ``start`` to ``end``: what the rules would have detected and done with the data as of
    each day (nothing is written to the outbox)."""
    if end < start:
        raise ValueError(f"--replay: FROM {start} is after TO {end}")
    out = []
    d = start
    while d <= end:
        out.append(run_cycle(con, None, scn, run_id, None, as_of=d, write=False))
        d += dt.timedelta(days=1)
    return out
