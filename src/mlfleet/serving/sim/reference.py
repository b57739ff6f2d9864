"""A deliberately naive LLM replica simulator: one loop turn per iteration, every
sequence's KV counted token by token. It is the oracle the coalesced engine is tested
against (same answers, to rounding) and the baseline its speed is compared with.

It implements the three iteration-level schedulers of ``serving/sim/replicas`` —
``continuous`` (Orca, reserved KV), ``paged`` (vLLM v0, prefill-first, preemption by
recompute) and ``chunked`` (Sarathi-Serve token budget) — for one replica, with the
semantics described in those modules, written as plainly as possible.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.step_contract import StepTime

SCHEDULERS = ("continuous", "paged", "chunked")


@dataclass(kw_only=True)
class _Seq:
    rid: int
    prompt: int
    output: int
    generated: int = 0
    kv: int = 0
    length: int = 0
    done: int = 0
    blocks: int = 0


@dataclass(frozen=True, kw_only=True)
class ReferenceConfig:
    """The replica being simulated (same meaning as the replicas' parameters)."""

    scheduler: str
    max_seqs: int = 256
    num_blocks: int = 1000
    block_size: int = 16
    max_batched_tokens: int = 8192
    watermark: float = 0.01
    token_budget: int = 512
    kv_capacity_tokens: int = 100_000

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULERS:
            raise InputError(f"scheduler(={self.scheduler!r}) is unknown; known: "
                             f"{', '.join(SCHEDULERS)}")


@dataclass(kw_only=True)
class ReferenceResult:
    """Per-request timings (NaN where not reached) and preemption counts."""

    start_s: npt.NDArray[np.float64]
    first_token_s: npt.NDArray[np.float64]
    finish_s: npt.NDArray[np.float64]
    preemptions: npt.NDArray[np.int64]
    rejected: npt.NDArray[np.bool_]
    iterations: int = 0


@dataclass(kw_only=True)
class _State:
    cfg: ReferenceConfig
    step: StepTime
    res: ReferenceResult
    t: float = 0.0
    free: int = 0
    reserved: int = 0
    waiting: deque[_Seq] = field(default_factory=deque)
    running: list[_Seq] = field(default_factory=list)
    prefilling: list[_Seq] = field(default_factory=list)

    @property
    def watermark_blocks(self) -> int:
        return int(self.cfg.watermark * self.cfg.num_blocks)


def simulate_reference(requests: RequestStream, *, step_time: StepTime,
                       config: ReferenceConfig) -> ReferenceResult:
    """Simulate ``requests`` on one replica, one iteration at a time."""
    n = len(requests)
    nan = np.full(n, np.nan)
    res = ReferenceResult(start_s=nan.copy(), first_token_s=nan.copy(), finish_s=nan.copy(),
                          preemptions=np.zeros(n, dtype=np.int64),
                          rejected=np.zeros(n, dtype=bool))
    st = _State(cfg=config, step=step_time, res=res, free=config.num_blocks)
    arrivals = requests.arrival_s.tolist()
    i = 0
    while True:
        while i < n and arrivals[i] <= st.t:
            _arrive(st, requests, i)
            i += 1
        if not (st.waiting or st.running or st.prefilling):
            if i == n:
                return res
            st.t = max(st.t, arrivals[i])
            continue
        if _iteration(st):
            res.iterations += 1


def _arrive(st: _State, requests: RequestStream, rid: int) -> None:
    seq = _Seq(rid=rid, prompt=int(requests.prompt_tokens[rid]),
               output=int(requests.output_tokens[rid]))
    cfg = st.cfg
    total = seq.prompt + seq.output
    if cfg.scheduler == "continuous":
        fits = total <= cfg.kv_capacity_tokens
    else:
        longest = total - 1
        fits = math.ceil(longest / cfg.block_size) <= cfg.num_blocks - st.watermark_blocks
        if cfg.scheduler == "paged":
            fits = fits and longest <= cfg.max_batched_tokens
    if not fits:
        st.res.rejected[rid] = True
        st.res.finish_s[rid] = requests.arrival_s[rid]
        return
    st.waiting.append(seq)


def _iteration(st: _State) -> bool:
    """Run one iteration (or only a scheduling change); whether time passed."""
    if st.cfg.scheduler == "paged":
        return _paged(st)
    if st.cfg.scheduler == "chunked":
        return _chunked(st)
    return _continuous(st)


# --------------------------------------------------------------------------- the schedulers


def _continuous(st: _State) -> bool:
    cfg, joining = st.cfg, list[_Seq]()
    while st.waiting:
        seq = st.waiting[0]
        if (len(st.running) + len(joining) >= cfg.max_seqs
                or st.reserved + seq.prompt + seq.output > cfg.kv_capacity_tokens):
            break
        st.waiting.popleft()
        st.reserved += seq.prompt + seq.output
        seq.length = seq.prompt
        _started(st, seq)
        joining.append(seq)
    tokens = sum(s.length for s in joining)
    pairs = sum(s.length * (s.length + 1) / 2.0 for s in joining)
    _run(st, tokens, pairs, 0, [(s, s.length) for s in joining])
    return True


def _paged(st: _State) -> bool:
    cfg, joining, tokens = st.cfg, list[_Seq](), 0
    while st.waiting:
        seq = st.waiting[0]
        length = seq.prompt + seq.generated
        need = math.ceil(length / cfg.block_size)
        if (len(st.running) + len(joining) >= cfg.max_seqs
                or tokens + length > cfg.max_batched_tokens
                or st.free - need < st.watermark_blocks):
            break
        st.waiting.popleft()
        st.free -= need
        seq.blocks, seq.length, seq.done = need, length, 0
        _started(st, seq)
        joining.append(seq)
        tokens += length
    if joining:  # a prefill-only iteration: the running decodes stall
        decoding, st.running = st.running, []
        pairs = sum(s.length * (s.length + 1) / 2.0 for s in joining)
        _run(st, tokens, pairs, 0, [(s, s.length) for s in joining])
        st.running = decoding + st.running
        return True
    _allocate_decode(st)
    if not st.running:  # everyone was preempted: admit again
        return False
    _run(st, 0, 0.0, 0, [])
    return True


def _chunked(st: _State) -> bool:
    cfg = st.cfg
    if st.running:
        _allocate_decode(st)
    budget = cfg.token_budget - len(st.running)
    chunks: list[tuple[_Seq, int]] = []
    for seq in st.prefilling:
        if budget <= 0:
            break
        chunks.append((seq, min(seq.length - seq.done, budget)))
        budget -= chunks[-1][1]
    while budget > 0 and st.waiting:
        seq = st.waiting[0]
        length = seq.prompt + seq.generated
        need = math.ceil(length / cfg.block_size)
        if (len(st.running) + len(st.prefilling) >= cfg.max_seqs
                or st.free - need < st.watermark_blocks):
            break
        st.waiting.popleft()
        st.free -= need
        seq.blocks, seq.length, seq.done = need, length, 0
        _started(st, seq)
        st.prefilling.append(seq)
        chunks.append((seq, min(length, budget)))
        budget -= chunks[-1][1]
    tokens = sum(c for _, c in chunks)
    pairs = sum(c * s.done + c * (c + 1) / 2.0 for s, c in chunks)
    prefix = sum(s.done for s, _ in chunks)
    if not (chunks or st.running):
        return False
    _run(st, tokens, pairs, prefix, chunks)
    return True


# --------------------------------------------------------------------------- shared pieces


def _started(st: _State, seq: _Seq) -> None:
    if math.isnan(st.res.start_s[seq.rid]):
        st.res.start_s[seq.rid] = st.t


def _allocate_decode(st: _State) -> None:
    """Give every decoding sequence whose last block is full a new block, preempting the
    newest (part-prefilled first) when none is free."""
    victims: list[_Seq] = []
    for seq in list(st.running):
        if seq not in st.running or seq.kv % st.cfg.block_size:
            continue
        while st.free == 0:
            victim = st.prefilling[-1] if st.prefilling else st.running[-1]
            _preempt(st, victim)
            victims.append(victim)
            if victim is seq:
                break
        if seq in st.running:
            st.free -= 1
            seq.blocks += 1
    st.waiting.extendleft(victims)


def _preempt(st: _State, seq: _Seq) -> None:
    st.free += seq.blocks
    if seq in st.running:
        st.running.remove(seq)
    else:
        st.prefilling.remove(seq)
    seq.blocks, seq.kv, seq.done = 0, 0, 0
    st.res.preemptions[seq.rid] += 1


def _run(st: _State, tokens: int, pairs: float, prefix: int,
         chunks: list[tuple[_Seq, int]]) -> None:
    """One iteration: every running sequence decodes a token; ``chunks`` are prefilled."""
    decoding = list(st.running)
    st.t += st.step.iteration_s(len(decoding), float(sum(s.kv for s in decoding)), tokens,
                                pairs, prefix)
    for seq in decoding:
        seq.kv += 1
        seq.generated += 1
        if seq.generated >= seq.output:
            st.running.remove(seq)
            _finish(st, seq)
    for seq, chunk in chunks:
        seq.done += chunk
        if seq.done < seq.length:
            continue
        if seq in st.prefilling:
            st.prefilling.remove(seq)
        seq.kv = seq.length
        seq.generated += 1
        if math.isnan(st.res.first_token_s[seq.rid]):
            st.res.first_token_s[seq.rid] = st.t
        if seq.generated >= seq.output:
            _finish(st, seq)
        else:
            st.running.append(seq)


def _finish(st: _State, seq: _Seq) -> None:
    st.res.finish_s[seq.rid] = st.t
    st.free += seq.blocks
    if st.cfg.scheduler == "continuous":
        st.reserved -= seq.prompt + seq.output
