"""The tidy event log of one replication: one record per job per station, one record per order.

Every KPI and every bottleneck view is computed from this log (``kpis.py``, ``bottleneck.py``), never
from counters inside the processes. Times are minutes from the start of the run. Visits still in
progress when the run stops at ``horizon_min`` are not recorded (their orders have ``done`` = NaN).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

VISIT_COLUMNS = ("job", "station", "arrive", "start", "end", "busy", "share")


@dataclass
class EventLog:
    """``visits``: float array n × 7 in ``VISIT_COLUMNS`` order (``job`` < 0 for inbound receipts; ``busy``
    = servers busy at the station right after the job started, the job included; ``share`` = the job's
    share of that server time: 1/n for each of the n jobs of a wave, else 1). Per order j:
    ``created``, ``done`` (last station finished; NaN if unfinished), ``shipped`` (carrier pickup taken, or
    ``done`` without a carrier), ``due`` (promised pickup or created + max cycle time), ``lines``,
    ``stock_wait`` (minutes waited for stock; 0 when none was needed or it was on hand)."""
    stations: tuple[str, ...]
    servers_by_hour: np.ndarray          # stations × 168, servers available per hour of week (inf allowed)
    visits: np.ndarray
    created: np.ndarray
    done: np.ndarray
    shipped: np.ndarray
    due: np.ndarray
    lines: np.ndarray
    stock_wait: np.ndarray
    horizon_min: float
    warmup_min: float
    events: int

    @property
    def window_min(self) -> float:
        return self.horizon_min - self.warmup_min

    def frame(self) -> pd.DataFrame:
        """Visits as a tidy DataFrame with station names."""
        df = pd.DataFrame(self.visits, columns=list(VISIT_COLUMNS))
        df["job"] = df["job"].astype(np.int64)
        df["station"] = np.asarray(self.stations, dtype=object)[df["station"].astype(int)]
        df["busy"] = df["busy"].astype(np.int64)
        df["wait"] = df["start"] - df["arrive"]
        return df

    def orders_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"job": np.arange(self.created.size), "created": self.created, "done": self.done,
                             "shipped": self.shipped, "due": self.due, "lines": self.lines,
                             "stock_wait": self.stock_wait})


def overlap(a: np.ndarray, b: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Length of [a, b] ∩ [lo, hi] for each pair, minutes (0 when disjoint)."""
    return np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0.0, None)
