"""vLLM-style scheduling over paged KV blocks, with preemption by recompute.

Kwon et al., "Efficient Memory Management for Large Language Model Serving with
PagedAttention", SOSP 2023, and the vLLM v0 scheduler:

* KV cache lives in blocks of ``block_size`` tokens allocated on demand; a sequence
  holding kv tokens holds ⌈kv / block_size⌉ blocks.
* Each step first tries to admit waiting requests (FCFS, stopping at the first that
  does not fit): at most ``max_seqs`` sequences, ``max_batched_tokens`` prompt tokens
  per step, and all of a prompt's blocks free beyond a ``watermark`` reserve. If any
  are admitted the step is a prefill-only iteration (decodes stall for it).
* Otherwise all running sequences decode one token. A sequence whose KV fills its
  last block needs a new one; when none is free, the newest running sequence is
  preempted — its blocks freed, the request put back at the head of the queue to be
  recomputed later (prefill of prompt + tokens generated so far).

Differences from vLLM stated plainly: block need is exact per sequence (vLLM v0 asks
for one free block per sequence), and no swapping to CPU.

Coalescing: with B sequences decoding, the one whose kv is ``off + n`` needs a block
at decode counter n' iff (off + n') ≡ 0 (mod block_size). A histogram of
``off mod block_size`` over the batch gives, in O(block_size), both the blocks a run
of k iterations allocates and the first iteration at which free blocks would run out,
so a decode run stops right before an allocation would fail.
"""

from __future__ import annotations

from mlfleet.errors import InputError
from mlfleet.serving.models.kv_cache import kv_capacity
from mlfleet.serving.sim.replicas.iteration import IterationReplica, Seq, whole
from mlfleet.serving.sim.step_contract import StepTime
from mlfleet.serving.sim.steptime import LlmStepTime

DEFAULT_BLOCK_SIZE = 16
"""vLLM's default block size on GPU (tokens per block)."""
DEFAULT_WATERMARK = 0.01
"""vLLM's default fraction of blocks kept free when admitting (``watermark``)."""
DEFAULT_MAX_BATCHED_TOKENS = 8192
"""Prompt tokens one prefill step may process (vLLM ``max_num_batched_tokens``)."""


def blocks_for(step_time: StepTime, *, hbm_bytes: float, block_size: int = DEFAULT_BLOCK_SIZE,
               memory_utilization: float = 0.9) -> int:
    """KV blocks an :class:`LlmStepTime` replica holds on GPUs of ``hbm_bytes``
    (:func:`mlfleet.serving.models.kv_cache.kv_capacity`)."""
    if not isinstance(step_time, LlmStepTime):
        raise InputError("give num_blocks explicitly: the step time is not an LlmStepTime")
    cap = kv_capacity(step_time.model, hbm_bytes=hbm_bytes, block_tokens=block_size,
                      memory_utilization=memory_utilization)
    if not cap.fits:
        raise InputError(f"the weights ({cap.weight_bytes / 1e9:.1f} GB per GPU) leave no "
                         f"KV space in {hbm_bytes / 1e9:.1f} GB at utilisation "
                         f"{memory_utilization:g}")
    return cap.blocks


class PagedReplica(IterationReplica):
    """vLLM v0-style scheduler over ``num_blocks`` KV blocks (see the module docstring)."""

    kind = "paged"

    def __init__(self, *, step_time: StepTime, num_blocks: int,
                 block_size: int = DEFAULT_BLOCK_SIZE, max_seqs: int = 256,
                 max_batched_tokens: int = DEFAULT_MAX_BATCHED_TOKENS,
                 watermark: float = DEFAULT_WATERMARK, group: str = "stable",
                 weight: float = 1.0) -> None:
        super().__init__(step_time=step_time, max_seqs=max_seqs, group=group, weight=weight)
        self.num_blocks = whole("num_blocks", num_blocks)
        self.block_size = whole("block_size", block_size)
        self.max_batched_tokens = whole("max_batched_tokens", max_batched_tokens)
        if not (isinstance(watermark, int | float) and 0 <= watermark < 1):
            raise InputError(f"watermark(={watermark!r}) must be in [0, 1)")
        self.watermark_blocks = int(watermark * num_blocks)
        self.free_blocks = num_blocks
        self._reserved = 0
        """Blocks taken for the first iteration of a fused run (:meth:`_reserve_first`)."""
        self._paged, self._bs, self._hist = True, block_size, [0] * block_size
        # prompt + output - 1 tokens of KV at the end (also the longest recompute) must fit
        # in the blocks above the watermark and in one prefill step
        longest = min((num_blocks - self.watermark_blocks) * block_size, max_batched_tokens)
        self._max_tokens = longest + 1

    # ------------------------------------------------------------- capacity

    def _can_join(self, seq: Seq) -> bool:
        return (self._admitted < self.max_seqs and seq.length <= self.max_batched_tokens
                and self.free_blocks + self._reserved - self._need(seq) >= self.watermark_blocks)

    def _need(self, seq: Seq) -> int:
        return -(-(seq.prompt + seq.generated) // self.block_size)

    def _held(self, seq: Seq) -> int:
        """Blocks ``seq`` holds now."""
        kv = seq.off + self.n if self.running.get(seq.rid) is seq else seq.length
        return -(-kv // self.block_size)

    # ------------------------------------------------------------- the step

    def _plan(self, now_s: float) -> float | None:
        if self.waiting:
            tokens, pairs = self._admit_waiting(now_s, self.max_batched_tokens, chunked=False)
            if self._pf:
                return self._fuse(now_s, self._step_time.iteration_s(0, 0.0, tokens, pairs))
        if not self._b:
            return None
        need = self._hist[-self.n % self._bs]
        if need <= self.free_blocks:
            self.free_blocks -= need
        else:
            self._allocate_step()
            if not self._b:  # everything was preempted: prefill again
                return self._plan(now_s)
        return self._decode_run(now_s)

    def _admit_waiting(self, now_s: float, budget: int, *, chunked: bool) -> tuple[int, float]:
        """Admit FCFS into ``_pf`` while seats, tokens and blocks allow; (tokens, pairs).

        Whole prompts must fit ``budget`` unless ``chunked``, which admits a first chunk
        and puts the sequence on the prefilling list.
        """
        tokens, pairs = 0, 0.0
        waiting, pf, bs = self.waiting, self._pf, self._bs
        start_s = self.columns.start_s
        while waiting and budget > 0:
            seq = waiting[0]
            length = seq.prompt + seq.generated
            need = -(-length // bs)
            if (self._admitted >= self.max_seqs or (length > budget and not chunked)
                    or self.free_blocks - need < self.watermark_blocks):
                break
            waiting.popleft()
            self.free_blocks -= need
            self._admitted += 1
            seq.length, seq.done = length, 0
            if start_s[seq.rid] != start_s[seq.rid]:  # NaN: first admission
                start_s[seq.rid] = now_s
            chunk = length if length <= budget else budget
            if chunked:
                self.prefilling.append(seq)
            pf.append((seq, chunk))
            tokens += chunk
            pairs += chunk * (chunk + 1) / 2.0
            budget -= chunk
        return tokens, pairs

    def _limit(self, k: int) -> int:
        """At most ``k``: the iterations (the first already allocated) before blocks run out."""
        b, bs, free = self._b, self.block_size, self.free_blocks
        full = free // b
        if k <= 1 + full * bs:  # every sequence can grow by full·bs tokens: no scan needed
            return k
        free -= full * b
        hist, n1 = self._hist, self.n + 1 + full * bs
        for t in range(bs):
            need = hist[-(n1 + t) % bs]
            if need > free:
                return min(k, 1 + full * bs + t)
            free -= need
        raise AssertionError("a block cycle needs all B blocks, more than were free")

    def _reserve_first(self) -> bool:
        need = self._hist[-self.n % self.block_size]
        if need > self.free_blocks:
            return False
        self.free_blocks -= need
        self._reserved = need
        return True

    def _unreserve(self) -> None:
        self.free_blocks += self._reserved
        self._reserved = 0

    def _advance(self, k: int) -> None:
        """``n += k``, allocating the blocks iterations 2..k need (the first iteration's
        were allocated when it was planned): B per full cycle of ``block_size``
        iterations, plus the sequences whose residue comes up in the partial cycle."""
        self._reserved = 0
        n1 = self.n + 1
        self.n += k
        k -= 1
        if k <= 0:
            return
        bs = self._bs
        rest = k % bs
        total = (k // bs) * self._b
        if rest:  # residues visited: r0, r0-1, ..., r0-rest+1 (mod bs)
            hist = self._hist
            r0 = -n1 % bs
            lo = r0 - rest + 1
            total += sum(hist[lo:r0 + 1]) if lo >= 0 else sum(hist[:r0 + 1]) + sum(hist[lo:])
        self.free_blocks -= total
        assert self.free_blocks >= 0, self.free_blocks

    # ------------------------------------------------------------- allocation and preemption

    def _allocate_step(self) -> None:
        """Allocate the blocks of the next decode iteration, preempting if they are short."""
        need = self._hist[-self.n % self.block_size]
        if need <= self.free_blocks:
            self.free_blocks -= need
            return
        victims: list[Seq] = []
        bs, n, running = self.block_size, self.n, self.running
        for seq in list(running.values()):
            if running.get(seq.rid) is not seq or (seq.off + n) % bs:
                continue
            while self.free_blocks == 0:
                victim = self.prefilling[-1] if self.prefilling \
                    else next(reversed(running.values()))
                self._preempt(victim)
                victims.append(victim)
                if victim is seq:
                    break
            if running.get(seq.rid) is seq:
                self.free_blocks -= 1
        self.waiting.extendleft(victims)  # oldest victim first, as vLLM requeues them

    def _preempt(self, seq: Seq) -> None:
        self.free_blocks += self._held(seq)
        if self.running.get(seq.rid) is seq:
            # ``generated`` counts tokens up to the join; decoding added one per iteration
            seq.generated += seq.off + self.n - seq.length
            self._leave(seq)
        else:
            self.prefilling.remove(seq)
        self._admitted -= 1
        seq.length, seq.done = seq.prompt + seq.generated, 0
        self.columns.preemptions[seq.rid] += 1

    # ------------------------------------------------------------- hooks

    def _release(self, seq: Seq) -> None:
        kv = seq.off + self.n if self.running.get(seq.rid) is seq else seq.length
        self.free_blocks += -(-kv // self._bs)

    def _reset_resources(self) -> None:
        self.free_blocks = self.num_blocks
        self._reserved = 0
