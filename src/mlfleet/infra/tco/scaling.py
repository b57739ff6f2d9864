"""The fallacy "more GPUs always means faster training", computed.

Strong scaling of data-parallel training at a fixed global batch of ``batch_tokens``:
each step the ``n`` GPUs share the step's FLOP, then AllReduce the gradient. With ``F``
the training FLOP per token (forward + backward, from the catalog workload), ``P`` the
accelerator's peak and ``m`` the MFU reached,

    compute(n) = F x batch_tokens / (n P m)
    comm(n)    = (1 - overlap) x AllReduce(gradient bytes, n GPUs)      (0 for n = 1)
    step(n)    = compute(n) + comm(n)

``AllReduce`` is the fastest algorithm of :func:`mlfleet.comm.select.best_allreduce_time`
on the catalog cluster's topology (:func:`mlfleet.comm.topology.from_cluster`); it does
not shrink with ``n`` (a ring moves ``2 (n-1)/n`` of the gradient per GPU) and its
latency term grows with ``n``: the serial fraction of Amdahl's law (Amdahl, AFIPS 1967).
Parallel efficiency is ``step(1) / (n step(n))``; cost is ``n x time x price``, so every
GPU added buys less speed per dollar than the one before. Time keeps falling (slowly) while
cost keeps rising, so "where adding GPUs stops paying" is a trade-off; two answers:

* the knee: the largest ``n`` whose efficiency is still >= ``efficiency_floor``;
* the balanced size: the ``n`` minimising cost x time. With ``step(n) = C/n + A`` (``A``
  the exposed AllReduce, nearly constant in ``n``), ``cost x time ~ (C + A n)^2 / n`` is
  smallest at ``n* = C / A``: where compute equals communication, i.e. efficiency 1/2.
  It is finite whenever communication is not free.

Defaults (each an option): MFU 0.40 (Llama 3 405B reached 38-43 % BF16 MFU on 16K H100,
Dubey et al. 2024, Table 4); a 4M-token global batch (Llama 2, Touvron et al. 2023);
20 tokens per parameter (Hoffmann et al. 2022, Chinchilla); no overlap of communication
with compute (the Amdahl bound; overlap moves the knee, not the shape).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.catalog.types import Cluster, Workload
from mlfleet.checks import fraction, positive, positive_int
from mlfleet.errors import InputError

DEFAULT_MFU = 0.40
DEFAULT_BATCH_TOKENS = 4_000_000.0
TOKENS_PER_PARAM = 20.0
GRAD_BYTES_PER_PARAM = 2.0
"""bf16 gradients."""


@dataclass(frozen=True, kw_only=True)
class ScalingPoint:
    """One cluster size: step time split, time to train, cost, efficiency."""

    gpus: int
    compute_s: float
    comm_s: float
    step_s: float
    time_to_train_s: float
    cost_usd: float
    efficiency: float
    """step(1) / (n step(n))."""
    tokens_per_gpu: float
    """Tokens of the global batch each GPU processes per step."""


@dataclass(frozen=True, kw_only=True)
class Scaling:
    """The sweep, and where adding GPUs stops paying."""

    workload: str
    cluster: str
    precision: str
    tokens: float
    batch_tokens: float
    mfu: float
    usd_per_gpu_h: float
    points: list[ScalingPoint]
    knee_gpus: int
    """Largest swept n with efficiency >= efficiency_floor."""
    efficiency_floor: float
    fastest_gpus: int
    """The swept n with the shortest time to train."""
    cheapest_gpus: int
    """The swept n with the lowest cost (1 GPU unless something else costs per hour)."""
    balanced_gpus: int
    """The swept n with the smallest cost x time to train."""


def _step_parts(workload: Workload, cluster: Cluster, n: int, *, precision: str,
                batch_tokens: float, mfu: float, overlap: float) -> tuple[float, float]:
    from mlfleet.comm.select import best_allreduce_time
    from mlfleet.comm.topology import from_cluster

    peak = cluster.accelerator.flops_per_s(precision)
    compute_s = (workload.fwd_flop + workload.bwd_flop) * batch_tokens / (n * peak * mfu)
    if n == 1:
        return compute_s, 0.0
    grad_bytes = workload.params * GRAD_BYTES_PER_PARAM
    comm_s = float(best_allreduce_time(from_cluster(cluster, ranks=n), grad_bytes)[()])
    return compute_s, (1.0 - overlap) * comm_s


def scaling(*, workload: str, cluster: str, gpus: list[int], usd_per_gpu_h: float,
            tokens: float | None = None, batch_tokens: float = DEFAULT_BATCH_TOKENS,
            mfu: float = DEFAULT_MFU, overlap: float = 0.0, precision: str = "bf16",
            efficiency_floor: float = 0.5) -> Scaling:
    """Time to train and cost of ``workload`` on ``n`` GPUs of ``cluster`` for each ``n``."""
    w, c = Workload.from_name(workload), Cluster.from_name(cluster)
    sizes = sorted({positive_int("gpus", n) for n in gpus})
    if not sizes or sizes[-1] > c.gpus:
        raise InputError(f"gpus(={sizes[-1] if sizes else 'none'}) must be between 1 and the "
                         f"{c.gpus:,} GPUs of {c.name}")
    total = w.params * TOKENS_PER_PARAM if tokens is None else positive("tokens", tokens)
    positive("batch_tokens", batch_tokens)
    fraction("mfu", mfu, open_low=True)
    fraction("overlap", overlap)
    fraction("efficiency_floor", efficiency_floor, open_low=True)
    positive("usd_per_gpu_h", usd_per_gpu_h)
    one_step_s = sum(_step_parts(w, c, 1, precision=precision, batch_tokens=batch_tokens,
                                 mfu=mfu, overlap=overlap))
    points = [_point(w, c, n, one_step_s=one_step_s, precision=precision, tokens=total,
                     batch_tokens=batch_tokens, mfu=mfu, overlap=overlap, usd_per_gpu_h=usd_per_gpu_h)
              for n in sizes]
    above = [p.gpus for p in points if p.efficiency >= efficiency_floor]
    return Scaling(workload=w.name, cluster=c.name, precision=precision, tokens=total,
                   batch_tokens=batch_tokens, mfu=mfu, usd_per_gpu_h=usd_per_gpu_h,
                   points=points, knee_gpus=max(above) if above else sizes[0],
                   efficiency_floor=efficiency_floor,
                   fastest_gpus=min(points, key=lambda p: p.time_to_train_s).gpus,
                   cheapest_gpus=min(points, key=lambda p: p.cost_usd).gpus,
                   balanced_gpus=min(points, key=lambda p: p.cost_usd * p.time_to_train_s).gpus)


def _point(w: Workload, c: Cluster, n: int, *, one_step_s: float, precision: str, tokens: float,
           batch_tokens: float, mfu: float, overlap: float, usd_per_gpu_h: float) -> ScalingPoint:
    compute_s, comm_s = _step_parts(w, c, n, precision=precision, batch_tokens=batch_tokens,
                                    mfu=mfu, overlap=overlap)
    step_s = compute_s + comm_s
    time_s = tokens / batch_tokens * step_s
    return ScalingPoint(gpus=n, compute_s=compute_s, comm_s=comm_s, step_s=step_s,
                        time_to_train_s=time_s, cost_usd=n * time_s / 3600.0 * usd_per_gpu_h,
                        efficiency=one_step_s / (n * step_s), tokens_per_gpu=batch_tokens / n)


def powers_of_two(limit: int) -> list[int]:
    """1, 2, 4, ... up to ``limit`` (and ``limit`` itself)."""
    sizes = [int(v) for v in 2 ** np.arange(int(np.log2(positive_int("limit", limit))) + 1)]
    return sizes if sizes[-1] == limit else [*sizes, limit]
