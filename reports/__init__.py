"""Reports: one source rendered to a self-contained interactive ``report.html`` and a ``report.pdf``.

Public API::

    from reports.data import StudyReport, StageOutput
    from reports.render import render_study_report, render_comparison_report

    paths = render_study_report(StudyReport(name, scenario_dict, provenance, data_quality, stages), out_dir)
    paths = render_comparison_report([report_a, report_b, ...], out_dir)   # deltas vs the first

Layers, each a plain function of tidy frames: :mod:`reports.kpis` (one KPI table per function),
:mod:`reports.milestones` (the annual milestone rules), :mod:`reports.headline` (key figures, weak link),
:mod:`reports.charts` (one Altair chart per function), :mod:`reports.sections`, :mod:`reports.appendix`
and :mod:`reports.comparison` (what each section shows), :mod:`reports.render` (Jinja2 template → HTML with the Vega bundle inlined;
the same template with SVG charts → PDF by WeasyPrint). ``reports.data.REQUIRED_COLUMNS`` lists the
columns each section reads; a missing stage, table or column becomes a one-line note in the report.
"""
