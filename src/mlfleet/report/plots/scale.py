"""Axis scales: data to pixels, linear or log-10, with readable ticks."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from mlfleet.report.plots.chart import PlotInputError

NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
"""Linear tick steps, times a power of ten (Heckbert, "Nice numbers for graph labels",
Graphics Gems, 1990)."""
LOG10_MAX = math.log10(sys.float_info.max) - 1e-9
"""The largest power of ten a float holds."""


@dataclass(frozen=True, kw_only=True)
class Scale:
    """Maps ``[lo, hi]`` (data) onto ``[start_px, end_px]``; ``log``: in log-10 space."""

    lo: float
    hi: float
    start_px: float
    end_px: float
    log: bool = False

    def _t(self, value: float) -> float:
        return math.log10(value) if self.log else value

    def px(self, value: float) -> float:
        """Pixel position of ``value`` (clamped one axis-length beyond either end)."""
        lo, hi = self._t(self.lo) / 2, self._t(self.hi) / 2  # halves: the span stays finite
        frac = (self._t(value) / 2 - lo) / (hi - lo)
        frac = min(2.0, max(-1.0, frac))
        return self.start_px + frac * (self.end_px - self.start_px)

    def ticks(self) -> list[float]:
        """Tick values inside ``[lo, hi]``: decades (log) or nice steps (linear)."""
        return _log_ticks(self.lo, self.hi) if self.log else _linear_ticks(self.lo, self.hi)


def domain(values: list[float], *, log: bool, name: str, lo: float | None = None,
           hi: float | None = None) -> tuple[float, float]:
    """The axis range for ``values`` (fixed ends win), padded by 5 % of the span (in log
    space on a log axis); PlotInputError for a value <= 0 on a log axis."""
    if log:
        bad = [v for v in values if v <= 0]
        if bad:
            raise PlotInputError(f"{name}: value(={bad[0]:g}) must be > 0 on a log axis")
    data_lo = min(values) if values else 1.0
    data_hi = max(values) if values else (10.0 if log else 1.0)
    if log:  # pad 5 % of the span in log space, so no point sits on the frame
        a, b = math.log10(data_lo), math.log10(data_hi)
        pad_log = 0.05 * (b - a) if b > a else 0.5
        low = lo if lo is not None else (10.0 ** (a - pad_log) or data_lo)  # 0.0: underflow
        high = hi if hi is not None else 10.0 ** min(b + pad_log, LOG10_MAX)
        return (low, high) if high > low else (low, min(low * 10.0, sys.float_info.max))
    # halves first: the span of two finite floats may not be finite
    pad = 0.1 * (data_hi / 2 - data_lo / 2) if data_hi > data_lo else max(1.0, abs(data_hi) * 0.1)
    low = lo if lo is not None else max(data_lo - pad, -sys.float_info.max)
    high = hi if hi is not None else min(data_hi + pad, sys.float_info.max)
    return (low, high) if high > low else (low, low + max(1.0, abs(low)))


def _linear_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    raw = hi / target - lo / target
    if not raw > 0:  # the ends are one float apart: label them
        return [lo, hi]
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(s * power for s in NICE_STEPS if s * power >= raw)
    first = math.ceil(lo / step)
    count = int(math.floor(hi / step)) - first + 1
    return [(first + i) * step for i in range(min(max(count, 0), 2 * target))]


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Decades; 1-2-5 steps when the range holds fewer than two decades; linear nice steps
    when it holds fewer than two of those."""
    first, last = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    if last - first >= 1:
        stride = max(1, math.ceil((last - first + 1) / 8))
        return [10.0 ** e for e in range(first, last + 1, stride)]
    candidates = (m * 10.0 ** e for e in range(first - 1, last + 1) for m in (1.0, 2.0, 5.0))
    inside = [v for v in candidates if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]
    return inside if len(inside) >= 2 else _linear_ticks(lo, hi)


def tick_label(value: float) -> str:
    """Short text: 0.5, 20, 1k, 3.2M, 1e-06, 1e+15."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if factor <= magnitude < factor * 1000:
            return f"{value / factor:g}{suffix}"
    if 1e-3 <= magnitude < 1e3:
        return f"{value:g}"
    return f"{value:.0e}"
