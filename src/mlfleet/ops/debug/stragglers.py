"""Stragglers from per-rank logs: robust z-scores across ranks per step, with persistence.

At every step each rank's compute time (data + forward + backward: the work before the
allreduce, which a slow rank does slowly and a fast rank does not wait in) is scored
against the other ranks of the same step with the modified z-score of Iglewicz and
Hoaglin (*How to Detect and Handle Outliers*, ASQC 1993, ch. 2)::

    z = (x - median) / (1.4826 · MAD)        flagged when z > z_threshold (3.5 there)

1.4826 · MAD estimates the standard deviation of normal noise. The MAD is floored at
``mad_floor_fraction`` of the median: with a handful of ranks the MAD can be ~0 and make
any jitter an outlier. A rank is a straggler when it is flagged on at least
``persist_fraction`` of the steps of some window of ``window`` steps: one descheduled step
(a shared host's hiccup) is not a straggler, a rank slow from some step on is. This
differs from :mod:`mlfleet.reliability.train.stragglers` (window medians over ratios, the
run's own monitor) in scoring each step across ranks, so its onset step is exact.
Needs at least three ranks: with two, the median is their mean and neither stands out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.ops.debug.log_reader import RankSpans, phase_matrix
from mlfleet.ops.debug.robust import MAD_TO_SIGMA

COMPUTE_PHASES = ("data", "forward", "backward")
"""Phases summed into a step's compute time (``collective`` for a collective run)."""


@dataclass(frozen=True, kw_only=True)
class StragglerConfig:
    """Thresholds of :func:`detect_stragglers`."""

    z_threshold: float = 3.5
    """Modified z-score above which a rank-step is slow (Iglewicz & Hoaglin 1993)."""
    window: int = 10
    """Steps in the persistence window."""
    persist_fraction: float = 0.6
    """Share of a window's steps a straggler must be flagged on."""
    mad_floor_fraction: float = 0.05
    """The MAD is at least this fraction of the step's median time."""

    def __post_init__(self) -> None:
        positive("z_threshold", self.z_threshold)
        positive_int("window", self.window)
        fraction("persist_fraction", self.persist_fraction, open_low=True)
        fraction("mad_floor_fraction", self.mad_floor_fraction, open_low=True)


@dataclass(frozen=True, kw_only=True)
class Straggler:
    """One rank found persistently slow."""

    rank: int
    first_step: int
    """First slow step of the first window in which it qualified."""
    flagged_fraction: float
    """Share of all steps on which it was flagged."""
    slowdown: float
    """Median over its flagged steps of its time / the step's median time."""


def robust_z(times_s: npt.NDArray[np.float64], *, mad_floor_fraction: float = 0.05
             ) -> npt.NDArray[np.float64]:
    """(ranks, steps) modified z-scores of each rank against the ranks of the same step."""
    median = np.median(times_s, axis=0)  # (steps,)
    mad = np.median(np.abs(times_s - median), axis=0)
    scale = np.maximum(MAD_TO_SIGMA * mad, mad_floor_fraction * median)
    return np.asarray((times_s - median) / np.where(scale > 0, scale, 1.0), dtype=np.float64)


def detect_stragglers(times_s: npt.NDArray[np.float64], *, ranks: list[int], steps: list[int],
                      config: StragglerConfig | None = None) -> list[Straggler]:
    """Stragglers in ``times_s`` (ranks, steps); [] with fewer than 3 ranks or ``window`` steps."""
    config = config or StragglerConfig()
    if times_s.shape[0] < 3 or times_s.shape[1] < config.window:
        return []
    flagged = robust_z(times_s, mad_floor_fraction=config.mad_floor_fraction) \
        > config.z_threshold
    kernel = np.ones(config.window)
    need = config.persist_fraction * config.window
    ratio = times_s / np.median(times_s, axis=0)
    found = []
    for row in range(times_s.shape[0]):
        counts = np.convolve(flagged[row].astype(float), kernel, "valid")
        hits = np.flatnonzero(counts >= need - 1e-9)
        if hits.size:
            first = int(hits[0]) + int(np.argmax(flagged[row, hits[0]:hits[0] + config.window]))
            found.append(Straggler(rank=ranks[row], first_step=steps[first],
                                   flagged_fraction=float(flagged[row].mean()),
                                   slowdown=float(np.median(ratio[row][flagged[row]]))))
    return found


def stragglers_from_logs(spans: RankSpans, *, config: StragglerConfig | None = None,
                         phases: tuple[str, ...] = COMPUTE_PHASES) -> tuple[
                             list[Straggler], int]:
    """(stragglers, steps compared) from a log directory's spans; a collective run's logs
    (no compute phases) are scored on their ``collective`` spans."""
    if not any(s.phase in phases for rank_spans in spans.values() for s in rank_spans):
        phases = ("collective",)
    ranks, steps, times = phase_matrix(spans, phases)
    return detect_stragglers(times, ranks=ranks, steps=steps, config=config), len(steps)
