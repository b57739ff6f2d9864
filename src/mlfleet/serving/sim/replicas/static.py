"""Static batching: collect exactly N requests, then run them as one batch.

Simple and throughput-friendly at high load, but a request may wait for N - 1 others
(unbounded at low load) and, for LLMs, every request waits for the longest one in its
batch. A partial batch runs only once the arrivals have ended (so a finite run drains).
"""

from __future__ import annotations

from mlfleet.errors import InputError
from mlfleet.serving.policy import QueueDiscipline
from mlfleet.serving.sim.replicas.batch import BatchReplica
from mlfleet.serving.sim.step_contract import StepTime
from mlfleet.serving.sim.steptime import BatchServiceTime


class StaticBatchReplica(BatchReplica):
    """Dispatches ``batch_size`` requests whenever that many are queued."""

    kind = "static"

    def __init__(self, *, batch_size: int, service: BatchServiceTime | None = None,
                 step_time: StepTime | None = None, discipline: QueueDiscipline | None = None,
                 group: str = "stable", weight: float = 1.0) -> None:
        super().__init__(service=service, step_time=step_time, discipline=discipline,
                         group=group, weight=weight)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size(={batch_size!r}) must be an integer >= 1")
        self.batch_size = batch_size

    def _batch_size(self, now_s: float) -> int:
        n = self.queued
        if n >= self.batch_size:
            return self.batch_size
        return n if self.drained else 0
