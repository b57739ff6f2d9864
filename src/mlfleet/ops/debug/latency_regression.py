"""A serving latency series with a regression at a known time, from the serving simulator.

Poisson arrivals into ``servers`` identical servers behind one FIFO queue (the serving
simulator's FIFO recursion, :func:`mlfleet.serving.sim.mmc.fifo_starts`), exponential
service whose mean is multiplied by ``slowdown`` for requests arriving after
``change_s`` (a deploy of a slower model version). Latency = queue wait + service; the
series is the mean latency of each ``window_s`` window. :func:`delay_and_false_alarms`
runs the CUSUM on many seeds and reports what an on-call engineer cares about: how long
after the deploy the alarm comes, and how many alarms come with nothing changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.ops.debug.changepoints import CusumConfig, cusum
from mlfleet.serving.sim.mmc import fifo_starts


@dataclass(frozen=True, kw_only=True)
class RegressionRun:
    """One simulated latency series with a regression."""

    servers: int = 4
    rate_per_s: float = 200.0
    service_mean_s: float = 0.01
    """Before the change: utilisation = rate x mean / servers = 0.5."""
    slowdown: float = 1.3
    """Service-time multiplier from ``change_s`` on (1: no change)."""
    change_s: float = 300.0
    duration_s: float = 600.0
    window_s: float = 1.0


def window_latency_s(rng: np.random.Generator, run: RegressionRun) -> npt.NDArray[np.float64]:
    """Mean latency (s) of each window of the run."""
    n = int(run.rate_per_s * run.duration_s * 1.2) + 100
    arrival_s = np.cumsum(rng.exponential(1.0 / run.rate_per_s, n))
    arrival_s = arrival_s[arrival_s < run.duration_s]
    service_s = rng.exponential(run.service_mean_s, arrival_s.size)
    service_s[arrival_s >= run.change_s] *= run.slowdown
    starts = np.asarray(fifo_starts(arrival_s.tolist(), service_s.tolist(),
                                    [-math.inf] * run.servers))
    latency_s = starts - arrival_s + service_s
    windows = (arrival_s // run.window_s).astype(np.int64)
    count = np.bincount(windows, minlength=int(run.duration_s / run.window_s))
    total = np.bincount(windows, weights=latency_s, minlength=count.size)
    return np.asarray(total / np.maximum(count, 1), dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class DetectionStats:
    """The CUSUM's record over seeds."""

    runs: int
    detected: int
    """Runs with an alarm at or after the change."""
    median_delay_s: float
    """Median time from the change to the first alarm after it (detected runs)."""
    false_alarms: int
    """Alarms before the change, all runs."""
    false_alarms_per_hour: float
    change_error_s: float
    """Median |estimated change time - true change time| (detected runs)."""


def delay_and_false_alarms(seeds: range, run: RegressionRun,
                           config: CusumConfig | None = None) -> DetectionStats:
    """Run the CUSUM on the window series of every seed (see the module docstring)."""
    config = config or CusumConfig()
    change_w = run.change_s / run.window_s
    delays, errors, false = [], [], 0
    for seed in seeds:
        found = cusum(window_latency_s(np.random.default_rng([seed, 0x1A7]), run), config)
        false += sum(c.alarm_index < change_w for c in found)
        after = [c for c in found if c.alarm_index >= change_w]
        if after:
            delays.append((after[0].alarm_index + 1 - change_w) * run.window_s)
            errors.append(abs(after[0].change_index - change_w) * run.window_s)
    watched_h = len(seeds) * (min(run.change_s, run.duration_s)
                              - config.baseline * run.window_s) / 3600
    return DetectionStats(runs=len(seeds), detected=len(delays),
                          median_delay_s=float(np.median(delays)) if delays else math.nan,
                          false_alarms=false, false_alarms_per_hour=false / watched_h,
                          change_error_s=float(np.median(errors)) if errors else math.nan)
