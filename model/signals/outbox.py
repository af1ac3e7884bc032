"""The actions outbox: idempotent, atomic writes of proposed/approved actions to the SSOT and a JSONL export.

Every action carries an idempotency key derived from (rule, subject, episode, action type), where the
episode identifies the event (the competitor observation that moved, the last sale of an aging SKU, the
ISO week of a demand shift; by default the data date): the same event always yields the same key, so
re-processing after a restart or crash, or seeing the same event again the next day, inserts nothing new
(``ON CONFLICT DO NOTHING``). Actions, the signals that caused them and the marks of the files
that were processed are written in ONE transaction: a crash leaves either all of a cycle or none of it.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from model.ssot.store import transaction

ACTION_TYPES = ("purchase_order", "price_change", "staffing_change")
STATUSES = ("proposed", "auto-approved", "approved", "rejected")

DDL = [
    """CREATE TABLE IF NOT EXISTS actions (
        action_id VARCHAR PRIMARY KEY,      -- idempotency key
        run_id VARCHAR, scenario VARCHAR,
        created_at TIMESTAMP NOT NULL, as_of DATE NOT NULL,
        action_type VARCHAR NOT NULL, subject VARCHAR NOT NULL,
        signal_id VARCHAR NOT NULL, rule VARCHAR NOT NULL,
        before_value DOUBLE, after_value DOUBLE, quantity DOUBLE, value DOUBLE,
        expected_impact JSON, status VARCHAR NOT NULL, reason VARCHAR, details JSON)""",
    """CREATE TABLE IF NOT EXISTS signals (
        signal_id VARCHAR PRIMARY KEY, rule VARCHAR NOT NULL, subject VARCHAR NOT NULL, as_of DATE NOT NULL,
        severity DOUBLE, details JSON, detected_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS watch_files (
        file_hash VARCHAR PRIMARY KEY, path VARCHAR, kind VARCHAR, status VARCHAR, message VARCHAR,
        processed_at TIMESTAMP)""",
]


def init_outbox(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def key(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Signal:
    rule: str
    subject: str            # sku_id, "location/day", …
    as_of: str              # data date (ISO) the signal refers to
    severity: float         # rule-specific size (e.g. CUSUM statistic, % change, units short)
    details: dict = field(default_factory=dict)
    episode: str = ""       # what makes two days' detections the same event (default: the as-of date)

    @property
    def signal_id(self) -> str:
        return key(self.rule, self.subject, self.episode or self.as_of)


@dataclass(frozen=True)
class Action:
    action_type: str
    subject: str
    signal: Signal
    before_value: float | None
    after_value: float | None
    quantity: float | None
    value: float | None
    expected_impact: dict
    status: str
    reason: str
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.action_type not in ACTION_TYPES:
            raise ValueError(f"action_type must be one of {ACTION_TYPES}, got {self.action_type!r}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def action_id(self) -> str:
        return key(self.signal.rule, self.subject, self.signal.episode or self.signal.as_of, self.action_type)


def _frames(signals: list[Signal], actions: list[Action], run_id: str, scenario: str):
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    sig = pd.DataFrame([{
        "signal_id": s.signal_id, "rule": s.rule, "subject": s.subject, "as_of": pd.Timestamp(s.as_of).date(),
        "severity": float(s.severity), "details": json.dumps(s.details, default=str), "detected_at": now,
    } for s in signals], columns=["signal_id", "rule", "subject", "as_of", "severity", "details", "detected_at"])
    act = pd.DataFrame([{
        "action_id": a.action_id, "run_id": run_id, "scenario": scenario, "created_at": now,
        "as_of": pd.Timestamp(a.signal.as_of).date(), "action_type": a.action_type, "subject": a.subject,
        "signal_id": a.signal.signal_id, "rule": a.signal.rule, "before_value": a.before_value,
        "after_value": a.after_value, "quantity": a.quantity, "value": a.value,
        "expected_impact": json.dumps(a.expected_impact, default=str), "status": a.status, "reason": a.reason,
        "details": json.dumps(a.details, default=str),
    } for a in actions], columns=["action_id", "run_id", "scenario", "created_at", "as_of", "action_type",
                                  "subject", "signal_id", "rule", "before_value", "after_value", "quantity",
                                  "value", "expected_impact", "status", "reason", "details"])
    return sig.drop_duplicates("signal_id"), act.drop_duplicates("action_id")


def write_cycle(con: duckdb.DuckDBPyConnection, signals: list[Signal], actions: list[Action], run_id: str,
                scenario: str, files: list[dict] | None = None, fail_after_actions: bool = False) -> int:
    """Atomically write a cycle's signals, actions and processed-file marks; return NEW actions written.

    ``fail_after_actions`` simulates a crash between the inserts and the commit (tests only).
    """
    init_outbox(con)
    sig, act = _frames(signals, actions, run_id, scenario)
    fl = pd.DataFrame(files or [], columns=["file_hash", "path", "kind", "status", "message"])
    fl["processed_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
    con.register("_sig", sig)
    con.register("_act", act)
    con.register("_fl", fl)
    try:
        with transaction(con):
            before = con.execute("SELECT count(*) FROM actions").fetchone()[0]
            if len(sig):
                con.execute("INSERT INTO signals SELECT * FROM _sig ON CONFLICT DO NOTHING")
            if len(act):
                con.execute("INSERT INTO actions SELECT * FROM _act ON CONFLICT DO NOTHING")
            if fail_after_actions:
                raise RuntimeError("simulated crash mid-cycle")
            if len(fl):
                con.execute("INSERT OR REPLACE INTO watch_files SELECT file_hash, path, kind, status, message, "
                            "processed_at FROM _fl")
            return con.execute("SELECT count(*) FROM actions").fetchone()[0] - before
    finally:
        for n in ("_sig", "_act", "_fl"):
            con.unregister(n)


def export_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Rewrite the JSON-lines export of every action (atomic: temp file + rename). Returns rows."""
    init_outbox(con)
    df = con.execute("SELECT * FROM actions ORDER BY created_at, action_id").df()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for rec in df.to_dict(orient="records"):
            for k in ("expected_impact", "details"):
                rec[k] = json.loads(rec[k]) if isinstance(rec[k], str) else rec[k]
            f.write(json.dumps(rec, default=str) + "\n")
    os.replace(tmp, path)
    return len(df)


def as_records(actions: list[Action]) -> list[dict]:
    return [{**{k: v for k, v in asdict(a).items() if k != "signal"}, "action_id": a.action_id,
             "rule": a.signal.rule, "signal_id": a.signal.signal_id, "as_of": a.signal.as_of} for a in actions]
