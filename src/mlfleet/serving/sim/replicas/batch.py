"""Whole-batch service, shared by static and dynamic batching: one batch in flight.

A batch of B requests runs to completion as one unit. For a non-LLM replica it takes
``service(B)``. For an LLM replica it is one prefill iteration over all prompts, then
max(output) - 1 decode iterations at batch B — finished sequences keep their slot as
padding until the longest is done (FasterTransformer-style request-level batching,
the head-of-line blocking Orca removed). Every request of the batch gets its first
token when the prefill ends and its response when the batch ends.

A batch takes the requests that have waited longest, or, with a
:class:`~mlfleet.serving.policy.QueueDiscipline`, the first ones in its order
(Triton's dynamic batcher with ``priority_levels`` forms batches from the highest
priority first). Timeouts still count from the longest wait.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import deque

from mlfleet.errors import InputError
from mlfleet.serving.policy import QueueDiscipline
from mlfleet.serving.sim.decode_run import plan_run, run_duration_s
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.step_contract import StepTime
from mlfleet.serving.sim.steptime import BatchServiceTime


class BatchReplica(Replica):
    """Queue + one batch at a time; subclasses choose when to dispatch and how many."""

    def __init__(self, *, service: BatchServiceTime | None = None,
                 step_time: StepTime | None = None, discipline: QueueDiscipline | None = None,
                 group: str = "stable", weight: float = 1.0) -> None:
        super().__init__(group=group, weight=weight)
        if (service is None) == (step_time is None):
            raise InputError("a batching replica needs exactly one of service (non-LLM) "
                             "or step_time (LLM)")
        self.service = service
        self.step_time = step_time
        self.discipline = discipline
        """Who waits here, in the order served; None: ``_queue``, FIFO."""
        self._queue: deque[int] = deque()
        self._enqueued_s: deque[float] = deque()
        """FIFO: when each request in ``_queue`` started waiting."""
        self._since: dict[int, float] = {}
        """With a discipline: request id -> when it started waiting, oldest first."""
        self._batch: list[int] = []
        self._batch_seq = -1
        self._timeout_seq = -1
        self._timeout_s = math.inf
        self._batch_end_s = 0.0
        self.drained = False
        """True once the engine has no more arrivals to deliver."""

    @property
    def outstanding(self) -> int:
        return self.queued + len(self._batch)

    @property
    def queued(self) -> int:
        return len(self._queue) if self.discipline is None else len(self.discipline)

    def enqueue(self, rid: int, now_s: float) -> None:
        if self.discipline is None:
            self._queue.append(rid)
            self._enqueued_s.append(now_s)
        else:
            self.discipline.push(rid, self.columns.priority[rid], now_s)
            self._since[rid] = now_s
        if not self._batch:
            self._try_dispatch(now_s)

    def _oldest_since_s(self) -> float:
        """When the longest-waiting request started waiting (some request waits)."""
        if self.discipline is None:
            return self._enqueued_s[0]
        return next(iter(self._since.values()))

    def _take(self, size: int) -> list[int]:
        """Remove and return the next ``size`` waiting requests in serving order."""
        if self.discipline is None:
            for _ in range(size):
                self._enqueued_s.popleft()
            return [self._queue.popleft() for _ in range(size)]
        batch = [self.discipline.pop() for _ in range(size)]
        for rid in batch:
            del self._since[rid]
        return batch

    def on_timer(self, now_s: float, seq: int, payload: object) -> None:
        if seq == self._batch_seq:
            done, self._batch, self._batch_seq = self._batch, [], -1
            for rid in done:
                self.engine.complete(rid, now_s)
            self._try_dispatch(now_s)
        else:
            assert seq == self._timeout_seq, "a superseded timeout was not cancelled"
            self._timeout_seq, self._timeout_s = -1, math.inf
            if not self._batch:
                self._try_dispatch(now_s)

    def on_drained(self, now_s: float) -> None:
        self.drained = True
        if not self._batch:
            self._try_dispatch(now_s)

    def _set_timeout(self, at_s: float) -> None:
        """Wake at ``at_s`` to re-check (the earliest pending timeout wins)."""
        if at_s < self._timeout_s:
            self._sim.cancel(self._timeout_seq)  # superseded (a no-op for -1)
            self._timeout_s = at_s
            self._timeout_seq = self._sim.schedule(at_s, self._timer)

    @abstractmethod
    def _batch_size(self, now_s: float) -> int:
        """How many queued requests to dispatch now (0: wait; may set a timeout)."""

    def _try_dispatch(self, now_s: float) -> None:
        size = self._batch_size(now_s) if self.queued else 0
        if size <= 0:
            return
        batch = self._take(size)
        duration = self._run(batch, now_s)
        self._batch = batch
        self.busy_s += duration
        self._batch_end_s = now_s + duration
        self._batch_seq = self._sim.schedule(now_s + duration, self._timer)

    def _run(self, batch: list[int], now_s: float) -> float:
        """Start ``batch`` at ``now_s``: record milestones, return its duration."""
        cols = self.columns
        for rid in batch:
            cols.start_s[rid] = now_s
        if self.service is not None:
            return self.service(len(batch))
        assert self.step_time is not None
        prompts = [cols.prompt[rid] for rid in batch]
        prefill = self.step_time.iteration_s(0, 0.0, sum(prompts),
                                             sum(p * (p + 1) / 2.0 for p in prompts))
        for rid in batch:
            cols.first_token_s[rid] = now_s + prefill
        steps = max(cols.output[rid] for rid in batch) - 1
        if steps <= 0:
            return prefill
        run = plan_run(self.step_time, len(batch), float(sum(prompts)), steps)
        return prefill + run_duration_s(run, steps)

    def evict(self, now_s: float) -> list[int]:
        if self._batch:
            self.busy_s -= max(0.0, self._batch_end_s - now_s)
        waiting = list(self._queue) if self.discipline is None else self.discipline.drain()
        rids = sorted([*self._batch, *waiting])
        for seq in (self._batch_seq, self._timeout_seq):
            self._sim.cancel(seq)
        self._batch, self._batch_seq, self._timeout_seq = [], -1, -1
        self._timeout_s = math.inf
        self._queue.clear()
        self._enqueued_s.clear()
        self._since.clear()
        return rids
