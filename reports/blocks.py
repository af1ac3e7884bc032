"""The pieces a report section is made of, independent of HTML or PDF.

A :class:`Section` is a titled list of :class:`Block` s; a block is a row of KPI cards, a short table, a
chart, a paragraph, a bullet list or a one-line note. :func:`guarded` turns a section builder's
:class:`~reports.data.MissingInput` into that one-line note, so a stage that did not run never breaks a
report.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from reports import fmt
from reports.data import MissingInput

Column = tuple[str, str, Callable[[Any], str]]  # (frame column, header, formatter)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    more: int = 0          # rows not shown


@dataclass
class Block:
    kind: str              # kpis | table | chart | text | list | note
    data: Any
    title: str = ""
    caption: str = ""
    css: str = ""          # extra CSS classes of the block, e.g. "compact half"


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Only notes (e.g. the stage did not run): the PDF gives it no page of its own."""
        return all(b.kind == "note" for b in self.blocks)


def table(df: pd.DataFrame, columns: Sequence[Column], n: int | None = 10, title: str = "",
          caption: str = "", what: str = "rows", numeric: Sequence[bool] | None = None) -> Block:
    """A short table: the first ``n`` rows, the listed columns that ``df`` has, each formatted; the rows
    left out are counted ("n more"). Numeric columns are right-aligned (``numeric`` overrides the guess
    from the dtypes, one flag per listed column)."""
    keep = [c[0] in df.columns for c in columns]
    cols = [c for c, k in zip(columns, keep) if k]
    shown = df if n is None else df.head(n)
    rows = [[f(v) for (_, _, f), v in zip(cols, r)] for r in shown[[c[0] for c in cols]].itertuples(index=False)]
    if numeric is None:
        numeric = [pd.api.types.is_numeric_dtype(df[c[0]]) and not pd.api.types.is_bool_dtype(df[c[0]]) for c in cols]
    else:
        numeric = [flag for flag, k in zip(numeric, keep) if k]
    more = len(df) - len(shown)
    if more:
        caption = f"{caption} {more:,} more {what} not shown.".strip()
    return Block("table", Table([c[1] for c in cols], rows, numeric, more), title, caption)


def kpi_cards(items: Sequence[tuple[str, str, str]]) -> Block:
    """KPI cards from ``(label, formatted value, note)``."""
    return Block("kpis", [{"label": lab, "value": val, "note": note} for lab, val, note in items])


def note(message: str) -> Block:
    return Block("note", message)


class ReportWarning(UserWarning):
    """A part of a report could not be drawn from the tables it was given (shape not as documented)."""


DATA_ERRORS = (KeyError, ValueError, TypeError, AttributeError, IndexError)


def attempt(part: Callable[[], Any]) -> tuple[Any, str | None]:
    """``(part(), None)``, or ``(None, one-line message)`` when its input is missing or of an unexpected
    shape. The second case also emits a :class:`ReportWarning`, so one odd table never costs the whole
    report while tests still catch it (they turn the warning into an error)."""
    try:
        return part(), None
    except MissingInput as e:
        return None, str(e)
    except DATA_ERRORS as e:
        message = f"This part could not be drawn ({type(e).__name__}: {e})."
        warnings.warn(f"{getattr(part, '__qualname__', part)}: {message}", ReportWarning, stacklevel=2)
        return None, message


def guarded(*parts: Callable[[], list[Block]]) -> list[Block]:
    """Run each part; a part that cannot be drawn becomes a one-line note instead (see :func:`attempt`)."""
    blocks: list[Block] = []
    for part in parts:
        result, message = attempt(part)
        blocks += result if message is None else [note(message)]
    return blocks


def formatter(unit: str, currency: str) -> Callable[[Any], str]:
    """The formatter of a KPI unit: count, pct, money, ratio or text."""
    return {"count": fmt.number, "pct": fmt.pct, "money": partial(fmt.money, currency=currency),
            "ratio": fmt.ratio}.get(unit, fmt.text)
