"""The appendix of a study report: assumptions (scenario settings), data quality and provenance."""
from __future__ import annotations

from functools import partial

import pandas as pd

from reports import fmt, kpis
from reports.blocks import Block, Section, note, table
from reports.data import StudyReport, as_frame


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += _flatten(v, key + ".")
        else:
            rows.append((key, ", ".join(map(str, v)) if isinstance(v, list) else str(v)))
    return rows


def schema_defaults() -> dict[str, str]:
    """Every scenario setting's default (flattened), from the scenario schema."""
    from scenarios.schema import Scenario

    return dict(_flatten(Scenario().model_dump(mode="json")))


def assumptions(report: StudyReport) -> Section:
    """What this scenario changes from the schema defaults, then every setting grouped by section."""
    rows = pd.DataFrame(_flatten(report.scenario), columns=["setting", "value"])
    if rows.empty:
        return Section("assumptions", "Assumptions", [note("The scenario settings were not passed to the report.")])
    rows["default"] = rows.setting.map(schema_defaults())
    changed = rows[rows.value != rows.default]
    blocks = [table(changed, [("setting", "Setting", fmt.text), ("value", "Value", fmt.text),
                              ("default", "Default", fmt.text)], n=None,
                    title="Set by this scenario (differs from the defaults)")]
    rows["group"] = [k.split(".", 1)[0] if "." in k else "general" for k in rows.setting]
    rows["name"] = [k.split(".", 1)[1] if "." in k else k for k in rows.setting]
    for group, g in rows.groupby("group", sort=False):
        block = table(g, [("name", "Setting", fmt.text), ("value", "Value", fmt.text)], n=None, title=group)
        block.css = "compact half"
        blocks.append(block)
    return Section("assumptions", "Assumptions", blocks)


def data_quality(report: StudyReport) -> Section:
    dq = report.data_quality
    lin = as_frame(dq.get("lineage"), ("kind", "source", "rows_read", "accepted", "quarantined", "unchanged"))
    qua = as_frame(dq.get("quarantine"), ("kind", "reason", "rows"))
    blocks = []
    if not lin.empty:
        blocks.append(table(lin, [("kind", "Kind", fmt.text), ("source", "Source", fmt.text),
                                  ("rows_read", "Rows read", fmt.number), ("accepted", "Accepted", fmt.number),
                                  ("quarantined", "Quarantined", fmt.number), ("unchanged", "Unchanged", fmt.number),
                                  ("status", "Status", fmt.text)], n=15, title="Ingested batches", what="batches"))
    if not qua.empty:
        qua = qua.sort_values("rows", ascending=False)
        blocks.append(table(qua, [("kind", "Kind", fmt.text), ("reason", "Reason", fmt.text),
                                  ("rows", "Rows quarantined", fmt.number)], n=15, title="Quarantine by reason",
                            what="reasons"))
    elif not lin.empty:
        blocks.append(note("No row was quarantined."))
    if isinstance(dq.get("table_rows"), dict) and dq["table_rows"]:
        rows = pd.DataFrame(list(dq["table_rows"].items()), columns=["table", "rows"])
        blocks.append(table(rows, [("table", "Table", fmt.text), ("rows", "Rows", fmt.number)], n=None,
                            title="Rows in the store"))
    return Section("data-quality", "Data quality", blocks or [note("No lineage was passed to the report.")])


def _solves(report: StudyReport) -> dict[str, list[dict]]:
    """Solve records per stage: from the stages, else from provenance ``solver_statuses`` (stage → list)."""
    solves = {name: list(getattr(st, "solves", None) or []) for name, st in report.stages.items()}
    if not any(solves.values()) and isinstance(report.provenance.get("solver_statuses"), dict):
        solves = {k: v for k, v in report.provenance["solver_statuses"].items() if isinstance(v, list)}
    return solves


def _pairs(d: dict, title: str) -> Block:
    rows = pd.DataFrame([(k, fmt.text(v)) for k, v in d.items()], columns=["name", "value"])
    return table(rows, [("name", "Name", fmt.text), ("value", "Value", fmt.text)], n=None, title=title)


def provenance(report: StudyReport) -> Section:
    """Scalars (run id, fingerprint, seed, …), stage timings, solver results, then every flat mapping
    (seeds, package versions, …) as a name/value table."""
    p = report.provenance
    blocks = [_pairs({k: v for k, v in p.items() if not isinstance(v, (dict, list))}, "")]
    timings = p.get("stage_seconds") or {}
    if timings:
        t = pd.DataFrame(list(timings.items()), columns=["stage", "seconds"])
        t = pd.concat([t, pd.DataFrame([{"stage": "total", "seconds": t.seconds.sum()}])], ignore_index=True)
        blocks.append(table(t, [("stage", "Stage", fmt.text), ("seconds", "Seconds", partial(fmt.number, decimals=1))],
                            n=None, title="Stage timings"))
    solves = kpis.solve_summary(_solves(report))
    if not solves.empty:
        blocks.append(table(solves, [("stage", "Stage", fmt.text), ("solves", "Solves", fmt.number),
                                     ("statuses", "Statuses", fmt.text), ("max_gap", "Worst gap", fmt.pct),
                                     ("solve_seconds", "Solve seconds", partial(fmt.number, decimals=1))],
                            n=None, title="Solver results"))
    for key, value in p.items():
        flat = isinstance(value, dict) and value and not any(isinstance(v, (dict, list)) for v in value.values())
        if flat and key != "stage_seconds":
            blocks.append(_pairs(value, key.replace("_", " ").capitalize()))
    return Section("provenance", "Provenance", blocks)
