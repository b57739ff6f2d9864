"""Waiting-time statistics in bounded memory: exact sums and counts, batch means over
consecutive ranges, and percentiles from a fixed log-spaced histogram.

A run hands its values over in chunks, in order; nothing kept grows with the number
of values. The mean and the fraction of positive values are exact (a count and a
sum of correctly rounded chunk sums, :func:`math.fsum`); a percentile is
``np.percentile``'s (linear interpolation between order statistics) with each order
statistic replaced by the centre of its histogram bin, so its relative error is at
most :attr:`LogBins.relative_error` for values in ``[low, high)`` (tested against
``np.percentile``). Zero is its own bin and is exact; a positive value below ``low``
is off by at most ``low / 2``; one at or above ``high`` is reported as ``high``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class LogBins:
    """Log-spaced bins over ``[low, high)`` whose centres are within ``relative_error``
    of every value they hold; bin 0 holds zeros (and negatives), bin 1 ``(0, low)``,
    the last ``[high, ∞)``."""

    low: float
    """Smallest value binned with the relative error (same unit as the values)."""
    high: float
    """Values at or above it are counted as ``high``."""
    relative_error: float = 1e-3
    """Largest |centre - value| / value inside ``[low, high)``."""
    ratio: float = field(init=False)
    """Ratio of a bin's upper to its lower edge: (1 + relative_error)²."""
    log_bins: int = field(init=False)
    """Number of log-spaced bins."""

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high or not 0 < self.relative_error < 1:
            raise ValueError(f"LogBins(low={self.low!r}, high={self.high!r}, "
                             f"relative_error={self.relative_error!r}) needs "
                             "0 < low < high and 0 < relative_error < 1")
        ratio = (1.0 + self.relative_error) ** 2
        object.__setattr__(self, "ratio", ratio)
        object.__setattr__(self, "log_bins",
                           math.ceil(math.log(self.high / self.low) / math.log(ratio)))

    @property
    def size(self) -> int:
        """Bins in all: zero, below ``low``, the log bins, at or above ``high``."""
        return self.log_bins + 3

    def index(self, values: Floats) -> npt.NDArray[np.intp]:
        """The bin of each value."""
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.floor(np.log(values / self.low) / math.log(self.ratio))
        k = np.clip(np.nan_to_num(k, nan=-1.0, neginf=-1.0), -1, self.log_bins) + 2
        k[values <= 0] = 0
        index: npt.NDArray[np.intp] = k.astype(np.intp)
        return index

    def centre(self, index: int) -> float:
        """The value a bin stands for: its geometric centre for a log bin."""
        if index == 0:
            return 0.0
        if index == 1:
            return 0.5 * self.low
        if index == self.size - 1:
            return self.high
        return float(self.low * self.ratio ** (index - 2 + 0.5))


@dataclass(kw_only=True)
class Summary:
    """Count, exact sum, positive count and histogram of some values."""

    bins: LogBins
    count: int = 0
    positive: int = 0
    sums: list[float] = field(default_factory=list)
    counts: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = np.zeros(self.bins.size, dtype=np.int64)

    def add(self, values: Floats) -> None:
        self.count += len(values)
        self.positive += int(np.count_nonzero(values > 0))
        self.sums.append(math.fsum(values))
        self.counts += np.bincount(self.bins.index(values), minlength=self.bins.size)

    def merge(self, other: Summary) -> None:
        self.count += other.count
        self.positive += other.positive
        self.sums.extend(other.sums)
        self.counts += other.counts

    def mean(self) -> float:
        return math.fsum(self.sums) / self.count

    def fraction_positive(self) -> float:
        return self.positive / self.count

    def percentile(self, q: float) -> float:
        """As ``np.percentile(values, q)`` (linear), each order statistic read as the
        centre of its bin."""
        rank = (self.count - 1) * q / 100.0
        below = math.floor(rank)
        cumulative = np.cumsum(self.counts)
        lo, hi = np.searchsorted(cumulative, [below, min(below + 1, self.count - 1)],
                                 side="right")
        v_lo, v_hi = self.bins.centre(int(lo)), self.bins.centre(int(hi))
        return v_lo + (rank - below) * (v_hi - v_lo)


@dataclass(kw_only=True)
class BatchedSummary:
    """A :class:`Summary` per batch, the batches ``np.array_split(values, batches)``'s
    consecutive ranges of ``total`` values fed in order through :meth:`add`."""

    total: int
    batches: int
    bins: LogBins
    parts: list[Summary] = field(init=False)
    ends: list[int] = field(init=False)
    seen: int = 0

    def __post_init__(self) -> None:
        size, extra = divmod(self.total, self.batches)
        sizes = [size + 1] * extra + [size] * (self.batches - extra)
        self.ends = np.cumsum(sizes).tolist()
        self.parts = [Summary(bins=self.bins) for _ in sizes]

    def add(self, values: Floats) -> None:
        """The next ``len(values)`` values, split at batch boundaries."""
        begin, stop = self.seen, self.seen + len(values)
        for part, low, high in zip(self.parts, [0, *self.ends[:-1]], self.ends, strict=True):
            lo, hi = max(begin, low), min(stop, high)
            if lo < hi:
                part.add(values[lo - begin:hi - begin])
        self.seen += len(values)

    def pooled(self) -> Summary:
        whole = Summary(bins=self.bins)
        for part in self.parts:
            whole.merge(part)
        return whole
