"""The contract between the study pipeline and each domain's stage.

Each domain exposes ``model.<domain>.stage.run(con, ctx) -> StageResult``: a pure-ish function of the
SSOT connection and the context (scenario, run id, seed, results of earlier stages). The study writes
every table of a ``StageResult`` to the SSOT (keyed by run id and scenario) and to ``out/<scenario>/tables``.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from scenarios.schema import Scenario


@dataclass
class StageResult:
    name: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # tidy outputs, e.g. {"plan_orders": df}
    summary: dict = field(default_factory=dict)                    # JSON-able KPIs for report and --json
    solves: list[dict] = field(default_factory=list)               # SolveResult.as_dict() of every solve
    seconds: float = 0.0


@dataclass
class StageContext:
    scenario: Scenario
    run_id: str
    results: dict[str, StageResult] = field(default_factory=dict)  # earlier stages by name
    progress: Callable[[str], None] = lambda msg: None             # one-line progress messages

    def seed_for(self, stage: str) -> int:
        """A stage's own seed, derived from the scenario's master seed (no global random state)."""
        h = hashlib.sha256(f"{self.scenario.seed}:{stage}".encode()).hexdigest()
        return int(h[:8], 16)

    def table(self, stage: str, name: str) -> pd.DataFrame:
        try:
            return self.results[stage].tables[name]
        except KeyError:
            raise KeyError(f"stage {stage!r} produced no table {name!r} (ran: {list(self.results)})") from None


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
