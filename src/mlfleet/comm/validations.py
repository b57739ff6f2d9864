"""Validation provider of the communication chapter (``mlfleet validate``).

The pipelined ring AllReduce closed form against a block-by-block replay of its schedule,
and ZeRO's per-GPU memory against Rajbhandari et al. 2020. Everything is computed live.
"""

from __future__ import annotations

from functools import partial

from mlfleet.comm.cost.allreduce import pipelined_ring_allreduce_time
from mlfleet.comm.zero import zero_memory_bytes
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="comm")
RING_CASES = ((8, 64e6, 5e-6, 25e9, 1e-12, 1), (8, 64e6, 5e-6, 25e9, 1e-12, 8),
              (4, 1 << 20, 400e-6, 125e6, 3e-11, 2), (64, 1e9, 2e-6, 50e9, 0.0, 16),
              (3, 1e3, 1e-3, 1e9, 0.0, 4))
"""(ranks, bytes, α s, bandwidth B/s, γ s/B, blocks): NVLink-like, a slow lab link with
reduction cost, a large ring, and a latency-bound tiny message."""
ZERO_PAPER_GB = {"ddp": 120.0, "zero1": 31.4, "zero2": 16.6, "zero3": 1.9}
"""Rajbhandari et al. 2020 (SC20), Figure 1: per-GPU model-state memory of a 7.5B-parameter
model on 64 GPUs with mixed-precision Adam (K = 12), printed to 3 significant digits."""


def ring_schedule_time(*, ranks: int, size_bytes: float, alpha_s: float,
                       bw_bytes_per_s: float, gamma_s_per_byte: float, blocks: int) -> float:
    """Replay the pipelined ring's schedule block by block (every rank is symmetric).

    Each of the 2(n−1) steps sends ``blocks`` pieces of S/(n·k) bytes in order over one
    link; a piece leaves when the link is free and its predecessor from the previous step
    has arrived (α after its last byte) and, in the reduce-scatter half, been reduced.
    """
    piece = size_bytes / (ranks * blocks)
    wire_s = piece / bw_bytes_per_s
    ready_s = [0.0] * blocks
    link_s = 0.0
    for step in range(2 * (ranks - 1)):
        reduce_s = piece * gamma_s_per_byte if 1 <= step <= ranks - 1 else 0.0
        for j in range(blocks):
            link_s = max(link_s, ready_s[j] + reduce_s if step else 0.0) + wire_s
            ready_s[j] = link_s + alpha_s
    return max(ready_s)


def ring_checks() -> list[Check]:
    out = []
    for n, size, alpha, bw, gamma, k in RING_CASES:
        model = float(pipelined_ring_allreduce_time(n, size, alpha_s=alpha, bw_bytes_per_s=bw,
                                                    blocks=k, gamma_s_per_byte=gamma))
        replay = ring_schedule_time(ranks=n, size_bytes=size, alpha_s=alpha, bw_bytes_per_s=bw,
                                    gamma_s_per_byte=gamma, blocks=k)
        out.append(_check(
            id=f"comm.ring-allreduce.schedule.n{n}-{size:.0f}B-k{k}",
            quantity=f"AllReduce time, {n} ranks, {size:.3g} B, {k} blocks (s)",
            model="comm.cost.allreduce.pipelined_ring_allreduce_time",
            reference="block-by-block replay of the ring's schedule", reference_kind="exact",
            reference_value=replay, predicted=model, bound=1e-9))
    return out


def zero_checks() -> list[Check]:
    return [_check(id=f"comm.zero.memory.7.5b-64gpu.{stage}",
                   quantity=f"{stage} model-state memory per GPU, 7.5B params, 64 GPUs (GB)",
                   model="comm.zero.zero_memory_bytes",
                   reference="Rajbhandari et al. 2020 (ZeRO, SC20), Figure 1",
                   reference_kind="published", reference_value=published,
                   predicted=zero_memory_bytes(7.5e9, 64, stage=stage) / 1e9, bound=0.05,
                   absolute=True, note="the figure prints 3 significant digits")
            for stage, published in ZERO_PAPER_GB.items()]


def provide(ctx: Context) -> list[Check]:
    return [*ring_checks(), *zero_checks()]
