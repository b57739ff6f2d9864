"""Straggler detection from per-rank step compute times (the real run's half of issue 11 item 5).

A data-parallel step waits for its slowest rank at the allreduce, so one slow rank slows
everyone; its *compute* time (before the allreduce) is what gives it away. Three
detectors, each over a sliding window of ``window`` steps, as in-production monitors do:

* **relative progress** — a rank whose median compute time over the window exceeds
  ``relative_threshold`` x the median of the other ranks' medians;
* **variance** — the coefficient of variation of the ranks' window medians exceeds
  ``cv_threshold``: the rank furthest above the mean is flagged;
* **timeout** — a rank whose compute time exceeds ``timeout_factor`` x the all-rank median
  of the window on ``timeout_run`` consecutive steps.

Medians over a window, not single steps, so a shared host's scheduling noise (a step
delayed by another process) does not raise an alarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, kw_only=True)
class StragglerFinding:
    """One detector's verdict on one rank."""

    rank: int
    method: str
    """``relative``, ``variance`` or ``timeout``."""
    step: int
    """The step at which the detector first flagged the rank."""
    ratio: float
    """The rank's window-median compute time / the other ranks' median, at that step."""

    def text(self) -> str:
        return (f"rank {self.rank} straggles ({self.method}, from step {self.step}: "
                f"{self.ratio:.1f}x the others' compute time)")


@dataclass(frozen=True, kw_only=True)
class StragglerConfig:
    """Detector thresholds."""

    window: int = 10
    relative_threshold: float = 2.0
    cv_threshold: float = 0.3
    timeout_factor: float = 4.0
    timeout_run: int = 3


def detect_stragglers(compute_s: Mapping[int, Sequence[tuple[int, float]]],
                      config: StragglerConfig | None = None) -> list[StragglerFinding]:
    """Findings for ``compute_s`` (rank -> ``(step, seconds)`` in execution order).

    Ranks are compared execution by execution over the executions every rank has (after
    an elastic shrink the missing rank's tail is ignored). Fewer than two ranks or fewer
    than ``window`` executions: no finding.
    """
    config = config or StragglerConfig()
    ranks = sorted(compute_s)
    n = min((len(compute_s[r]) for r in ranks), default=0)
    if len(ranks) < 2 or n < config.window:
        return []
    times = np.array([[s for _, s in compute_s[r][:n]] for r in ranks])  # (ranks, n)
    steps = [step for step, _ in compute_s[ranks[0]][:n]]
    findings: list[StragglerFinding] = []
    for method, flags in (("relative", _relative(times, config)),
                          ("variance", _variance(times, config)),
                          ("timeout", _timeout(times, config))):
        for row, first, ratio in flags:
            findings.append(StragglerFinding(rank=ranks[row], method=method, step=steps[first],
                                             ratio=ratio))
    return findings


def _window_medians(times: npt.NDArray[np.float64], window: int) -> npt.NDArray[np.float64]:
    """(ranks, n - window + 1): each rank's median over each window."""
    views = np.lib.stride_tricks.sliding_window_view(times, window, axis=1)
    return np.asarray(np.median(views, axis=2), dtype=np.float64)


def _others(medians: npt.NDArray[np.float64], row: int) -> npt.NDArray[np.float64]:
    return np.asarray(np.median(np.delete(medians, row, axis=0), axis=0), dtype=np.float64)


def _first(flagged: npt.NDArray[np.bool_]) -> int | None:
    hits = np.flatnonzero(flagged)
    return int(hits[0]) if hits.size else None


def _relative(times: npt.NDArray[np.float64], config: StragglerConfig) -> list[tuple[int, int, float]]:
    medians = _window_medians(times, config.window)
    out = []
    for row in range(times.shape[0]):
        ratio = medians[row] / _others(medians, row)
        first = _first(ratio > config.relative_threshold)
        if first is not None:
            out.append((row, first + config.window - 1, float(ratio[first])))
    return out


def _variance(times: npt.NDArray[np.float64], config: StragglerConfig) -> list[tuple[int, int, float]]:
    medians = _window_medians(times, config.window)
    cv = medians.std(axis=0) / medians.mean(axis=0)
    first = _first(cv > config.cv_threshold)
    if first is None:
        return []
    row = int(np.argmax(medians[:, first]))
    return [(row, first + config.window - 1, float(medians[row, first]
                                                    / _others(medians, row)[first]))]


def _timeout(times: npt.NDArray[np.float64], config: StragglerConfig) -> list[tuple[int, int, float]]:
    medians = _window_medians(times, config.window)
    overall = np.median(medians, axis=0)  # (n - window + 1,)
    late = times[:, config.window - 1:] > config.timeout_factor * overall
    out = []
    for row in range(times.shape[0]):
        runs = np.convolve(late[row].astype(int), np.ones(config.timeout_run, dtype=int), "valid")
        first = _first(runs == config.timeout_run)
        if first is not None:
            at = first + config.timeout_run - 1
            out.append((row, at + config.window - 1,
                        float(medians[row, at] / _others(medians, row)[at])))
    return out
