"""Completed requests -> per-interval metric series, the judge's input.

Kayenta judges time series: one value per metric per interval (Netflix used one-minute
intervals). For each interval ``[start + i·interval_s, start + (i+1)·interval_s)`` of
completion times: ``requests``, ``errors`` (failed requests), ``error_rate``
(errors / requests), and ``latency_p50_s`` / ``latency_p99_s`` over the successful
requests. An interval with fewer than ``min_requests`` requests gets NaN for its
latencies and error rate (too few to say; the judge's NaN strategy removes them);
its counts stay (``errors`` is NaN only in an interval without requests).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

METRICS = ("requests", "errors", "error_rate", "latency_p50_s", "latency_p99_s")


def interval_index(time_s: FloatArray, *, start_s: float, interval_s: float,
                   n_intervals: int) -> IntArray:
    """Each time's interval (-1 outside ``[start_s, start_s + n·interval_s)``)."""
    idx = np.floor((np.asarray(time_s, float) - start_s) / interval_s).astype(np.int64)
    idx[(idx < 0) | (idx >= n_intervals)] = -1
    return idx


def interval_series(*, time_s: FloatArray, latency_s: FloatArray, ok: BoolArray,
                    start_s: float, interval_s: float, n_intervals: int,
                    min_requests: int = 1) -> dict[str, FloatArray]:
    """The metric series (``METRICS`` plus ``time_s``, each interval's start) of one group."""
    idx = interval_index(time_s, start_s=start_s, interval_s=interval_s, n_intervals=n_intervals)
    out = {name: np.full(n_intervals, np.nan) for name in METRICS}
    out["time_s"] = start_s + interval_s * np.arange(n_intervals, dtype=float)
    for i in range(n_intervals):
        rows = idx == i
        n, good = int(rows.sum()), rows & ok
        out["requests"][i] = n
        if n:
            out["errors"][i] = n - int(good.sum())
        if n < min_requests:
            continue
        out["error_rate"][i] = (n - int(good.sum())) / n
        if good.any():
            p50, p99 = np.quantile(latency_s[good], [0.5, 0.99])
            out["latency_p50_s"][i], out["latency_p99_s"][i] = p50, p99
    return out


def thin_to_counts(time_s: FloatArray, counts: FloatArray, *, start_s: float, interval_s: float,
                   rng: np.random.Generator) -> BoolArray:
    """A mask keeping, in each interval, at most ``counts[i]`` of the rows (at random).

    Kayenta compares a canary with a baseline of the same size (a fresh baseline
    cluster, not the whole fleet); thinning the fleet's requests to the canary's count
    per interval gives the baseline series the same sampling noise as the canary's.
    """
    idx = interval_index(time_s, start_s=start_s, interval_s=interval_s, n_intervals=counts.size)
    keep = np.zeros(idx.size, dtype=bool)
    for i, want in enumerate(counts.astype(np.int64).tolist()):
        rows = np.flatnonzero(idx == i)
        chosen = rows if rows.size <= want else rng.choice(rows, size=want, replace=False)
        keep[chosen] = True
    return keep
