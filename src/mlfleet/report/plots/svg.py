"""Draw a :class:`~mlfleet.report.plots.chart.Chart` as one static, self-contained SVG element.

No JavaScript, no fonts or files from elsewhere: the SVG is text the HTML report inlines.
Non-finite points are gaps (a line breaks there); a value <= 0 on a log axis is a
:class:`~mlfleet.report.plots.chart.PlotInputError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape

from mlfleet.report.plots.chart import Axis, Chart, Marker, RefLine, Series
from mlfleet.report.plots.scale import Scale, domain, tick_label

WIDTH, HEIGHT = 720, 400
LEFT, RIGHT, TOP, BOTTOM = 72, 190, 36, 56
"""Margins in pixels: the legend sits in the right one."""
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
"""Line colours, one per series in order (Tableau 10)."""
REF_COLOUR, TEXT_COLOUR, GRID_COLOUR = "#555555", "#222222", "#e4e4e4"


def render(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (a string of valid XML)."""
    xs, ys = _scales(chart)
    clip = f"clip-{escape(chart.plot_id)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(chart.title)}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<clipPath id="{clip}"><rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}"/></clipPath>',
        _text(WIDTH / 2 - RIGHT / 2 + LEFT / 2, 22, chart.title, size=14, weight="bold"),
        *_grid(xs, ys), *_axis_labels(chart.x, chart.y),
        f'<g clip-path="url(#{clip})">',
        *(_series(s, xs, ys, PALETTE[i % len(PALETTE)]) for i, s in enumerate(chart.series)),
        *(_ref(r, xs, ys) for r in chart.refs),
        "</g>",
        *(_marker(m, xs, ys) for m in chart.markers),
        *_legend(chart.series),
        "</svg>",
    ]
    return "\n".join(parts)


def _scales(chart: Chart) -> tuple[Scale, Scale]:
    xv = [v for s in chart.series for v in s.x if math.isfinite(v)]
    yv = [v for s in chart.series for v in s.y if math.isfinite(v)]
    xv += [m.x for m in chart.markers] + [r.value for r in chart.refs if r.axis == "x"]
    yv += [m.y for m in chart.markers] + [r.value for r in chart.refs if r.axis == "y"]
    x_lo, x_hi = domain(xv, log=chart.x.log, name=f"{chart.plot_id} x ({chart.x.label})",
                        lo=chart.x.lo, hi=chart.x.hi)
    y_lo, y_hi = domain(yv, log=chart.y.log, name=f"{chart.plot_id} y ({chart.y.label})",
                        lo=chart.y.lo, hi=chart.y.hi)
    return (Scale(lo=x_lo, hi=x_hi, start_px=LEFT, end_px=WIDTH - RIGHT, log=chart.x.log),
            Scale(lo=y_lo, hi=y_hi, start_px=HEIGHT - BOTTOM, end_px=TOP, log=chart.y.log))


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "middle",
          weight: str = "normal", rotate: bool = False, colour: str = TEXT_COLOUR) -> str:
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{colour}"{turn}>{escape(text)}</text>')


def _grid(xs: Scale, ys: Scale) -> Iterable[str]:
    bottom, top = HEIGHT - BOTTOM, TOP
    for v in xs.ticks():
        p = xs.px(v)
        yield f'<line x1="{p:.1f}" y1="{top}" x2="{p:.1f}" y2="{bottom}" stroke="{GRID_COLOUR}"/>'
        yield _text(p, bottom + 16, tick_label(v), size=11)
    for v in ys.ticks():
        p = ys.px(v)
        yield (f'<line x1="{LEFT}" y1="{p:.1f}" x2="{WIDTH - RIGHT}" y2="{p:.1f}" '
               f'stroke="{GRID_COLOUR}"/>')
        yield _text(LEFT - 6, p + 4, tick_label(v), size=11, anchor="end")
    yield (f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
           f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="#333333"/>')


def _axis_labels(x: Axis, y: Axis) -> Iterable[str]:
    yield _text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 14, x.label)
    yield _text(18, (TOP + HEIGHT - BOTTOM) / 2, y.label, rotate=True)


def _runs(series: Series) -> list[list[tuple[float, float]]]:
    """Consecutive finite points; a non-finite one ends a run."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(series.x, series.y, strict=True):
        if math.isfinite(x) and math.isfinite(y):
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _series(series: Series, xs: Scale, ys: Scale, colour: str) -> str:
    name = escape(series.name)
    parts = [] if series.style == "points" else [_path(run, series, xs, ys, colour)
                                                 for run in _runs(series)]
    if series.style in ("points", "linepoints"):
        radius = 4 if series.style == "points" else 3
        parts += [f'<circle cx="{xs.px(x):.1f}" cy="{ys.px(y):.1f}" r="{radius}" fill="{colour}"/>'
                  for run in _runs(series) for x, y in run]
    return f'<g data-series="{name}">{"".join(parts)}</g>'


def _path(run: list[tuple[float, float]], series: Series, xs: Scale, ys: Scale,
          colour: str) -> str:
    pts = [(xs.px(x), ys.px(y)) for x, y in run]
    if series.style == "step":
        pts = [q for (a, b), (c, _) in zip(pts, [*pts[1:], pts[-1]], strict=True)
               for q in ((a, b), (c, b))]
    dash = ' stroke-dasharray="6 4"' if series.dashed else ""
    d = "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in pts)
    return f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'


def _ref(ref: RefLine, xs: Scale, ys: Scale) -> str:
    style = f'stroke="{REF_COLOUR}" stroke-width="1.5" stroke-dasharray="3 3"'
    if ref.axis == "y":
        p = ys.px(ref.value)
        return (f'<line x1="{LEFT}" y1="{p:.1f}" x2="{WIDTH - RIGHT}" y2="{p:.1f}" {style}/>'
                + _text(LEFT + 4, p - 4, ref.label, size=11, anchor="start", colour=REF_COLOUR))
    p = xs.px(ref.value)
    return (f'<line x1="{p:.1f}" y1="{TOP}" x2="{p:.1f}" y2="{HEIGHT - BOTTOM}" {style}/>'
            + _text(p + 4, TOP + 12, ref.label, size=10, anchor="start", colour=REF_COLOUR,
                    rotate=False))


def _marker(marker: Marker, xs: Scale, ys: Scale) -> str:
    x, y = xs.px(marker.x), ys.px(marker.y)
    right_half = x > (LEFT + WIDTH - RIGHT) / 2
    label = _text(x - 8 if right_half else x + 8, y + 16 if y < TOP + 20 else y - 8, marker.label,
                  size=11, anchor="end" if right_half else "start")
    return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="none" stroke="#000000" '
            f'stroke-width="2"/>' + label)


def _legend(series: tuple[Series, ...]) -> Iterable[str]:
    x0 = WIDTH - RIGHT + 14
    for i, s in enumerate(series[:14]):
        y = TOP + 10 + 18 * i
        colour = PALETTE[i % len(PALETTE)]
        if s.style in ("points", "linepoints"):
            yield f'<circle cx="{x0 + 10}" cy="{y - 4}" r="4" fill="{colour}"/>'
        if s.style != "points":
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            yield (f'<line x1="{x0}" y1="{y - 4}" x2="{x0 + 20}" y2="{y - 4}" stroke="{colour}" '
                   f'stroke-width="2"{dash}/>')
        yield _text(x0 + 26, y, _short(s.name), size=11, anchor="start")


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
