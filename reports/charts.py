"""Charts: one function per chart; each only draws a tidy frame from :mod:`reports.kpis` (Altair).

Every function returns an ``alt.Chart`` (or a layered/concatenated chart) with a fixed size so the same
spec renders in the interactive HTML and, as SVG, in the PDF.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

WIDE, HEIGHT = 620, 220
FONT = "DejaVu Sans"  # the PDF's font: vl-convert measures labels with the font WeasyPrint draws them in
BLUE, GREY, RED, GREEN = "#1f5f9e", "#8a8f98", "#c0392b", "#2e8b57"


def _finish(chart: alt.TopLevelMixin, title: str) -> alt.TopLevelMixin:
    return chart.properties(title=alt.TitleParams(title, anchor="start", fontSize=13)).configure(
        font=FONT).configure_axis(
        labelFontSize=10, titleFontSize=11, grid=True, gridColor="#eceef1").configure_view(
        stroke=None).configure_legend(labelFontSize=10, titleFontSize=10, orient="top")


def _undot(df: pd.DataFrame) -> pd.DataFrame:
    """Quantile columns renamed q0.1 → q0_1: a dot in a Vega-Lite field name means nested access."""
    return df.rename(columns=lambda c: c.replace(".", "_"))


MONTHS = alt.Axis(format="%b", tickCount={"interval": "month", "step": 1}, labelAngle=0)


def fan_chart(total: pd.DataFrame, title: str, y_title: str = "units per week") -> alt.TopLevelMixin:
    """Forecast mean with its 80% (q0.1–q0.9) and, when present, 60% (q0.2–q0.8) bands over weeks."""
    total = _undot(total)
    base = alt.Chart(total).encode(x=alt.X("period_start:T", title=None, axis=MONTHS))
    layers = [base.mark_area(color=BLUE, opacity=0.18).encode(
        y=alt.Y("q0_1:Q", title=y_title), y2="q0_9:Q")]
    if {"q0_2", "q0_8"} <= set(total.columns):
        layers.append(base.mark_area(color=BLUE, opacity=0.25).encode(y="q0_2:Q", y2="q0_8:Q"))
    layers.append(base.mark_line(color=BLUE, strokeWidth=2).encode(
        y="mean:Q", tooltip=[alt.Tooltip("period_start:T", title="week"), alt.Tooltip("mean:Q", format=",.0f"),
                             alt.Tooltip("q0_1:Q", format=",.0f", title="q0.1"),
                             alt.Tooltip("q0_9:Q", format=",.0f", title="q0.9")]))
    return _finish(alt.layer(*layers).properties(width=WIDE, height=HEIGHT), title)


def fan_small_multiples(top: pd.DataFrame, title: str, columns: int = 3) -> alt.TopLevelMixin:
    """One small fan chart (q0.1–q0.9 band and mean) per series, ``columns`` per row."""
    base = alt.Chart().encode(x=alt.X("period_start:T", title=None, axis=alt.Axis(format="%b", tickCount=4)))
    band = base.mark_area(color=BLUE, opacity=0.2).encode(y=alt.Y("q0_1:Q", title=None), y2="q0_9:Q")
    line = base.mark_line(color=BLUE).encode(y="mean:Q")
    data = _undot(top).assign(series_id=top.series_id.astype(str))
    chart = alt.layer(band, line, data=data).properties(width=180, height=90).facet(
        facet=alt.Facet("series_id:N", title=None, sort=list(dict.fromkeys(data.series_id))), columns=columns
    ).resolve_scale(y="independent")
    return _finish(chart, title)


def accuracy_heatmap(acc: pd.DataFrame, metric: str) -> alt.TopLevelMixin:
    """Backtest ``metric`` per model (rows, best first) × segment (columns), value printed in each cell."""
    order = list(dict.fromkeys(acc.model))
    enc = {"x": alt.X("segment:N", title=None, axis=alt.Axis(orient="top", labelAngle=0, grid=False)),
           "y": alt.Y("model:N", title=None, sort=order, axis=alt.Axis(grid=False))}
    rect = alt.Chart(acc).mark_rect(stroke="white").encode(**enc, color=alt.Color(
        "value:Q", legend=None, scale=alt.Scale(scheme="blues", domainMin=0)))
    label = alt.Chart(acc).mark_text(fontSize=11).encode(
        **enc, text=alt.Text("value:Q", format=".3f"),
        color=alt.condition(f"datum.value > {acc.value.max() * 0.6:.6g}", alt.value("white"), alt.value("black")))
    return _finish((rect + label).properties(width=WIDE - 120, height=28 * len(order)),
                   f"Backtest {metric.upper()} by model and segment (lower is better)")


def cash_chart(cash: pd.DataFrame, currency: str) -> alt.TopLevelMixin:
    """Cash tied up in stock per week (area) against the budget (dashed red line)."""
    base = alt.Chart(cash).encode(x=alt.X("week_start:T", title=None, axis=MONTHS))
    area = base.mark_area(color=BLUE, opacity=0.35, line=True).encode(
        y=alt.Y("cash_tied_up:Q", title=f"cash tied up ({currency})", axis=alt.Axis(format="~s")),
        tooltip=[alt.Tooltip("week_start:T", title="week"), alt.Tooltip("cash_tied_up:Q", format=",.0f"),
                 alt.Tooltip("budget:Q", format=",.0f")])
    budget = base.mark_line(color=RED, strokeDash=[6, 4]).encode(y="budget:Q")
    return _finish((area + budget).properties(width=WIDE, height=HEIGHT),
                   "Cash tied up in stock per week vs budget (dashed)")


def storage_chart(storage: pd.DataFrame) -> alt.TopLevelMixin:
    """Storage used per week (m³) against the warehouse capacity (dashed red line)."""
    base = alt.Chart(storage).encode(x=alt.X("week_start:T", title=None, axis=MONTHS))
    used = base.mark_area(color=GREEN, opacity=0.35, line=True).encode(
        y=alt.Y("storage_used_m3:Q", title="storage used (m³)"),
        tooltip=[alt.Tooltip("week_start:T", title="week"), alt.Tooltip("storage_used_m3:Q", format=",.0f"),
                 alt.Tooltip("utilization:Q", format=".0%")])
    cap = base.mark_line(color=RED, strokeDash=[6, 4]).encode(y="capacity_m3:Q")
    return _finish((used + cap).properties(width=WIDE, height=180), "Storage used vs capacity (dashed)")


CONFIDENCE_COLORS = {"high": GREEN, "medium": BLUE, "low": GREY, "held": "#f39c12", "not identifiable": RED}


def elasticity_chart(conf: pd.DataFrame) -> alt.TopLevelMixin:
    """Own-price elasticity per SKU with its interval (``lo``–``hi`` at ``level`` %), coloured by confidence."""
    data = conf.dropna(subset=["elasticity"])
    level = data.level.dropna().iloc[0] if data.level.notna().any() else None
    y = alt.Y("sku_id:N", title=None, sort=alt.EncodingSortField("elasticity"))
    color = alt.Color("confidence:N", scale=alt.Scale(domain=list(CONFIDENCE_COLORS),
                                                      range=list(CONFIDENCE_COLORS.values())))
    x_title = f"elasticity ({level:g}% interval)" if level else "elasticity"
    bars = alt.Chart(data).mark_rule(strokeWidth=2, opacity=0.7).encode(
        x=alt.X("lo:Q", title=x_title), x2="hi:Q", y=y, color=color)
    pts = alt.Chart(data).mark_point(filled=True, size=30).encode(
        x="elasticity:Q", y=y, color=color,
        tooltip=["sku_id", alt.Tooltip("elasticity:Q", format=".2f"), alt.Tooltip("lo:Q", format=".2f"),
                 alt.Tooltip("hi:Q", format=".2f"), "confidence"])
    return _finish((bars + pts).properties(width=WIDE - 80, height=max(12 * len(data), 60)),
                   "Price elasticity estimates and their confidence")


COVERAGE_BINS = (0.8, 0.9, 0.98)  # coverage thresholds of the heatmap's colour classes


def coverage_heatmap(cov: pd.DataFrame) -> alt.TopLevelMixin:
    """Coverage = 1 − shortfall / required per role × hour of day (summed over the week), in four classes:
    < 80%, 80–90%, 90–98%, ≥ 98%."""
    enc = {"x": alt.X("hour:O", title="hour of day", axis=alt.Axis(labelAngle=0, grid=False)),
           "y": alt.Y("role:N", title=None, axis=alt.Axis(grid=False))}
    tips = ["role", "hour", alt.Tooltip("required:Q", title="required staff-hours"),
            alt.Tooltip("scheduled:Q", title="scheduled staff-hours"), "shortfall:Q"]
    rect = alt.Chart(cov[cov.required > 0]).mark_rect(stroke="white").encode(
        **enc, color=alt.Color("coverage:Q", title="coverage", scale=alt.Scale(
            type="threshold", domain=list(COVERAGE_BINS), range=[RED, "#f39c12", "#f4d03f", GREEN]),
            legend=alt.Legend(format=".0%")),
        tooltip=[*tips, alt.Tooltip("coverage:Q", format=".0%")])
    idle = cov[cov.required <= 0]
    if len(idle):
        rect = alt.Chart(idle).mark_rect(stroke="white", color="#eceef1").encode(**enc, tooltip=tips) + rect
    return _finish(rect.properties(width=WIDE - 60, height=26 * cov.role.nunique()),
                   "Coverage vs requirement by role and hour of day (whole week; grey: nothing required)")


def headcount_chart(head: pd.DataFrame) -> alt.TopLevelMixin:
    """Core staff and temps per month (stacked bars)."""
    long = head.melt(id_vars="month", value_vars=["core", "temps"], var_name="type", value_name="people")
    bars = alt.Chart(long).mark_bar().encode(
        x=alt.X("month:O", timeUnit="yearmonth", title=None, axis=alt.Axis(format="%b %y", labelAngle=0)),
        y=alt.Y("people:Q", title="people", stack=True),
        color=alt.Color("type:N", scale=alt.Scale(domain=["core", "temps"], range=[BLUE, "#f39c12"])),
        tooltip=[alt.Tooltip("month:T", format="%b %Y"), "type", "people"])
    return _finish(bars.properties(width=WIDE, height=HEIGHT), "Headcount plan by month")


def utilization_chart(stations: pd.DataFrame, bottlenecks: list[str]) -> alt.TopLevelMixin:
    """Utilisation per station (bars, highest first); the bottleneck(s) in red."""
    data = stations.assign(is_bottleneck=stations.station.isin(bottlenecks))
    base = alt.Chart(data).encode(y=alt.Y("station:N", title=None, sort="-x"))
    bars = base.mark_bar().encode(
        x=alt.X("utilization:Q", title="utilisation", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        color=alt.condition("datum.is_bottleneck", alt.value(RED), alt.value(BLUE)),
        tooltip=["station", alt.Tooltip("utilization:Q", format=".1%"), alt.Tooltip("mean_wait_min:Q", format=".1f")])
    text = base.mark_text(align="left", dx=3, fontSize=10).encode(x="utilization:Q",
                                                                  text=alt.Text("utilization:Q", format=".0%"))
    return _finish((bars + text).properties(width=WIDE - 80, height=22 * len(data)),
                   "Utilisation by resource at the reference load (red: bottleneck)")


def cliff_chart(sweep: pd.DataFrame, sla: float | None, cliff_load: float | None) -> alt.TopLevelMixin:
    """On-time rate and cycle time vs load level (simulated levels only); SLA dashed, the cliff as a red
    vertical rule. With a ``rung`` column (one sweep per ladder step), one line per rung."""
    data = sweep.dropna(subset=["on_time_rate"]).sort_values("level")
    x = alt.X("level:Q", title="load (× reference arrival rate)", scale=alt.Scale(zero=False))
    rungs = "rung" in data.columns
    color = (alt.Color("rung:N", title=None, sort=list(dict.fromkeys(data.rung)),
                       legend=alt.Legend(orient="top", columns=4, labelLimit=200)) if rungs else alt.value(BLUE))
    base = alt.Chart(data).encode(x=x)
    tips = [alt.Tooltip("level:Q", format=".2f"), alt.Tooltip("on_time_rate:Q", format=".1%"),
            alt.Tooltip("cycle_time_min:Q", format=",.0f")] + (["rung"] if rungs else [])
    layers = [base.mark_line(point=True).encode(
        y=alt.Y("on_time_rate:Q", title="on-time rate", axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        color=color, tooltip=tips)]
    if sla is not None:
        layers.append(alt.Chart(pd.DataFrame({"sla": [sla]})).mark_rule(color=GREY, strokeDash=[6, 4])
                      .encode(y="sla:Q"))
    if {"on_time_lo", "on_time_hi"} <= set(data.columns) and not rungs:
        layers.insert(0, base.mark_area(color=BLUE, opacity=0.2).encode(y="on_time_lo:Q", y2="on_time_hi:Q"))
    cliff = pd.DataFrame({"level": [cliff_load] if cliff_load is not None and pd.notna(cliff_load) else []})
    rule = alt.Chart(cliff).mark_rule(color=RED, strokeWidth=2).encode(x="level:Q")
    label = alt.Chart(cliff).mark_text(color=RED, align="left", dx=4, y=8, fontSize=11).encode(
        x="level:Q", text=alt.Text("level:Q", format=".2f"))
    top = alt.layer(*layers, rule, label).properties(width=WIDE, height=170)
    ct = alt.layer(base.mark_line(point=True).encode(
        y=alt.Y("cycle_time_min:Q", title="cycle time (min)"), color=color if rungs else alt.value(GREY)),
        rule).properties(width=WIDE, height=110)
    title = "Scaling cliff: service vs load (SLA dashed, today's cliff in red" + (", one line per ladder step)"
                                                                                  if rungs else ")")
    return _finish(alt.vconcat(top, ct), title)


def bottleneck_hours_chart(hours: pd.DataFrame) -> alt.TopLevelMixin:
    """The momentary bottleneck in each hour of the day (``hour, momentary_bottleneck``): one coloured
    cell per hour, labelled."""
    data = hours.assign(resource=hours.momentary_bottleneck.fillna("none").astype(str))
    named = sorted(set(data.resource) - {"none"})
    palette = ["#4c78a8", "#e45756", "#72b7b2", "#f58518", "#54a24b", "#b279a2", "#ff9da6", "#9d755d"]
    domain = named + ["none"]
    colors = [palette[i % len(palette)] for i in range(len(named))] + ["#e3e6ea"]
    enc = {"x": alt.X("hour:O", title="hour of day", axis=alt.Axis(labelAngle=0, grid=False))}
    cells = alt.Chart(data).mark_rect(stroke="white").encode(
        **enc, color=alt.Color("resource:N", title="bottleneck", scale=alt.Scale(domain=domain, range=colors),
                               legend=alt.Legend(orient="top")),
        tooltip=["hour", "resource"])
    return _finish(cells.properties(width=WIDE - 40, height=28),
                   "Which resource constrains the flow, by hour of day (active-period method)")


def cliff_overlay(sweeps: pd.DataFrame, sla: float | None) -> alt.TopLevelMixin:
    """On-time rate for several scenarios (``scenario`` column), the SLA (if any) dashed. The x axis is the
    absolute arrival rate when every sweep publishes ``rate_per_hour`` (comparable across scenarios),
    else the load multiplier of each scenario's own reference arrival rate."""
    sweeps = sweeps.dropna(subset=["on_time_rate"])
    absolute = "rate_per_hour" in sweeps.columns and sweeps.rate_per_hour.notna().all()
    x = (alt.X("rate_per_hour:Q", title="orders per hour") if absolute else
         alt.X("level:Q", title="load (× each scenario's reference arrival rate)", scale=alt.Scale(zero=False)))
    lines = alt.Chart(sweeps).mark_line(point=True).encode(
        x=x,
        y=alt.Y("on_time_rate:Q", title="on-time rate", axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("scenario:N", title="scenario"),
        tooltip=["scenario", alt.Tooltip("level:Q", format=".2f"), alt.Tooltip("on_time_rate:Q", format=".1%")])
    sla_rule = alt.Chart(pd.DataFrame({"sla": [] if sla is None else [sla]})).mark_rule(
        color=GREY, strokeDash=[6, 4]).encode(y="sla:Q")
    return _finish((lines + sla_rule).properties(width=WIDE, height=HEIGHT), "Scaling cliffs compared")
