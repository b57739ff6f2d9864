"""Finding the slow rank from per-rank step times: three detectors and how they score.

* **timeout** — a rank's step took longer than ``timeout_s``: catches a hard slowdown
  at its first step, misses one that stays under the deadline.
* **relative progress** — a rank's mean step time over the last ``window`` steps is
  more than ``ratio`` times the median rank's: catches mild, persistent slowdowns,
  after a part of the window.
* **variance** — that window mean is more than ``z`` standard deviations above the mean
  over ranks (a z-score across ranks): adapts to the job's own spread, but one slow
  rank inflates the spread it is measured against, and many slow ranks hide each other.

Scoring against the simulation's truth (:func:`score`): a *spell* (consecutive slow
steps of one rank) is caught when the detector flags that rank during the spell or up
to ``window`` steps after it; the delay is steps from its first slow step to the first
flag. A flag on a rank that was not slow at that step nor in the ``window`` steps
before is a false positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import positive, positive_int


@dataclass(frozen=True, kw_only=True)
class Detectors:
    """Thresholds of the three detectors."""

    timeout_s: float
    """A step longer than this flags its rank."""
    window: int = 20
    """Steps in the sliding window of the two relative detectors."""
    ratio: float = 1.3
    """Relative progress: window mean above ``ratio`` x the median rank's flags."""
    z: float = 4.0
    """Variance: window mean more than ``z`` standard deviations above the ranks' mean."""

    def __post_init__(self) -> None:
        positive("timeout_s", self.timeout_s)
        positive_int("window", self.window)
        positive("ratio", self.ratio)
        positive("z", self.z)


def window_means(times: np.ndarray, window: int) -> np.ndarray:
    """Mean of each rank's last ``window`` step times (fewer at the start): (steps, ranks)."""
    csum = np.cumsum(times, axis=0)
    lagged = np.zeros_like(csum)
    lagged[window:] = csum[:-window]
    counts = np.minimum(np.arange(1, len(times) + 1), window)[:, None]
    means: np.ndarray = (csum - lagged) / counts
    return means


def flags(times: np.ndarray, det: Detectors) -> dict[str, np.ndarray]:
    """Per detector, a (steps, ranks) boolean array of flags."""
    means = window_means(times, det.window)
    median = np.median(means, axis=1, keepdims=True)
    spread = np.std(means, axis=1, keepdims=True)
    return {"timeout": times > det.timeout_s,
            "relative_progress": means > det.ratio * median,
            "variance": means > np.mean(means, axis=1, keepdims=True) + det.z * spread}


@dataclass(frozen=True, kw_only=True)
class Score:
    """How one detector did against the truth."""

    spells: int
    """Slow spells in the run."""
    caught: int
    """Spells flagged during the spell or within ``window`` steps after it."""
    mean_delay_steps: float
    """Mean steps from a caught spell's onset to its first flag (NaN if none caught)."""
    false_per_1000_rank_steps: float
    """Flags on ranks not slow then nor in the window before, per 1,000 rank-steps."""


def score(flagged: np.ndarray, slow: np.ndarray, *, window: int) -> Score:
    """Score ``flagged`` against the truth ``slow`` (both (steps, ranks))."""
    steps, ranks = slow.shape
    recent = window_means(slow.astype(float), window + 1) > 0  # slow now or lately
    false = int(np.sum(flagged & ~recent))
    caught, delays, spells = 0, [], 0
    for r in range(ranks):
        edges = np.diff(np.concatenate([[0], slow[:, r].astype(np.int8), [0]]))
        for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1),
                              strict=True):
            spells += 1
            hits = np.flatnonzero(flagged[start:min(end + window, steps), r])
            if len(hits):
                caught += 1
                delays.append(int(hits[0]))
    return Score(spells=spells, caught=caught,
                 mean_delay_steps=float(np.mean(delays)) if delays else float("nan"),
                 false_per_1000_rank_steps=1000.0 * false / (steps * ranks))
