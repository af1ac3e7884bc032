"""The sections of a scenario-comparison report: KPIs side by side with deltas vs the first scenario,
the weak link and cliff of each scenario, and their cliff curves overlaid."""
from __future__ import annotations

from functools import partial

import pandas as pd

from reports import charts, fmt, kpis
from reports.blocks import Block, Section, formatter, note, table
from reports.data import MissingInput, StudyReport, require
from reports.headline import comparison_kpis, sla, weak_link


def delta_text(delta: float, unit: str, currency: str) -> str:
    """A delta in the KPI's unit: percentage points for rates, currency for money, × for load factors."""
    if pd.isna(delta) or unit == "text":
        return ""
    if unit == "money":
        return ("+" if delta >= 0 else "") + fmt.money(delta, currency)
    text = {"pct": f"{delta * 100:+.1f} pt", "ratio": f"{delta:+.2f}×"}.get(unit, f"{delta:+,.0f}")
    return text.replace("-", "−")


def kpi_matrix(reports: list[StudyReport]) -> pd.DataFrame:
    """KPI rows × scenario columns of formatted values, each non-first scenario with its delta."""
    df = comparison_kpis(reports)
    cur = reports[0].currency
    df["shown"] = [formatter(u, cur)(v) + (f" ({d})" if (d := delta_text(dl, u, cur)) and i > 0 else "")
                   for u, v, dl, i in zip(df.unit, df.value, df.delta,
                                          df.scenario.map({r.scenario_name: i for i, r in enumerate(reports)}))]
    order = list(dict.fromkeys(df.kpi))
    wide = df.pivot_table(index="kpi", columns="scenario", values="shown", aggfunc="first").reindex(order)
    return wide[[r.scenario_name for r in reports]].fillna(fmt.DASH).reset_index()


def _link_row(r: StudyReport) -> dict:
    try:
        link = weak_link(r)
    except MissingInput as e:
        return {"scenario": r.scenario_name, "weak_link": fmt.DASH, "cliff": fmt.DASH, "cliff_rate": fmt.DASH,
                "next": str(e)}
    c = link.cliff
    if pd.isna(c.cliff_load):
        cliff = f"none up to {fmt.ratio(c.beyond)}" if pd.notna(c.beyond) else "none in the swept range"
    else:
        cliff = ("≤ " if c.at_lowest else "") + fmt.ratio(c.cliff_load)
    step = link.next_step
    nxt = fmt.DASH
    if step:
        after = fmt.ratio(step["cliff_after"]) if pd.notna(step["cliff_after"]) else "beyond the sweep"
        nxt = f"{step['action']}: {fmt.money(step['cost'], r.currency)} → cliff {after}"
    return {"scenario": r.scenario_name, "weak_link": link.resource or fmt.DASH, "cliff": cliff,
            "cliff_rate": fmt.rate(c.cliff_rate), "next": nxt}


def _sweeps(reports: list[StudyReport]) -> pd.DataFrame:
    """Every scenario's sweep stacked with a ``scenario`` column (``rate_per_hour`` kept when published)."""
    frames = []
    for r in reports:
        try:
            sw = kpis.base_sweep(require(r, "simulation", "sim_sweep"))
        except MissingInput:
            continue
        frames.append(sw[[c for c in ("level", "rate_per_hour", "on_time_rate") if c in sw.columns]]
                      .assign(scenario=r.scenario_name))
    if not frames:
        raise MissingInput("No scenario published a growth sweep.")
    return pd.concat(frames, ignore_index=True)


def timings(reports: list[StudyReport]) -> pd.DataFrame:
    """Stage × scenario wall seconds (from each provenance's ``stage_seconds``), with a total row."""
    df = pd.DataFrame({r.scenario_name: pd.Series(r.provenance.get("stage_seconds") or {}, dtype=float)
                       for r in reports})
    if df.empty:
        return df
    df.loc["total"] = df.sum()
    return df.rename_axis("stage").reset_index()


def _overview(reports: list[StudyReport]) -> Section:
    rows = pd.DataFrame([{"scenario": r.scenario_name, "description": r.scenario.get("description", ""),
                          "stages": ", ".join(r.stages) or "none"} for r in reports])
    blocks = [table(rows, [("scenario", "Scenario", fmt.text), ("description", "Description", fmt.text),
                           ("stages", "Stages run", fmt.text)], n=None)]
    t = timings(reports)
    if not t.empty:
        one_decimal = partial(fmt.number, decimals=1)
        blocks.append(table(t, [("stage", "Stage", fmt.text), *[(c, c, one_decimal) for c in t.columns[1:]]],
                            n=None, title="Stage timings (seconds)"))
    return Section("overview", "Scenarios", blocks)


def _kpis(reports: list[StudyReport]) -> Section:
    matrix = kpi_matrix(reports)
    cols = [(c, c, fmt.text) for c in matrix.columns[1:]]
    return Section("kpis", "Key figures side by side", [table(
        matrix, [("kpi", "KPI", fmt.text), *cols], n=None, numeric=[False] + [True] * len(cols),
        caption=f"In brackets: change vs {reports[0].scenario_name} (rates in percentage points).")])


def _cliffs(reports: list[StudyReport]) -> Section:
    links = pd.DataFrame([_link_row(r) for r in reports])
    if (links.cliff_rate == fmt.DASH).all():
        links = links.drop(columns="cliff_rate")
    blocks = [table(links, [("scenario", "Scenario", fmt.text), ("weak_link", "Weak link", fmt.text),
                            ("cliff", "Cliff (× reference load)", fmt.text),
                            ("cliff_rate", "Cliff (orders/hour)", fmt.text), ("next", "Next step", fmt.text)],
                    n=None, numeric=[False, False, True, True, False])]
    try:
        slas = [s for r in reports if (s := sla(r)) is not None]
        blocks.append(Block("chart", charts.cliff_overlay(_sweeps(reports), max(slas) if slas else None)))
    except MissingInput as e:
        blocks.append(note(str(e)))
    return Section("cliffs", "Weak link and scaling cliff per scenario", blocks)


def comparison_sections(reports: list[StudyReport]) -> list[Section]:
    """Overview with stage timings, KPIs side by side, weak links and cliffs with overlaid cliff curves."""
    return [_overview(reports), _kpis(reports), _cliffs(reports)]
