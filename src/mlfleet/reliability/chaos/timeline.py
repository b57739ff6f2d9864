"""What clients saw over time: baseline, each fault's impact, and its time to recover.

Requests are placed at their *scheduled* time (open loop: a request scheduled during a
fault counts against the fault even if it ended later). A request is **bad** when it
failed or took longer than ``slow_factor`` × the baseline's p99 (the baseline is every
request scheduled before the first fault). Over rolling windows of ``window_s``,
stepped by a quarter window, a window is **degraded** when its bad fraction exceeds the
baseline's by more than ``tolerance``: one stray slow request in a window of forty
(2.5 %) is noise, a replica holding every request sent to it is not.

**Time to recover** of an episode (a fault and its undo, :mod:`.faults`) = the end of the
fault's degraded stretch minus the fault's time: the stretch starts with a degraded
window within ``hold_s`` of the fault and ends at the last degraded window after which
``hold_s`` pass without one (recovered *and stayed so*: a stray blip later, on a shared
host, is not the fault's). 0 when no window near the fault is degraded. It is measured the same way on the
simulator's records, so the two compare like for like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class Tolerance:
    """When a window counts as degraded (see the module docstring)."""

    window_s: float = 1.0
    slow_factor: float = 2.0
    """A success slower than this × the baseline p99 counts as bad."""
    tolerance: float = 0.05
    """A window is degraded when its bad fraction exceeds the baseline's by more."""
    hold_s: float = 2.0
    """Healthy time that ends a degraded stretch."""


@dataclass(frozen=True, kw_only=True)
class Phase:
    """Requests scheduled in [start_s, end_s): how many, how many failed, their p99."""

    start_s: float
    end_s: float
    requests: int
    failed_fraction: float
    p99_s: float


@dataclass(frozen=True, kw_only=True)
class EpisodeImpact:
    """One fault episode as clients saw it."""

    replica: int
    fault: str
    """The episode's first action (kill, stop, slow)."""
    fault_s: float
    during: Phase
    """From the fault to its undo (or the next episode)."""
    after: Phase
    """From the undo to the next episode (or the end)."""
    time_to_recover_s: float


def phase(t_s: FloatArray, latency_s: FloatArray, ok: BoolArray, start_s: float,
          end_s: float) -> Phase:
    """Stats of the requests scheduled in [start_s, end_s); p99 over the successes."""
    m = (t_s >= start_s) & (t_s < end_s)
    n = int(m.sum())
    good = latency_s[m & ok]
    return Phase(start_s=start_s, end_s=end_s, requests=n,
                 failed_fraction=float(np.sum(m & ~ok)) / n if n else 0.0,
                 p99_s=float(np.percentile(good, 99)) if good.size else float("nan"))


def bad_requests(latency_s: FloatArray, ok: BoolArray, *, baseline: Phase,
                 tol: Tolerance) -> BoolArray:
    """Failed, or slower than ``tol.slow_factor`` × the baseline p99."""
    slow = np.nan_to_num(latency_s, nan=np.inf) > tol.slow_factor * baseline.p99_s
    out: BoolArray = ~ok | slow
    return out


def degraded_windows(t_s: FloatArray, bad: BoolArray, *, baseline_bad: float,
                     tol: Tolerance, start_s: float, end_s: float) -> FloatArray:
    """Starts of the degraded windows that start in [start_s, end_s); a window holds
    only requests before ``end_s`` (the next fault is not this one's)."""
    starts = np.arange(start_s, end_s, tol.window_s / 4.0)
    lo = np.searchsorted(t_s, starts, side="left")
    hi = np.searchsorted(t_s, np.minimum(starts + tol.window_s, end_s), side="left")
    cum = np.concatenate([[0], np.cumsum(bad)])
    n = hi - lo
    frac = np.divide(cum[hi] - cum[lo], n, out=np.zeros(n.size), where=n > 0)
    out: FloatArray = starts[frac > baseline_bad + tol.tolerance]
    return out


def time_to_recover_s(t_s: FloatArray, bad: BoolArray, *, baseline_bad: float,
                      tol: Tolerance, fault_s: float, horizon_s: float) -> float:
    """End of the fault's degraded stretch minus ``fault_s`` (module docstring);
    ``t_s`` sorted (arrival order)."""
    starts = degraded_windows(t_s, bad, baseline_bad=baseline_bad, tol=tol, start_s=fault_s,
                              end_s=horizon_s)
    if not starts.size or starts[0] > fault_s + tol.hold_s:
        return 0.0
    gaps = np.flatnonzero(np.diff(starts) > tol.hold_s)
    last = starts[gaps[0]] if gaps.size else starts[-1]
    return float(last + tol.window_s - fault_s)


def replica_load(replica: npt.NDArray[np.int16], ok: BoolArray,
                 replicas: int) -> list[int]:
    """Successful replies per replica index."""
    return [int(np.sum(ok & (replica == r))) for r in range(replicas)]
