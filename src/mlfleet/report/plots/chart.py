"""What a plot shows, as data: axes, series, reference lines, markers, title and caption.

A :class:`Chart` is built by one module per chapter (``roofline``, ``collectives`` ...)
and drawn by :func:`mlfleet.report.plots.svg.render`; nothing here knows about SVG.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.errors import InputError


class PlotInputError(InputError):
    """Data a chart cannot draw (a non-positive value on a log axis, mismatched lengths)."""


@dataclass(frozen=True, kw_only=True)
class Axis:
    """One axis: its label (with the unit) and its scale."""

    label: str
    """Shown along the axis, unit included: 'message size (bytes)'."""
    log: bool = False
    """Log-10 scale; every value on it must be > 0."""
    lo: float | None = None
    """Lower limit of the axis; None: from the data."""
    hi: float | None = None
    """Upper limit of the axis; None: from the data."""


STYLES = ("line", "step", "points", "linepoints")
"""How a series is drawn."""


@dataclass(frozen=True, kw_only=True)
class Series:
    """A named set of (x, y) points drawn as a line, a step line (a CDF) or markers."""

    name: str
    """The legend entry."""
    x: tuple[float, ...]
    y: tuple[float, ...]
    style: str = "line"
    """'line', 'step' (post: the value holds until the next x), 'points', or 'linepoints'
    (a line with a dot at each point)."""
    dashed: bool = False

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise PlotInputError(f"series {self.name!r}: x has {len(self.x)} values, "
                                 f"y has {len(self.y)}")
        if self.style not in STYLES:
            raise PlotInputError(f"series {self.name!r}: style(={self.style!r}) must be one of "
                                 f"{', '.join(STYLES)}")


@dataclass(frozen=True, kw_only=True)
class RefLine:
    """A horizontal (``axis='y'``: y = value) or vertical (``axis='x'``) reference line."""

    axis: str
    value: float
    label: str


@dataclass(frozen=True, kw_only=True)
class Marker:
    """One annotated point (an optimum, the plan's choice)."""

    x: float
    y: float
    label: str


@dataclass(frozen=True, kw_only=True)
class Chart:
    """A whole plot; ``plot_id`` becomes the figure's ``id`` and ``data-plot`` attribute."""

    plot_id: str
    title: str
    caption: str
    """One line: what to read from the plot."""
    x: Axis
    y: Axis
    series: tuple[Series, ...]
    refs: tuple[RefLine, ...] = ()
    markers: tuple[Marker, ...] = ()
    note: str = ""
    """Anything the reader must know (lines left out, a stand-in SLO)."""
