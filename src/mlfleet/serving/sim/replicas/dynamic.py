"""Dynamic batching as in NVIDIA Triton's dynamic batcher.

When the server is free: dispatch ``max_batch`` if that many wait; else the largest
preferred batch size that can be formed; else wait until the oldest queued request
has waited ``max_queue_delay_s`` and dispatch whatever is there. With a zero delay it
dispatches at once (batches form only from requests that queued while busy). With a
queue discipline, batches take requests in its order (Triton's ``priority_levels``:
higher priority first) while the delay still counts from the longest wait.
Source: Triton Inference Server docs, "Dynamic Batcher" (model configuration:
``max_batch_size``, ``preferred_batch_size``, ``max_queue_delay_microseconds``,
``priority_levels``).
"""

from __future__ import annotations

import math

from mlfleet.errors import InputError
from mlfleet.serving.policy import QueueDiscipline
from mlfleet.serving.sim.replicas.batch import BatchReplica
from mlfleet.serving.sim.step_contract import StepTime
from mlfleet.serving.sim.steptime import BatchServiceTime


class DynamicBatchReplica(BatchReplica):
    """Triton-style batching: max batch, max queue delay, preferred sizes."""

    kind = "dynamic"

    def __init__(self, *, max_batch: int, max_queue_delay_s: float = 0.0,
                 preferred_sizes: tuple[int, ...] = (), service: BatchServiceTime | None = None,
                 step_time: StepTime | None = None, discipline: QueueDiscipline | None = None,
                 group: str = "stable", weight: float = 1.0) -> None:
        super().__init__(service=service, step_time=step_time, discipline=discipline,
                         group=group, weight=weight)
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise InputError(f"max_batch(={max_batch!r}) must be an integer >= 1")
        if not (math.isfinite(max_queue_delay_s) and max_queue_delay_s >= 0):
            raise InputError(f"max_queue_delay_s(={max_queue_delay_s!r}) must be a finite "
                             "number >= 0")
        bad = [p for p in preferred_sizes if not (isinstance(p, int) and 1 <= p <= max_batch)]
        if bad:
            raise InputError(f"preferred_sizes(={bad[0]!r}) must be integers in "
                             f"[1, max_batch={max_batch}]")
        self.max_batch = max_batch
        self.max_queue_delay_s = float(max_queue_delay_s)
        self.preferred_sizes = tuple(sorted(set(preferred_sizes)))

    def _batch_size(self, now_s: float) -> int:
        n = self.queued
        if n >= self.max_batch:
            return self.max_batch
        preferred = [p for p in self.preferred_sizes if p <= n]
        if preferred:
            return preferred[-1]
        deadline = self._oldest_since_s() + self.max_queue_delay_s
        if deadline <= now_s:
            return n
        self._set_timeout(deadline)
        return 0
