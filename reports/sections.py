"""The sections of a study report, one builder per section, each from tidy KPI tables.

A section whose stage did not run is one line saying so; a missing table or column becomes a one-line
note naming it (see :func:`reports.blocks.guarded`).
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from reports import charts, fmt, kpis, milestones
from reports.appendix import assumptions, data_quality, provenance
from reports.blocks import Block, Section, attempt, formatter, guarded, kpi_cards, note, table
from reports.data import MissingInput, StudyReport, get_path, optional, require
from reports.headline import headline_kpis, weak_link

TOP_N = 10


def _skipped(report: StudyReport, stage: str, sid: str, title: str) -> Section | None:
    if report.ran(stage):
        return None
    return Section(sid, title, [note(f"The {stage} stage did not run in this scenario, so there is nothing to show.")])


# ------------------------------------------------------------------------------------ executive summary
def weak_link_text(report: StudyReport) -> str:
    """One paragraph: the weak link, the load at which service breaks and why, and what the next step buys."""
    link = weak_link(report)
    c = link.cliff
    who = f"The structural weak link is {link.resource}" if link.resource else "No single weak link was named"
    rate = f" ({fmt.rate(c.cliff_rate)} orders per hour)" if pd.notna(c.cliff_rate) else ""
    if pd.isna(c.cliff_load):
        upto = f", up to {c.beyond:.2f}× the reference load" if pd.notna(c.beyond) else ""
        text = f"{who}; no level of the growth sweep fails{upto}."
    elif c.at_lowest:
        text = f"{who}: service fails already at the lowest simulated load, {c.cliff_load:.2f}×{rate} ({c.reason})."
    else:
        held = f" It still holds at {c.last_ok:.2f}×." if pd.notna(c.last_ok) else ""
        text = f"{who}: service breaks at {c.cliff_load:.2f}× the reference load{rate}: {c.reason}.{held}"
    s = link.next_step
    if s:
        after = (f"moves the cliff to {s['cliff_after']:.2f}×" if pd.notna(s["cliff_after"])
                 else "removes the cliff from the swept range")
        nxt = s.get("next_bottleneck")
        then = f", where {nxt} becomes the bottleneck" if isinstance(nxt, str) else ""
        text += f" The next step, {s['action']} for {fmt.money(s['cost'], report.currency)}, {after}{then}."
    return text


def _ladder_action(report: StudyReport) -> list[str]:
    step = weak_link(report).next_step
    if not step:
        return []
    return [f"Relieve {step['resource']}: {step['action']} ({fmt.money(step['cost'], report.currency)})."]


def _pricing_action(report: StudyReport) -> list[str]:
    ch = kpis.price_changes(require(report, "pricing", "plan_prices"))
    if "change_pct" not in ch.columns:
        return []
    moved = ch[ch.change_pct.abs() > 1e-9]
    gain = f"; margin {fmt.money(moved.margin_delta.sum(), report.currency)}" if "margin_delta" in ch.columns else ""
    return [f"Apply {len(moved):,} price changes{gain}."]


def _slow_mover_action(report: StudyReport) -> list[str]:
    slow = kpis.slow_movers(require(report, "inventory", "inventory_classes"))
    if slow.empty:
        return []
    return [f"Act on {len(slow):,} slow-moving or dead SKUs holding "
            f"{fmt.money(slow.stock_value.sum(), report.currency)} of stock (markdown or stop reordering)."]


def top_actions(report: StudyReport, plan: pd.DataFrame, n: int = 6) -> list[str]:
    """Up to ``n`` actions: the next ladder step, the price changes, the cash in slow movers, then the
    earliest milestones."""
    actions: list[str] = []
    for rule in (_ladder_action, _pricing_action, _slow_mover_action):
        result, _ = attempt(partial(rule, report))
        actions += result or []
    actions += [f"By {fmt.date(m.deadline)}: {m.milestone}." for m in plan.itertuples()]
    return actions[:n]


def executive(report: StudyReport, plan: pd.DataFrame) -> Section:
    k = headline_kpis(report)
    cards = [(r.kpi, formatter(r.unit, report.currency)(r.value), r.note) for r in k.itertuples()]
    blocks = [kpi_cards(cards)] if cards else [note("No stage produced headline figures.")]
    blocks += guarded(lambda: [Block("text", weak_link_text(report), title="Weak link")])
    actions = top_actions(report, plan)
    if actions:
        blocks.append(Block("list", actions, title="Top actions"))
    return Section("summary", "Executive summary", blocks)


# ------------------------------------------------------------------------------------------------ demand
def demand(report: StudyReport) -> Section:
    skipped = _skipped(report, "forecast", "demand", "Demand")
    if skipped:
        return skipped

    def total():
        fc = require(report, "forecast", "forecast")
        return [Block("chart", charts.fan_chart(kpis.forecast_total(fc), "Total demand forecast, all series "
                                                "(band: 10–90% quantiles, summed)"))]

    def top():
        fc = require(report, "forecast", "forecast")
        return [Block("chart", charts.fan_small_multiples(kpis.top_series(fc, 6), "Top 6 series by volume"))]

    def accuracy():
        acc = kpis.forecast_accuracy(require(report, "forecast", "forecast_metrics"))
        if acc.empty:
            raise MissingInput("The backtest published no WAPE figures.")
        sel = report.summary("forecast").get("selected")
        if isinstance(sel, dict):
            cap = "Selected per segment: " + "; ".join(f"{seg} → {m}" for seg, m in sel.items()) + "."
        else:
            cap = f"Selected model: {sel}." if sel else ""
        return [Block("chart", charts.accuracy_heatmap(acc, "wape"), caption=cap)]

    return Section("demand", "Demand", guarded(total, top, accuracy))


# --------------------------------------------------------------------------------------------- inventory
def inventory(report: StudyReport) -> Section:
    skipped = _skipped(report, "inventory", "inventory", "Inventory")
    if skipped:
        return skipped
    cur = report.currency
    money = partial(fmt.money, currency=cur)

    def service():
        s = report.summary("inventory")
        svc = kpis.planned_service(require(report, "inventory", "plan_inventory")).iloc[0]
        target = s.get("service_target", get_path(report.scenario, "inventory", "service_level"))
        cards = [("Planned fill rate", fmt.pct(svc.fill_rate), f"target {fmt.pct(target)}; on forecast demand"),
                 ("SKU-weeks below safety stock", fmt.pct(svc.weeks_short), f"{fmt.number(svc.lost_units)} units lost")]
        if s.get("fill_rate") is not None:
            cards.insert(1, ("Achieved fill rate (replay)", fmt.pct(s["fill_rate"]), f"target {fmt.pct(target)}"))
        if s.get("cash_released") is not None:
            cards.append(("Cash released", money(s["cash_released"]), "vs min/max baseline"))
        return [kpi_cards(cards)]

    def classes():
        c = require(report, "inventory", "inventory_classes")
        by_action = table(kpis.cash_in_classes(c), [("action", "Action", fmt.label), ("skus", "SKUs", fmt.number),
                          ("stock_value", "Stock value", money), ("share", "Share", fmt.pct)], n=None,
                          title="Stock value by recommended action")
        slow = table(kpis.slow_movers(c), [
            ("sku_id", "SKU", fmt.text), ("abc", "ABC", fmt.text), ("xyz", "XYZ", fmt.text),
            ("weeks_of_cover", "Weeks of cover", partial(fmt.capped, cap=999)),
            ("days_since_sale", "Days since sale", fmt.number), ("stock_value", "Stock value", money),
            ("action", "Action", fmt.label)], n=TOP_N, title="Slow movers and dead stock (most cash first)",
            what="SKUs")
        return [by_action, slow]

    def cash():
        cv = kpis.cash_vs_budget(require(report, "inventory", "plan_cash"))
        return [Block("chart", charts.cash_chart(cv, cur), caption=cash_caption(cv, cur))]

    def storage():
        st = kpis.storage_vs_capacity(require(report, "inventory", "plan_cash"))
        return [Block("chart", charts.storage_chart(st), caption=storage_caption(st))]

    return Section("inventory", "Inventory", guarded(service, cash, storage, classes))


def cash_caption(cv: pd.DataFrame, currency: str) -> str:
    """Weeks over budget, or that cash stays within it, or that no budget was set."""
    peak = cv.loc[cv.cash_tied_up.idxmax()]
    top = f"Peak {fmt.money(peak.cash_tied_up, currency)} in the week of {fmt.date(peak.week_start)}."
    if cv.budget.isna().all():
        return f"{top} No cash budget was set."
    over = int(cv.over_budget.sum())
    return f"{top} " + (f"{over} week(s) over budget." if over else "Cash tied up stays within budget every week.")


def storage_caption(st: pd.DataFrame) -> str:
    """The peak storage use against capacity (or that no capacity was set)."""
    if st.utilization.isna().all():
        peak = st.loc[st.storage_used_m3.idxmax()]
        return (f"Storage peaks at {fmt.number(peak.storage_used_m3)} m³ in the week of {fmt.date(peak.week_start)}; "
                "no storage capacity was set.")
    peak = st.loc[st.utilization.idxmax()]
    over = int((st.utilization > 1).sum())
    return (f"Storage peaks at {fmt.pct(peak.utilization)} of capacity in the week of {fmt.date(peak.week_start)}"
            + (f"; {over} week(s) over capacity." if over else "."))


# ----------------------------------------------------------------------------------------------- pricing
def pricing(report: StudyReport) -> Section:
    skipped = _skipped(report, "pricing", "pricing", "Pricing")
    if skipped:
        return skipped
    money = partial(fmt.money, currency=report.currency)

    def impact():
        m = kpis.margin_impact(require(report, "pricing", "plan_prices")).iloc[0]
        summ = report.summary("pricing")
        cards = [("Planned revenue", money(m.revenue), "over the horizon"),
                 ("Planned gross margin", money(m.margin), "over the horizon")]
        if "margin_delta" in m.index:
            lo, hi = summ.get("margin_change_lo90"), summ.get("margin_change_hi90")
            band = "" if lo is None or hi is None else \
                f" (90%: {fmt.pct(lo, signed=True)} to {fmt.pct(hi, signed=True)})"
            cards.append(("Margin impact", money(m.margin_delta),
                          f"{fmt.pct(m.margin_delta_pct, signed=True)} vs current prices{band}"))
        share_cards = [  # (summary key, title, text): clearance by the week-13 target, per class of flagged stock
            ("slow_mover_cleared_share", "Slow movers cleared",
             lambda: f"of the stock of {fmt.number(summ.get('slow_mover_skus'))} flagged slow-mover and end-of-life "
                     f"SKUs sold by the target week (expected)"),
            ("excess_cleared_share", "Excess stock cleared",
             lambda: f"of the stock of {fmt.number(summ.get('excess_skus'))} SKUs holding over a year of supply "
                     f"({fmt.pct(summ.get('excess_stock_share'))} of all flagged stock)"),
            ("markdown_clear_share", "Markdown clearance",
             lambda: f"of marked-down stock sold by the target week, {fmt.number(summ.get('markdown_clear_skus'))} "
                     f"SKUs ({fmt.pct(summ.get('markdown_cleared_share'))} of all flagged stock)"),
        ]
        if summ.get("markdown_clear_share") is None:  # summaries without the markdown / liquidation split
            share_cards.append(("markdown_cleared_share", "Markdown clearance",
                                lambda: f"of flagged stock, {fmt.number(summ.get('markdown_skus'))} SKUs"))
        cards += [(title, fmt.pct(summ[key]), text()) for key, title, text in share_cards
                  if summ.get(key) is not None]
        if summ.get("liquidation_skus"):
            cards.append(("Liquidate or write off", money(summ.get("liquidation_value_at_cost")),
                          f"at cost: {fmt.number(summ.get('liquidation_units'))} units of "
                          f"{fmt.number(summ['liquidation_skus'])} flagged SKUs no allowed markdown clears"))
        return [kpi_cards(cards)]

    def changes():
        prices = require(report, "pricing", "plan_prices")
        ch = kpis.price_changes(prices, optional(report, "pricing", "price_elasticities"))
        if "lo" in ch.columns:
            ch["interval"] = [f"{fmt.number(lo, 2)}\u00a0to\u00a0{fmt.number(hi, 2)}"
                              if pd.notna(lo) and c != "not identifiable" else fmt.DASH
                              for lo, hi, c in zip(ch.lo, ch.hi, ch.confidence)]
        unit_price = partial(fmt.money, currency=report.currency, decimals=2)
        block = table(ch, [
            ("sku_id", "SKU", fmt.text), ("current_price", "Current", unit_price), ("price", "Recommended", unit_price),
            ("change_pct", "Change", partial(fmt.pct, signed=True)), ("expected_units", "Units", fmt.number),
            ("margin_delta", "Margin Δ", money), ("elasticity", "Elasticity", partial(fmt.number, decimals=2)),
            ("interval", "Interval", fmt.text), ("confidence", "Confidence", fmt.text),
            ("binding", "Binding", fmt.label)], n=12, title="Recommended changes (largest margin impact first)",
            caption="Price: first planned week; units and margin: the whole horizon.", what="SKUs")
        block.css = "compact"
        return [block]

    def confidence():
        prices = require(report, "pricing", "plan_prices")
        conf = kpis.elasticity_confidence(require(report, "pricing", "price_elasticities"), kpis.sku_confidence(prices))
        counts = conf.confidence.value_counts().rename_axis("confidence").reset_index(name="skus")
        chart_data = conf.dropna(subset=["elasticity"]).sort_values("elasticity").head(40)
        return [table(counts, [("confidence", "Confidence", fmt.text), ("skus", "SKUs", fmt.number)], n=None,
                      title="Confidence of elasticities"),
                Block("chart", charts.elasticity_chart(chart_data),
                      caption=f"Showing {len(chart_data)} of {len(conf)} SKUs (most elastic first).")]

    return Section("pricing", "Pricing", guarded(impact, changes, confidence))


# --------------------------------------------------------------------------------------------- workforce
def workforce(report: StudyReport) -> Section:
    skipped = _skipped(report, "workforce", "workforce", "Workforce")
    if skipped:
        return skipped

    def roster():
        s = report.summary("workforce")
        money = partial(fmt.money, currency=report.currency)
        cards = [(label, f(s[key]), note_) for key, label, f, note_ in (
            ("labour_cost", "Roster labour cost", money, f"week of {s.get('roster_week', '–')}"),
            ("saving_vs_rule", "Saving vs rule roster", fmt.pct, "at equal coverage"),
            ("shortfall_hours", "Uncovered staff-hours", fmt.number, "penalised shortfall"),
            ("violations", "Labour-rule violations", fmt.number, "independent validator"),
            ("gap", "Roster optimality gap", fmt.pct, "certified")) if s.get(key) is not None]
        return [kpi_cards(cards)] if cards else []

    def coverage():
        cov = require(report, "workforce", "plan_coverage")
        summary = table(kpis.coverage_summary(cov), [
            ("role", "Role", fmt.text), ("required", "Required staff-hours", fmt.number),
            ("scheduled", "Scheduled", fmt.number), ("shortfall", "Short", fmt.number),
            ("coverage", "Coverage", fmt.pct)], n=None, title="Coverage of the rostered week")
        return [summary, Block("chart", charts.coverage_heatmap(kpis.coverage_by_role_hour(cov)))]

    def headcount():
        h = kpis.headcount_plan(require(report, "workforce", "plan_headcount"))
        peak = h.loc[h.heads.idxmax()]
        cap = (f"Peak month {fmt.month(peak.month)}: {fmt.number(peak.core)} core + {fmt.number(peak.temps)} temps "
               f"+ {fmt.number(peak.flex_hours)} flexible hours.")
        return [Block("chart", charts.headcount_chart(h), caption=cap)]

    return Section("workforce", "Workforce", guarded(roster, coverage, headcount))


# ---------------------------------------------------------------------------------------------- capacity
def capacity(report: StudyReport) -> Section:
    skipped = _skipped(report, "simulation", "capacity", "Capacity")
    if skipped:
        return skipped
    money = partial(fmt.money, currency=report.currency)

    def utilization():
        st = kpis.station_utilization(require(report, "simulation", "sim_stations"))
        bn = (st.station[st.is_bottleneck.astype(bool)].tolist() if "is_bottleneck" in st.columns
              else [report.summary("simulation").get("bottleneck")])
        return [Block("chart", charts.utilization_chart(st, bn)), table(st, [
            ("station", "Resource", fmt.text), ("servers", "Servers", fmt.number),
            ("utilization", "Utilisation", fmt.pct),
            ("mean_wait_min", "Mean wait (min)", partial(fmt.number, decimals=1)),
            ("mean_queue_len", "Mean queue", partial(fmt.number, decimals=1)),
            ("throughput_per_hour", "Jobs per hour", partial(fmt.number, decimals=1))], n=TOP_N, what="resources")]

    def weak():
        return [Block("text", weak_link_text(report))]

    def curve():
        sweep = require(report, "simulation", "sim_sweep")
        link = weak_link(report)
        raw = optional(report, "simulation", "sim_ladder")
        if "step" in sweep.columns and raw is not None:
            labels = {0: "as is"} | {int(r.step): f"step {int(r.step)}: {r.action}"
                                     for r in kpis.bottleneck_ladder(raw).itertuples()}
            sweep = sweep.assign(rung=sweep.step.map(labels).fillna(sweep.step.astype(str)))
        elif "step" in sweep.columns:
            sweep = kpis.base_sweep(sweep)
        return [Block("chart", charts.cliff_chart(sweep, link.cliff.sla, link.cliff.cliff_load))]

    def hours():
        h = kpis.base_case(require(report, "simulation", "sim_bottleneck_hours"))
        return [Block("chart", charts.bottleneck_hours_chart(h))]

    def ladder():
        raw = require(report, "simulation", "sim_ladder")
        lad, now = kpis.bottleneck_ladder(raw), kpis.current_state(raw)
        cap = "" if now is None else (f"Today: cliff at {fmt.ratio(now.cliff_level)}, bottleneck "
                                      f"{fmt.text(now.bottleneck_at_cliff)}.")
        if now is not None and pd.notna(now.get("lambda_max_per_hour")):
            at = now.get("lambda_max_resource")
            cap += f" Capacity bound {fmt.rate(now.lambda_max_per_hour)} orders/h" + (f" at {at}." if at else ".")
        if lad.empty:
            return [note(f"The ladder has no step beyond today's operation. {cap}".strip())]
        return [table(lad, [
            ("step", "Step", fmt.number), ("resource", "Relieve", fmt.text), ("action", "Action", fmt.text),
            ("cost", "Cost", money), ("cumulative_cost", "Cumulative", money),
            ("cliff_before", "Cliff before", fmt.ratio), ("cliff_after", "Cliff after", fmt.ratio),
            ("next_bottleneck", "Next bottleneck", fmt.text),
            ("lambda_max_per_hour", "Capacity bound (orders/h)", fmt.rate),
            ("lead_time_weeks", "Lead (weeks)", fmt.number)], n=None,
            title="Bottleneck ladder: relieve one, find the next", caption=cap)]

    return Section("capacity", "Capacity", guarded(utilization, hours, weak, curve, ladder))


# ------------------------------------------------------------------------------------------- milestones
def _peaks(report: StudyReport) -> pd.DataFrame:
    total = kpis.forecast_total(require(report, "forecast", "forecast"))
    return milestones.demand_peaks(total, report.summary("simulation").get("reference_weekly_units"))


def _hiring_lead(report: StudyReport) -> float | None:
    lead = report.summary("workforce").get("hiring_lead_weeks",
                                           get_path(report.scenario, "workforce", "hiring_lead_weeks"))
    return None if lead is None else float(lead)


def milestone_plan(report: StudyReport) -> tuple[pd.DataFrame, list[str]]:
    """The milestone table from every rule whose inputs exist, and a note per rule that could not run."""
    cur, parts, notes = report.currency, [], []

    def capacity_rule():
        link = weak_link(report)
        base = link.cliff.cliff_load if pd.notna(link.cliff.cliff_load) else np.inf
        steps = kpis.bottleneck_ladder(require(report, "simulation", "sim_ladder"))
        start = require(report, "forecast", "forecast").period_start.min()
        return milestones.capacity_steps(_peaks(report), steps, base, cur, horizon_start=start)

    def staff_rule():
        h = kpis.headcount_plan(require(report, "workforce", "plan_headcount"))
        lead = _hiring_lead(report)
        if lead is None and "hire_by" not in h.columns:
            raise MissingInput("No hiring lead time (headcount plan hire_by, workforce summary or scenario "
                               "workforce.hiring_lead_weeks), so no hiring milestones.")
        return milestones.staff_hires(h, lead)

    def stock_rule():
        cash = optional(report, "inventory", "plan_cash")
        return milestones.stock_build(_peaks(report), require(report, "inventory", "plan_orders"), cash, currency=cur)

    def cash_rule():
        return milestones.cash_gap(require(report, "inventory", "plan_cash"), cur)

    for rule in (capacity_rule, staff_rule, stock_rule, cash_rule):
        result, message = attempt(rule)
        parts, notes = (parts + [result], notes) if message is None else (parts, notes + [message])
    return milestones.milestone_plan(parts), list(dict.fromkeys(notes))


def milestones_section(report: StudyReport, plan: pd.DataFrame, notes: list[str]) -> Section:
    """Demand peaks, then every milestone by quarter; rules that could not run say why, once each."""
    peaks, message = attempt(lambda: _peaks(report))
    if peaks is not None and peaks.empty:
        peaks, message = None, (f"No demand peak: no week reaches {1 + milestones.PEAK_THRESHOLD:.1f}× the "
                                "reference week's demand.")
    blocks = [] if peaks is None else [table(peaks, [
        ("start", "Peak from", fmt.date), ("end", "to", fmt.date), ("peak_week", "Top week", fmt.date),
        ("load", "Load vs reference", fmt.ratio)], n=None, title="Demand peaks")]
    if not plan.empty:
        shown = plan.assign(quarter=plan.quarter.where(plan.quarter != plan.quarter.shift(), ""))
        blocks.append(table(shown, [("quarter", "Quarter", fmt.text), ("deadline", "Due", fmt.date),
                                    ("area", "Area", fmt.text), ("milestone", "Milestone", fmt.text),
                                    ("detail", "Why", fmt.text)], n=None, title="What must be in place, by when"))
    reasons = list(dict.fromkeys(([message] if message else []) + notes))
    if plan.empty and not reasons:
        blocks.append(note("No milestone is due: no rule found a capacity step, a hire, a stock build-up or a "
                           "budget gap."))
    blocks += [note(r) for r in reasons]
    return Section("milestones", "Annual milestone plan", blocks)


def study_sections(report: StudyReport) -> list[Section]:
    """Every section of the study report, in reading order."""
    plan, notes = milestone_plan(report)
    return [executive(report, plan), demand(report), inventory(report), pricing(report), workforce(report),
            capacity(report), milestones_section(report, plan, notes), assumptions(report), data_quality(report),
            provenance(report)]
