"""Chunked prefill under a per-iteration token budget (Sarathi-Serve).

Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
Sarathi-Serve", OSDI 2024: every iteration carries all running decodes (one token
each) plus prefill chunks filling the rest of a ``token_budget``. A long prompt is
split over several iterations instead of stalling the decodes for one long prefill
iteration (a "generation stall"), so iteration times stay bounded and the
time-per-output-token tail drops, at a small cost in time to first token.

KV memory is paged as in :mod:`.paged` (all of a prompt's blocks are allocated when it
is admitted); when a decode needs a block and none is free, the newest part-prefilled
sequence is preempted first, then the newest decoding one.
"""

from __future__ import annotations

from mlfleet.serving.sim.replicas.iteration import Seq, whole
from mlfleet.serving.sim.replicas.paged import DEFAULT_BLOCK_SIZE, DEFAULT_WATERMARK, PagedReplica
from mlfleet.serving.sim.step_contract import StepTime

DEFAULT_TOKEN_BUDGET = 512
"""Tokens per iteration (Sarathi-Serve evaluates budgets of 256-2048)."""


class ChunkedPrefillReplica(PagedReplica):
    """Decodes first, then prefill chunks, within ``token_budget`` tokens per iteration."""

    kind = "chunked"

    def __init__(self, *, step_time: StepTime, num_blocks: int,
                 token_budget: int = DEFAULT_TOKEN_BUDGET, block_size: int = DEFAULT_BLOCK_SIZE,
                 max_seqs: int = 256, watermark: float = DEFAULT_WATERMARK,
                 group: str = "stable", weight: float = 1.0) -> None:
        self.token_budget = whole("token_budget", token_budget)
        super().__init__(step_time=step_time, num_blocks=num_blocks, block_size=block_size,
                         max_seqs=max_seqs, max_batched_tokens=1 << 62, watermark=watermark,
                         group=group, weight=weight)

    def _plan(self, now_s: float) -> float | None:
        if self._b:
            self._allocate_step()
        budget = self.token_budget - self._b
        tokens, pairs, prefix = 0, 0.0, 0
        for seq in self.prefilling:  # continue part-done prompts first, FCFS
            if budget <= 0:
                break
            chunk = min(seq.length - seq.done, budget)
            self._pf.append((seq, chunk))
            tokens += chunk
            pairs += chunk * seq.done + chunk * (chunk + 1) / 2.0
            prefix += seq.done
            budget -= chunk
        if budget > 0:
            new_tokens, new_pairs = self._admit_waiting(now_s, budget, chunked=True)
            tokens, pairs = tokens + new_tokens, pairs + new_pairs
        if self._pf:
            return self._fuse(now_s, self._mixed_s(tokens, pairs, prefix))
        if not self._b:
            return None
        return self._decode_run(now_s)

    def _can_join(self, seq: Seq) -> bool:
        return (self._admitted < self.max_seqs
                and self.free_blocks + self._reserved - self._need(seq) >= self.watermark_blocks)

    def _would_admit(self, head: Seq) -> bool:
        # decodes allocate first (taken by the reservation), then prefill fills the budget
        return (self.token_budget > self._b and self._admitted < self.max_seqs
                and self.free_blocks - self._need(head) >= self.watermark_blocks)
