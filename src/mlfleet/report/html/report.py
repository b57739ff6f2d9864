"""Build the report: the plan, every chapter's chart, an optional sweep, one HTML string.

The simulations (serving load sweep, cache replays, scheduling runs) are small and seeded:
the whole report takes a few seconds. ``progress(done, total)`` hears about each chart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlfleet.plan import build_plan
from mlfleet.plan.compose import Plan
from mlfleet.report.html.document import document
from mlfleet.report.html.figure import figure_html, missing_html
from mlfleet.report.html.plan_sections import plan_html
from mlfleet.report.plots import cache, checkpoint, collectives, roofline, scheduling, serving_load
from mlfleet.report.plots.chart import Chart
from mlfleet.scenario import Scenario

Progress = Callable[[int, int], None]
ChartStep = tuple[str, str, Callable[[], Chart | None]]
"""(plot id, why it can be missing, builder)."""


def build_report(scenario: Scenario, *, seed: int, sweep: Path | None = None,
                 progress: Progress | None = None) -> str:
    """The report's HTML (raises InputError subclasses for a bad sweep file)."""
    sweep_charts = _sweep_charts(sweep)
    plan = build_plan(scenario)
    steps = _steps(scenario, plan, seed)
    figures = []
    for i, (plot_id, why, build) in enumerate(steps):
        chart = build()
        figures.append(missing_html(plot_id, why) if chart is None else figure_html(chart))
        if progress is not None:
            progress(i + 1, len(steps))
    figures += [figure_html(chart) for chart in sweep_charts]
    return document(plan=plan, plan_body=plan_html(plan), figures=figures, seed=seed)


def _steps(scenario: Scenario, plan: Plan, seed: int) -> list[ChartStep]:
    return [
        ("roofline", "", lambda: roofline.chart(scenario, plan)),
        ("collectives", "collectives: the scenario runs on a single GPU",
         lambda: collectives.chart(scenario, plan)),
        ("serving-latency", "", lambda: serving_load.chart(scenario, seed=seed)),
        ("checkpoint-goodput", "checkpointing: the scenario has no training job",
         lambda: checkpoint.chart(plan)),
        ("cache-hit-rate", "", lambda: cache.chart(seed=seed)),
        ("scheduling-jct", "", lambda: scheduling.chart()),
    ]


def _sweep_charts(sweep: Path | None) -> list[Chart]:
    """Read the sweep first, so a bad file fails before the slow charts run."""
    if sweep is None:
        return []
    from mlfleet.report.plots.sweep import charts
    from mlfleet.report.plots.sweep_file import read_sweep

    return charts(read_sweep(sweep))
