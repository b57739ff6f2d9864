"""ZeRO stages and FSDP: per-GPU model-state memory and per-step communication volume.

Ψ parameters trained with mixed-precision Adam hold 2Ψ bytes of fp16/bf16
parameters, 2Ψ of gradients and KΨ of optimizer state (fp32 master weights,
momentum and variance: K = 12). Sharding over N_d data-parallel GPUs
(Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion
Parameter Models", SC'20, Fig. 1 and §5):

=======  =====================  =============================================
stage    memory per GPU         bytes sent per GPU per step (b bytes/element)
=======  =====================  =============================================
DDP      (2 + 2 + K)Ψ           AllReduce: 2·Ψb·(N-1)/N
ZeRO-1   2Ψ + 2Ψ + KΨ/N         ReduceScatter + AllGather: 2·Ψb·(N-1)/N
ZeRO-2   2Ψ + (2 + K)Ψ/N        ReduceScatter + AllGather: 2·Ψb·(N-1)/N
ZeRO-3   (2 + 2 + K)Ψ/N         AllGather (fwd) + AllGather (bwd) +
                                ReduceScatter: 3·Ψb·(N-1)/N, 1.5x DDP (§7)
=======  =====================  =============================================

PyTorch FSDP (Zhao et al. 2023, "PyTorch FSDP: Experiences on Scaling Fully
Sharded Data Parallel", VLDB 16(12)): FULL_SHARD is ZeRO-3's schedule,
SHARD_GRAD_OP ZeRO-2's. Volumes here are bytes each GPU sends, with the ring's
(N-1)/N factor the paper rounds away; activations are not included.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import one_of, positive
from mlfleet.errors import CommInputError

ADAM_MIXED_PRECISION_K = 12.0
"""Optimizer bytes per parameter for mixed-precision Adam (Rajbhandari et al. 2020 §3.1)."""

STAGES = ("ddp", "zero1", "zero2", "zero3")
"""Stage names; ``zero3`` is also FSDP FULL_SHARD, ``zero2`` FSDP SHARD_GRAD_OP."""

_LABELS = {"ddp": "DDP", "zero1": "ZeRO-1 (P_os)", "zero2": "ZeRO-2 (P_os+g) / FSDP SHARD_GRAD_OP",
           "zero3": "ZeRO-3 (P_os+g+p) / FSDP FULL_SHARD"}


@dataclass(frozen=True, kw_only=True)
class ZeroStage:
    """Memory and communication of one sharding stage for a given model and GPU count."""

    stage: str
    label: str
    memory_bytes_per_gpu: float
    """Parameters + gradients + optimizer state on one GPU (no activations)."""
    comm_bytes_per_gpu: float
    """Bytes each GPU sends per step (ring collectives)."""
    collectives: tuple[tuple[str, float], ...]
    """The collectives of one step as (name, buffer bytes in nccl-tests' convention)."""


def zero_memory_bytes(params: float, n_gpus: int, *, stage: str, param_bytes: float = 2.0,
                      grad_bytes: float = 2.0,
                      optimizer_bytes: float = ADAM_MIXED_PRECISION_K) -> float:
    """Model-state bytes per GPU at ``stage`` (Rajbhandari et al. 2020, Fig. 1)."""
    _check(params, n_gpus, stage)
    p, g, k = param_bytes * params, grad_bytes * params, optimizer_bytes * params
    shards = {"ddp": (p + g + k), "zero1": p + g + k / n_gpus, "zero2": p + (g + k) / n_gpus,
              "zero3": (p + g + k) / n_gpus}
    return float(shards[stage])


def zero_collectives(params: float, n_gpus: int, *, stage: str,
                     param_bytes: float = 2.0) -> tuple[tuple[str, float], ...]:
    """The collectives of one training step at ``stage``, with their buffer sizes."""
    _check(params, n_gpus, stage)
    full = params * param_bytes
    if stage == "ddp":
        return (("allreduce", full),)
    if stage in ("zero1", "zero2"):
        return (("reduce_scatter", full), ("allgather", full))
    return (("allgather", full), ("allgather", full), ("reduce_scatter", full))


def zero_comm_bytes(params: float, n_gpus: int, *, stage: str, param_bytes: float = 2.0) -> float:
    """Bytes each GPU sends per step: 2Ψ·b·(N-1)/N for DDP/ZeRO-1/2, 3Ψ·b·(N-1)/N for ZeRO-3."""
    frac = (n_gpus - 1) / n_gpus
    per_call = {"allreduce": 2.0 * frac, "reduce_scatter": frac, "allgather": frac}
    return float(sum(per_call[name] * size for name, size in
                     zero_collectives(params, n_gpus, stage=stage, param_bytes=param_bytes)))


def zero_stages(params: float, n_gpus: int, *, param_bytes: float = 2.0, grad_bytes: float = 2.0,
                optimizer_bytes: float = ADAM_MIXED_PRECISION_K) -> list[ZeroStage]:
    """Every stage's memory and communication, DDP first."""
    return [ZeroStage(stage=s, label=_LABELS[s],
                      memory_bytes_per_gpu=zero_memory_bytes(
                          params, n_gpus, stage=s, param_bytes=param_bytes,
                          grad_bytes=grad_bytes, optimizer_bytes=optimizer_bytes),
                      comm_bytes_per_gpu=zero_comm_bytes(params, n_gpus, stage=s,
                                                         param_bytes=param_bytes),
                      collectives=zero_collectives(params, n_gpus, stage=s,
                                                   param_bytes=param_bytes))
            for s in STAGES]


def _check(params: float, n_gpus: int, stage: str) -> None:
    positive("params", params, error=CommInputError)
    if int(n_gpus) != n_gpus or n_gpus < 1:
        raise CommInputError(f"n_gpus(={n_gpus!r}) must be a whole number >= 1")
    one_of("stage", stage, STAGES, error=CommInputError)
