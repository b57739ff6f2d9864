"""How late the real batcher dispatched a batch once it was due, over one run.

The server's batcher dispatches a batch when ``max_batch`` requests wait or its oldest
request has waited the max queue delay, or, if the worker was busy then, when the worker
frees up: that moment is when the batch was *due*. On a loaded host the event loop is
late: it wakes late from its timer (a sleeping process waits to be scheduled), and in
saturation it parses requests and answers 429s before it dispatches the next batch. On
the 2-vCPU development VM with other processes using 1.7 cores, partial batches left a
mean 1.9 ms (p90 5.9 ms) after they were due at 30 % load, against a 4 ms max delay.
The trace-driven simulator starts each batch the lateness of the latest real batch due
at or before its dispatch later
(:class:`~mlfleet.serving.calibrate.simulate.TracedBatchTime`), so the host's
responsiveness, like its pace, comes from the run itself.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.serving.calibrate.client import BatchingPolicy, BatchSamples
from mlfleet.serving.calibrate.overhead import dispatch_times_s, timed
from mlfleet.serving.loadgen_spec import RequestRecord

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class DispatchLateness:
    """Dispatch minus due time of the real batches, by due time."""

    due_s: FloatArray
    """When each partial batch was due, run clock (seconds), ascending."""
    late_s: FloatArray

    @classmethod
    def measure(cls, records: Sequence[RequestRecord], batches: BatchSamples, *,
                t0_s: float, policy: BatchingPolicy) -> DispatchLateness:
        """From one run's records (each request's batch and queue time) and batch log."""
        ok = timed(records)
        dispatched = dispatch_times_s(ok, batches, t0_s=t0_s)
        joined = dispatched - np.array([r.server_s["queue"] for r in ok])
        log_d, log_end = batches.dispatched_s - t0_s, batches.dispatched_s - t0_s + batches.cycle_s
        due, late = [], []
        for i in range(1, log_d.size):
            members = joined[dispatched == log_d[i]]
            if members.size == 0:
                continue
            formed = (float(members.max()) if members.size >= policy.max_batch_size
                      else float(members.min()) + policy.max_queue_delay_s)
            ready = max(formed, float(log_end[i - 1]))
            due.append(ready)
            late.append(max(float(log_d[i]) - ready, 0.0))
        order = np.argsort(due)
        return cls(due_s=np.array(due)[order], late_s=np.array(late)[order])

    def at(self, t_s: float) -> float:
        """The lateness of the latest real batch due at or before ``t_s`` (the first
        one's before it; 0 without any)."""
        if self.due_s.size == 0:
            return 0.0
        i = int(np.searchsorted(self.due_s, t_s, side="right")) - 1
        return float(self.late_s[max(i, 0)])
