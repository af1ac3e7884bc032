"""What a report is made of: plain data the study fills, and the columns each section reads.

The report layer takes plain tidy DataFrames and dicts, so it can be rendered from a finished study, from
tables read back from ``out/<scenario>/tables`` or from test fixtures alike. A stage is anything with the
fields of ``model.stage.StageResult`` (``name, tables, summary, solves, seconds``); the study may pass its
``StageResult`` objects unchanged.

``REQUIRED_COLUMNS`` lists, per table, the columns the report reads. A table that is absent or lacks one of
them makes its section say so in one line (and name the missing columns) instead of failing the render.
Optional columns that are used when present are named in the docstrings of :mod:`reports.kpis`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

QUANTILE_COLUMNS = ("q0.1", "q0.5", "q0.9")

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    # forecast stage
    "forecast": ("series_id", "period_start", "mean", *QUANTILE_COLUMNS),
    "forecast_metrics": ("model", "segment", "metric", "value"),
    # pricing stage
    "plan_prices": ("sku_id", "week_start", "price", "expected_units", "revenue", "margin"),
    "price_elasticities": ("sku_id", "elasticity", "identifiable"),
    # inventory stage
    "plan_orders": ("sku_id", "week_start", "order_units", "arrival_week", "cost"),
    "plan_inventory": ("sku_id", "week_start", "projected_on_hand", "demand", "shortfall"),
    "plan_cash": ("week_start", "cash_tied_up", "budget", "storage_used_m3", "capacity_m3"),
    "inventory_classes": ("sku_id", "abc", "xyz", "slow_mover", "dead_stock", "action", "stock_value"),
    # workforce stage
    "plan_coverage": ("role", "day", "hour", "required", "scheduled", "shortfall"),
    "plan_headcount": ("month", "core", "flex_hours", "temps"),
    # simulation stage
    "sim_kpis": ("kpi", "value"),
    "sim_stations": ("station", "utilization", "mean_wait_min"),
    "sim_sweep": ("level", "on_time_rate", "cycle_time_min"),
    "sim_ladder": ("step", "relieved", "step_cost", "cliff_level", "bottleneck_at_cliff"),
    "sim_bottleneck_hours": ("hour", "momentary_bottleneck"),
}

@dataclass
class StageOutput:
    """One stage's outputs; the same fields as ``model.stage.StageResult``."""
    name: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    solves: list[dict] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class StudyReport:
    """Everything one scenario's report shows.

    ``scenario``: the merged, validated scenario as a plain dict. ``provenance``: data fingerprint, seeds,
    package versions, solver statuses, stage timings (as written to provenance.json). ``data_quality``:
    ``{"lineage": rows of (kind, source, rows_read, accepted, quarantined, unchanged, status),
    "quarantine": rows of (kind, reason, rows)}`` as DataFrames or lists of dicts. ``stages``: stage name →
    an object with ``tables`` and ``summary`` (a ``StageResult`` or :class:`StageOutput`).
    ``currency``: the symbol money is printed with.
    """
    scenario_name: str
    scenario: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    data_quality: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, Any] = field(default_factory=dict)
    currency: str = "€"

    def ran(self, stage: str) -> bool:
        return stage in self.stages

    def summary(self, stage: str) -> dict:
        return dict(getattr(self.stages.get(stage), "summary", None) or {})

    def table(self, stage: str, name: str) -> pd.DataFrame | None:
        """The stage's table ``name``, or None when the stage did not run or did not publish it."""
        tables = getattr(self.stages.get(stage), "tables", None) or {}
        df = tables.get(name)
        return None if df is None else pd.DataFrame(df)


class MissingInput(Exception):
    """A section cannot be drawn: the message is the one line the report shows instead."""


def require(report: StudyReport, stage: str, name: str) -> pd.DataFrame:
    """Table ``name`` of ``stage`` with its required columns, or :class:`MissingInput` saying what is missing."""
    if not report.ran(stage):
        raise MissingInput(f"The {stage} stage did not run in this scenario.")
    df = report.table(stage, name)
    if df is None:
        raise MissingInput(f"The {stage} stage published no table '{name}'.")
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in df.columns]
    if missing:
        raise MissingInput(f"Table '{name}' lacks column(s) {', '.join(missing)}; "
                           f"expected {', '.join(REQUIRED_COLUMNS[name])}.")
    return df


def get_path(d: Any, *path: str) -> Any:
    """``d[p0][p1]…`` through nested dicts, or None where a level is missing."""
    for p in path:
        d = d.get(p) if isinstance(d, dict) else None
    return d


def optional(report: StudyReport, stage: str, name: str) -> pd.DataFrame | None:
    """Like :func:`require`, but None instead of an error: for tables that only refine a figure."""
    try:
        return require(report, stage, name)
    except MissingInput:
        return None


def as_frame(rows: Any, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows given as a DataFrame, a list of dicts or None → a DataFrame with at least ``columns``."""
    df = pd.DataFrame(rows if rows is not None else [])
    for c in columns:
        if c not in df.columns:
            df[c] = pd.Series(dtype=object)
    return df
