"""Render sections to a self-contained ``report.html`` and a ``report.pdf`` from one Jinja2 template.

HTML: the Vega/Vega-Lite/Vega-Embed bundle (from vl-convert, offline) is inlined once and each chart is a
spec rendered in the browser — interactive tooltips, no external URL. PDF: the same template with every
chart converted to SVG by vl-convert and laid out by WeasyPrint.
"""
from __future__ import annotations

import base64
import functools
import json
import os
from pathlib import Path

import altair as alt
import jinja2
import vl_convert as vlc
from markupsafe import Markup

from reports.blocks import Block, Section
from reports.comparison import comparison_sections
from reports.data import StudyReport
from reports.sections import study_sections

TEMPLATES = Path(__file__).parent / "templates"
VL_VERSION = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # "6.4"
EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False},
                 "renderer": "svg"}


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed as one script (no network). Bundling takes 1–4 s, so the result is
    cached per process and on disk under ``$SCALEPLAN_CACHE`` (default ``~/.cache/scaleplan``), keyed by
    the vl-convert and Vega-Lite versions."""
    root = Path(os.environ.get("SCALEPLAN_CACHE", Path.home() / ".cache" / "scaleplan"))
    path = root / f"vega-bundle-{vlc.__version__}-vl{VL_VERSION}.js"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    bundle = vlc.javascript_bundle(vl_version=VL_VERSION).replace("</script", "<\\/script")
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(bundle, encoding="utf-8")
        tmp.replace(path)  # atomic: concurrent batch workers never read a half-written file
    except OSError:
        pass  # a read-only home only costs the bundling time
    return bundle


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def chart_html(spec: dict, element_id: str) -> Markup:
    """A div and the script that embeds the Vega-Lite spec into it (``</`` escaped inside the JSON)."""
    spec = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    return Markup(f'<div class="chart" id="{element_id}"></div>\n<script>vegaEmbed("#{element_id}", {spec}, '
                  f'{json.dumps(EMBED_OPTIONS)}).catch(console.error);</script>')


def chart_svg(spec: dict) -> Markup:
    """The Vega-Lite spec drawn as an SVG image (data URI) for the PDF."""
    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    data = base64.b64encode(svg.encode()).decode()
    return Markup(f'<img class="chart" alt="chart" src="data:image/svg+xml;base64,{data}">')


def _specs(sections: list[Section]) -> list[Section]:
    """Each chart block's Altair chart as its validated Vega-Lite spec (built once for HTML and PDF)."""
    return [Section(s.id, s.title, [Block("chart", b.data.to_dict(), b.title, b.caption, b.css)
                                     if b.kind == "chart" and isinstance(b.data, alt.TopLevelMixin) else b
                                     for b in s.blocks]) for s in sections]


def _draw_charts(sections: list[Section], mode: str) -> list[Section]:
    """Replace each chart block's spec by its HTML embed or SVG image."""
    out, n = [], 0
    for s in sections:
        blocks = []
        for b in s.blocks:
            if b.kind == "chart":
                n += 1
                b = Block("chart", chart_html(b.data, f"chart-{n}") if mode == "html" else chart_svg(b.data),
                          b.title, b.caption, b.css)
            blocks.append(b)
        out.append(Section(s.id, s.title, blocks))
    return out


def render_page(sections: list[Section], meta: dict, mode: str) -> str:
    """The whole page as a string; ``mode`` is ``"html"`` (interactive) or ``"pdf"`` (print)."""
    css = (TEMPLATES / "report.css").read_text()
    if mode == "pdf":
        css += "\n" + (TEMPLATES / "print.css").read_text()
    return _env().get_template("report.html.j2").render(
        sections=_draw_charts(_specs(sections), mode), meta=meta, mode=mode, css=Markup(css),
        vega=Markup(vega_bundle()) if mode == "html" else "")


def write_report(sections: list[Section], meta: dict, out_dir: str | Path, stem: str = "report",
                 pdf: bool = True) -> dict[str, Path]:
    """Write ``<stem>.html`` (and ``<stem>.pdf``) into ``out_dir``; returns ``{"html": path, "pdf": path}``."""
    import weasyprint  # imported here: loading pango costs ~1 s and the HTML does not need it

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sections = _specs(sections)
    paths = {"html": out / f"{stem}.html"}
    paths["html"].write_text(render_page(sections, meta, "html"), encoding="utf-8")
    if pdf:
        paths["pdf"] = out / f"{stem}.pdf"
        weasyprint.HTML(string=render_page(sections, meta, "pdf"), base_url=str(out)).write_pdf(paths["pdf"])
    return paths


def _study_meta(report: StudyReport) -> dict:
    p = report.provenance
    return {"kind": "study", "title": f"Scenario study: {report.scenario_name}",
            "subtitle": report.scenario.get("description", ""),
            "footer": f"{report.scenario_name} · run {p.get('run_id', '–')} · "
                      f"data {p.get('data_fingerprint', '–')}"}


def render_study_report(report: StudyReport, out_dir: str | Path, pdf: bool = True) -> dict[str, Path]:
    """Render one scenario's study to ``out_dir/report.html`` and ``out_dir/report.pdf``."""
    return write_report(study_sections(report), _study_meta(report), out_dir, "report", pdf)


def render_comparison_report(reports: list[StudyReport], out_dir: str | Path, pdf: bool = True) -> dict[str, Path]:
    """Render a comparison of several scenarios (the first is the reference for deltas) to
    ``out_dir/comparison.html`` and ``out_dir/comparison.pdf``."""
    if len(reports) < 1:
        raise ValueError("render_comparison_report needs at least one StudyReport; got none")
    names = [r.scenario_name for r in reports]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must be unique in a comparison; got {names}")
    meta = {"kind": "comparison", "title": "Scenario comparison: " + " vs ".join(names),
            "subtitle": f"Deltas are against {names[0]}.", "footer": "comparison · " + " · ".join(names)}
    return write_report(comparison_sections(reports), meta, out_dir, "comparison", pdf)
