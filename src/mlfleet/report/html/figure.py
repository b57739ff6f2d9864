"""One plot as an HTML ``<figure>``: the inline SVG, a title and a one-line caption.

The figure carries ``id`` and ``data-plot`` (the chart's ``plot_id``) so a browser test
finds it; a chapter the scenario gives nothing to plot gets a short note instead.
"""

from __future__ import annotations

from html import escape

from mlfleet.report.plots.chart import Chart
from mlfleet.report.plots.svg import render


def figure_html(chart: Chart) -> str:
    """The chart, drawn, with its caption and note."""
    note = f'<br><span class="note">{escape(chart.note)}</span>' if chart.note else ""
    return (f'<figure id="{escape(chart.plot_id)}" data-plot="{escape(chart.plot_id)}">'
            f"{render(chart)}<figcaption>{escape(chart.caption)}{note}</figcaption></figure>")


def missing_html(plot_id: str, why: str) -> str:
    """A note where a chart would be (no ``data-plot``: nothing was drawn)."""
    return f'<p class="note" id="{escape(plot_id)}-missing">{escape(why)}</p>'
