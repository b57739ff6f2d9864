"""Orca-style iteration-level batching with KV memory reserved per request.

Yu et al., "Orca: A Distributed Serving System for Transformer-Based Generative
Models", OSDI 2022: the scheduler re-forms the batch every iteration, so a finished
sequence leaves at once and a new one joins at the next iteration, its prefill
batched with the running decodes (selective batching). Orca admits a request only if
KV space for its maximum length is free and reserves it for the request's lifetime
(§4.2); here the reservation is prompt + output tokens, so nothing is ever preempted.
The waste of that reservation is what paged attention (:mod:`.paged`) removes.
"""

from __future__ import annotations

from mlfleet.serving.sim.replicas.iteration import IterationReplica, Seq, whole
from mlfleet.serving.sim.step_contract import StepTime


class ContinuousReplica(IterationReplica):
    """Iteration-level batching; admission FCFS while slots and reserved KV allow."""

    kind = "continuous"

    def __init__(self, *, step_time: StepTime, kv_capacity_tokens: int, max_seqs: int = 256,
                 group: str = "stable", weight: float = 1.0) -> None:
        super().__init__(step_time=step_time, max_seqs=max_seqs, group=group, weight=weight)
        self.kv_capacity_tokens = whole("kv_capacity_tokens", kv_capacity_tokens)
        """KV tokens the replica can hold; each admitted request reserves prompt + output."""
        self.reserved_tokens = 0
        self._max_tokens = self.kv_capacity_tokens

    def _can_join(self, seq: Seq) -> bool:
        return (self._admitted < self.max_seqs
                and self.reserved_tokens + seq.prompt + seq.output <= self.kv_capacity_tokens)

    def _plan(self, now_s: float) -> float | None:
        tokens, pairs = 0, 0.0
        waiting = self.waiting
        while waiting and self._can_join(waiting[0]):
            seq = waiting.popleft()
            self.reserved_tokens += seq.prompt + seq.output
            self._admit(seq, now_s)
            self._pf.append((seq, seq.length))
            tokens += seq.length
            pairs += seq.length * (seq.length + 1) / 2.0
        if self._pf:
            return self._fuse(now_s, self._mixed_s(tokens, pairs))
        if not self._b:
            return None
        return self._decode_run(now_s)

    def _release(self, seq: Seq) -> None:
        self.reserved_tokens -= seq.prompt + seq.output

    def _reset_resources(self) -> None:
        self.reserved_tokens = 0
