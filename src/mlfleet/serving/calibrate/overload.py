"""What the server's bounded queue guarantees an admitted request, measured per run.

The server admits a rank request while fewer than ``Q`` (``queue_capacity``) wait
(:class:`~mlfleet.serving.admission.queue_depth.QueueDepthAdmission`), and its batcher
takes the oldest up to ``B`` (``max_batch_size``) whenever it is free. A request enqueued
while batch ``j`` was the latest dispatched finds ``q <= Q - 1`` waiting ahead of it; each
batch before its own takes ``B`` of those (a batch takes fewer only when fewer wait, and
then it takes this request too), so it is served in batch ``j + floor(q / B) + 1`` at the
latest and its queue + service time is at most

    ``W_j = D[j + m + 1] + C[j + m + 1] - D[j]``,  ``m = floor((Q - 1) / B)``,

with ``D`` the batches' dispatch times and ``C`` their busy times, as the server logged
them in the same run. A request that finds the server idle first waits up to the max
queue delay for its batch to form. So every admitted request's queue + service time is
at most ``max_j W_j + max_queue_delay_s``: the queue-depth limit times the batch time the
machine actually achieved, however slow a loaded host made it. That is the hard check;
a fixed SLO is not, since a busy host slows every batch.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mlfleet.serving.calibrate.client import BatchingPolicy, BatchSamples
from mlfleet.serving.calibrate.overhead import timed
from mlfleet.serving.loadgen_spec import RequestRecord

FloatArray = npt.NDArray[np.float64]

TIMING_RESOLUTION_S = 1e-5
"""``Server-Timing`` durations carry 3 decimals of a millisecond (1 µs); two are summed,
and the batch log's clock is the same monotonic clock: 10 µs covers the rounding."""


def batches_ahead(policy: BatchingPolicy) -> int:
    """``m = floor((Q - 1) / B)``: full batches that can be ahead of an admitted request."""
    return (policy.queue_capacity - 1) // policy.max_batch_size


def wait_windows_s(policy: BatchingPolicy, batches: BatchSamples) -> FloatArray:
    """``W_j`` for every batch ``j`` whose window ends inside the log (module docstring)."""
    k = batches_ahead(policy) + 1
    d, c = batches.dispatched_s, batches.cycle_s
    if d.size <= k:
        return np.array([], dtype=np.float64)
    return d[k:] + c[k:] - d[:-k]


def wait_bound_s(policy: BatchingPolicy, batches: BatchSamples) -> float:
    """The most queue + service time an admitted request can have had in this run."""
    windows = wait_windows_s(policy, batches)
    longest = float(windows.max()) if windows.size else float(batches.cycle_s.sum())
    return longest + policy.max_queue_delay_s + TIMING_RESOLUTION_S


def admitted_waits_s(records: list[RequestRecord]) -> FloatArray:
    """Queue + service time (``Server-Timing``) of every successful request."""
    return np.array([r.server_s["queue"] + r.server_s["service"] for r in timed(records)],
                    dtype=np.float64)
