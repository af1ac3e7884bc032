"""The study and comparison reports rendered from fixture tables: sections, key numbers, self-contained
HTML, PDF pages (pdftoppm) and text (pdftotext), missing stages and columns, determinism."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from fixtures_reports import make_report
from reports.render import render_comparison_report, render_study_report

pytestmark = pytest.mark.filterwarnings("error::reports.blocks.ReportWarning")

SECTIONS = ("Executive summary", "Demand", "Inventory", "Pricing", "Workforce", "Capacity",
            "Annual milestone plan", "Assumptions", "Data quality", "Provenance")
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftoppm, pdftotext) not installed")


@pytest.fixture(scope="module")
def baseline():
    return make_report("baseline")


@pytest.fixture(scope="module")
def rendered(baseline, tmp_path_factory):
    return render_study_report(baseline, tmp_path_factory.mktemp("study"))


def key_numbers(report) -> dict[str, str]:
    """Figures computed here from the fixture tables, formatted as a planner reads them."""
    fc = report.stages["forecast"].tables["forecast"]
    sweep = report.stages["simulation"].tables["sim_sweep"].query("step == 0").sort_values("level")
    cliff = sweep.level[sweep.on_time_rate < 0.95].min()
    slow = report.stages["inventory"].tables["inventory_classes"]
    slow_value = slow.loc[slow.slow_mover | slow.dead_stock, "stock_value"].sum()
    return {"demand": f"{fc['mean'].sum():,.0f}", "cliff": f"{cliff:.2f}×", "cash_released": "€183,250",
            "slow_value": f"€{slow_value:,.0f}", "ladder_cost": "€48,000", "quarantined": "1,234"}


def test_html_has_every_section_and_key_numbers(rendered, baseline):
    html = rendered["html"].read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f">{title}</h2>" in html, title
    for name, value in key_numbers(baseline).items():
        assert value in html, (name, value)
    assert "The structural weak link is pack" in html
    assert "Selected per segment: fast → ensemble(ets+tft); intermittent → tsb; slow → ets." in html
    assert "Saving vs rule roster" in html and "8.7%" in html  # the workforce stage's summary
    assert "Liquidate or write off" in html and "120 units of 2 flagged SKUs" in html  # pricing's markdown split
    assert "of marked-down stock sold by the target week, 2 SKUs (43.0% of all flagged" in html
    assert "Slow movers cleared" in html and "of the stock of 2 flagged slow-mover and end-of-life" in html
    assert "of the stock of 2 SKUs holding over a year of supply (55.0% of all flagged stock)" in html
    assert "Which resource constrains the flow, by hour of day" in html
    assert '"rung":"step 1: +2\\u00a0pack"' in html  # the cliff curve after each ladder step


def test_html_is_self_contained(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert not re.search(r"cdn\.|jsdelivr|unpkg", html, re.I)
    assert "window.vegaEmbed" in html  # the bundle is inlined once ...
    n_charts = len(re.findall(r'<div class="chart" id="chart-\d+">', html))
    assert n_charts >= 9 and html.count("vegaEmbed(\"#chart-") == n_charts  # ... and every chart uses it


@needs_poppler
def test_pdf_pages_render_to_images_and_carry_key_numbers(rendered, baseline, tmp_path):
    pdf = rendered["pdf"]
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 8 and all(p.stat().st_size > 2_000 for p in pages)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    for title in SECTIONS:
        assert title in text, title
    for name, value in key_numbers(baseline).items():
        assert value in text, (name, value)
    assert "page 1 of" in text


def test_same_report_renders_to_identical_html(baseline, rendered, tmp_path):
    again = render_study_report(baseline, tmp_path, pdf=False)
    assert again["html"].read_bytes() == rendered["html"].read_bytes() and "pdf" not in again


@pytest.fixture(scope="module")
def sim_only(tmp_path_factory):
    report = make_report("sim_only", skip=("forecast", "pricing", "inventory", "workforce"))
    return render_study_report(report, tmp_path_factory.mktemp("sim_only"))


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


@needs_poppler
def test_simulation_only_and_missing_stages_say_so_in_one_line(sim_only, rendered, tmp_path):
    paths = sim_only
    html = paths["html"].read_text(encoding="utf-8")
    for stage in ("forecast", "pricing", "inventory", "workforce"):
        assert f"The {stage} stage did not run in this scenario" in html
    assert "The structural weak link is pack" in html and ">Capacity</h2>" in html
    text = subprocess.run(["pdftotext", str(paths["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "The pricing stage did not run" in text
    assert pdf_pages(paths["pdf"]) <= pdf_pages(rendered["pdf"]) - 4  # empty sections take no page of their own

    no_sim = make_report("no_sim", skip=("simulation",))
    html = render_study_report(no_sim, tmp_path / "nosim", pdf=False)["html"].read_text(encoding="utf-8")
    assert "The simulation stage did not run in this scenario" in html and "weak link is" not in html


def test_missing_column_becomes_a_note_naming_it(tmp_path):
    r = make_report("broken")
    r.stages["inventory"].tables["plan_cash"] = r.stages["inventory"].tables["plan_cash"].drop(columns="cash_tied_up")
    html = render_study_report(r, tmp_path, pdf=False)["html"].read_text(encoding="utf-8")
    assert "Table &#39;plan_cash&#39; lacks column(s) cash_tied_up" in html
    assert ">Inventory</h2>" in html and "Slow movers and dead stock" in html  # the rest still renders


@needs_poppler
def test_comparison_report_side_by_side(tmp_path):
    base, grow = make_report("baseline"), make_report("growth_2x", growth=2.0, seed=1)
    paths = render_comparison_report([base, grow], tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert "Key figures side by side" in html and "Weak link and scaling cliff per scenario" in html
    link_rows = re.findall(r"<tr><td class=\"\">(baseline|growth_2x)</td><td class=\"\">(\w+)</td>", html)
    assert ("baseline", "pack") in link_rows and ("growth_2x", "dispatch") in link_rows
    d_demand = grow.stages["forecast"].tables["forecast"]["mean"].sum() - base.stages["forecast"].tables["forecast"]["mean"].sum()
    assert f"(+{d_demand:,.0f})" in html  # delta vs the first scenario
    assert html.count('"scenario":"growth_2x"') >= 1  # overlaid cliff curves carry both scenarios
    text = subprocess.run(["pdftotext", str(paths["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "growth_2x" in text and "dispatch" in text


def test_comparison_rejects_duplicate_names(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        render_comparison_report([make_report("a"), make_report("a")], tmp_path, pdf=False)


def test_stage_results_are_read_duck_typed(tmp_path):
    """The study may pass model.stage.StageResult objects: anything with tables and summary works."""
    from model.stage import StageResult

    r = make_report("duck", skip=("pricing", "inventory", "workforce", "simulation"))
    fc = r.stages["forecast"]
    r.stages["forecast"] = StageResult("forecast", tables=fc.tables, summary=fc.summary, seconds=1.0)
    html = render_study_report(r, tmp_path, pdf=False)["html"].read_text(encoding="utf-8")
    assert f"{pd.DataFrame(fc.tables['forecast'])['mean'].sum():,.0f}" in html


@pytest.mark.filterwarnings("ignore:Could not infer format")
def test_a_table_of_unexpected_shape_costs_only_its_part(tmp_path):
    r = make_report("odd")
    r.stages["workforce"].tables["plan_headcount"]["month"] = "not a month"
    with pytest.warns(Warning, match="could not be drawn"):
        html = render_study_report(r, tmp_path, pdf=False)["html"].read_text(encoding="utf-8")
    assert "This part could not be drawn (DateParseError" in html and "Coverage of the rostered week" in html


def test_comparison_with_a_scenario_whose_simulation_did_not_run(tmp_path):
    base, no_sim = make_report("baseline"), make_report("no_sim", skip=("simulation",))
    html = render_comparison_report([base, no_sim], tmp_path, pdf=False)["html"].read_text(encoding="utf-8")
    assert "The simulation stage did not run in this scenario." in html  # in the weak-link row of no_sim
    row = re.search(r"<td[^>]*>Structural weak link</td>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r"<td[^>]*>(.*?)</td>", row) == ["pack", "–"]
