"""The SVG plotting module: any finite data draws valid XML; log axes refuse values <= 0."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.report.plots.chart import (
    STYLES,
    Axis,
    Chart,
    Marker,
    PlotInputError,
    RefLine,
    Series,
)
from mlfleet.report.plots.scale import Scale, domain, tick_label
from mlfleet.report.plots.svg import render

SVG = "{http://www.w3.org/2000/svg}"
FINITE = st.floats(allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(min_value=5e-324, allow_infinity=False)


def chart(**overrides: object) -> Chart:
    """A small valid chart; keyword arguments replace its fields."""
    fields: dict[str, object] = dict(
        plot_id="p", title="t", caption="c", x=Axis(label="x (s)"), y=Axis(label="y (B)"),
        series=(Series(name="a", x=(1.0, 2.0, 3.0), y=(1.0, 4.0, 9.0)),))
    fields.update(overrides)
    return Chart(**fields)  # type: ignore[arg-type]


def parsed(c: Chart) -> ET.Element:
    return ET.fromstring(render(c))


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(FINITE, min_size=0, max_size=12), ys=st.lists(FINITE, min_size=12,
                                                                  max_size=12),
       style=st.sampled_from(STYLES), ref=FINITE)
def test_any_finite_data_renders_valid_xml(xs: list[float], ys: list[float], style: str,
                                           ref: float) -> None:
    series = Series(name="s<&>\"'", x=tuple(xs), y=tuple(ys[: len(xs)]), style=style)
    root = parsed(chart(series=(series,), refs=(RefLine(axis="y", value=ref, label="r&"),),
                        markers=(Marker(x=ref, y=ref, label="<m>"),)))
    assert root.tag == f"{SVG}svg"
    assert root.find(f".//{SVG}g[@data-series]") is not None


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(POSITIVE, min_size=1, max_size=10), ys=st.lists(POSITIVE, min_size=10,
                                                                   max_size=10))
def test_any_positive_data_renders_on_log_axes(xs: list[float], ys: list[float]) -> None:
    series = Series(name="s", x=tuple(xs), y=tuple(ys[: len(xs)]), style="step")
    root = parsed(chart(series=(series,), x=Axis(label="x", log=True), y=Axis(label="y", log=True)))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "x" in texts and "y" in texts


@given(bad=st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))
def test_log_axis_rejects_a_non_positive_value_naming_it(bad: float) -> None:
    series = Series(name="s", x=(1.0, 2.0), y=(1.0, bad))
    with pytest.raises(PlotInputError, match=r"p y \(y \(B\)\): value\(=.*\) must be > 0 on a log"):
        render(chart(series=(series,), y=Axis(label="y (B)", log=True)))


def test_a_reference_line_on_a_log_axis_must_be_positive_too() -> None:
    with pytest.raises(PlotInputError, match=r"value\(=0\) must be > 0 on a log axis"):
        render(chart(x=Axis(label="x", log=True), refs=(RefLine(axis="x", value=0.0, label="r"),)))


def test_non_finite_points_are_gaps_not_errors() -> None:
    series = Series(name="s", x=(1.0, 2.0, 3.0, 4.0, 5.0), y=(1.0, 2.0, math.nan, 4.0, math.inf))
    paths = parsed(chart(series=(series,))).findall(f".//{SVG}path")
    assert len(paths) == 2  # (1, 2) and (4,): the NaN breaks the line, the inf is dropped


def test_series_lengths_and_styles_are_checked() -> None:
    with pytest.raises(PlotInputError, match="x has 2 values, y has 1"):
        Series(name="s", x=(1.0, 2.0), y=(1.0,))
    with pytest.raises(PlotInputError, match=r"style\(='bar'\) must be one of line, step, points, linep"):
        Series(name="s", x=(1.0,), y=(1.0,), style="bar")


def test_text_is_escaped_and_the_svg_is_self_contained() -> None:
    text = render(chart(title="a < b & c", series=(Series(name="<script>", x=(1.0,), y=(1.0,)),)))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "href" not in text and "http" not in text.replace("http://www.w3.org/2000/svg", "")


def test_step_series_holds_each_value_until_the_next_x() -> None:
    series = Series(name="cdf", x=(1.0, 2.0, 3.0), y=(0.2, 0.5, 1.0), style="step")
    d = parsed(chart(series=(series,))).findall(f".//{SVG}path")[0].attrib["d"]
    assert d.count("L") == 5  # 3 points -> 6 vertices: a horizontal then a vertical per step


@given(lo=FINITE, span=st.floats(min_value=1e-6, max_value=1e6))
def test_linear_ticks_lie_inside_and_pixels_increase(lo: float, span: float) -> None:
    low, high = domain([lo, lo + span], log=False, name="x")
    scale = Scale(lo=low, hi=high, start_px=0.0, end_px=100.0)
    ticks = scale.ticks()
    assert all(low - 1e-9 * abs(low) <= t <= high + 1e-9 * abs(high) for t in ticks)
    pixels = [scale.px(t) for t in ticks]
    assert pixels == sorted(pixels)


@given(lo=st.floats(min_value=1e-30, max_value=1e30), decades=st.floats(0.0, 12.0))
def test_log_axes_get_at_least_one_tick(lo: float, decades: float) -> None:
    low, high = domain([lo, lo * 10.0**decades], log=True, name="x")
    assert Scale(lo=low, hi=high, start_px=0, end_px=1, log=True).ticks()


def test_tick_labels_are_short() -> None:
    assert [tick_label(v) for v in (0.0, 0.5, 20.0, 1000.0, 3.2e6, 1e15, 1e-6)] == [
        "0", "0.5", "20", "1k", "3.2M", "1e+15", "1e-06"]


def test_linepoints_draw_a_line_and_a_dot_per_point() -> None:
    series = Series(name="s", x=(1.0, 2.0, 3.0), y=(1.0, 2.0, 3.0), style="linepoints")
    group = parsed(chart(series=(series,))).find(f".//{SVG}g[@data-series='s']")
    assert group is not None
    assert len(group.findall(f"{SVG}path")) == 1 and len(group.findall(f"{SVG}circle")) == 3
