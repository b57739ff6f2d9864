"""Communication of one data-parallel training step: the communication section of ``mlfleet plan``.

For ``gpus`` data-parallel ranks of a cluster, each holding a model (shard) of Ψ
parameters: the gradient AllReduce algorithm and its reason
(:func:`~mlfleet.comm.select.compare_allreduce`), the DDP bucket size that hides the
most of it behind the backward pass (:mod:`~mlfleet.comm.bucket`), and the ZeRO / FSDP
stage with its model-state memory and collectives (:mod:`~mlfleet.comm.zero`).

Exposed communication of a step at ZeRO stage z (model, stated as an upper bound):

    exposed(z) = exposed_DDP + max(0, T_collectives(z) − T_AllReduce)

The gradient reduction overlaps the backward pass as DDP's buckets do (ZeRO-1/2 reduce-
scatter the same buckets); what the stage's collectives take beyond DDP's one AllReduce
— ZeRO-3's two parameter AllGathers (Rajbhandari et al. 2020 §7) — is counted as not
overlapped, although FSDP prefetches the next layer's parameters during compute
(Zhao et al. 2023 §3.3), so part of it hides in practice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mlfleet import units
from mlfleet.catalog.types import Cluster, Workload
from mlfleet.checks import positive
from mlfleet.comm.bucket import (
    DDP_BUCKET_CAP_BYTES,
    AllReduceCost,
    best_bucket_size,
    closed_form_shape,
    exposed_comm_time,
    simulate_buckets,
    workload_gradient_tensors,
)
from mlfleet.comm.select import (
    AlgorithmTime,
    allgather_time_on,
    best_allreduce_time,
    compare_allreduce,
    reduce_scatter_time_on,
)
from mlfleet.comm.topology import Topology, from_cluster
from mlfleet.comm.zero import STAGES, zero_stages
from mlfleet.errors import CommInputError

ZERO_STAGE_NAMES: dict[int, str] = {0: "ddp", 1: "zero1", 2: "zero2", 3: "zero3"}
"""A scenario's ``training.zero_stage`` number to the stage name of :mod:`mlfleet.comm.zero`."""


@dataclass(frozen=True, kw_only=True)
class AllReduceChoice:
    """The gradient AllReduce: the chosen algorithm, its prediction and every candidate's."""

    algorithm: str
    time_s: float
    algbw_bytes_per_s: float
    busbw_bytes_per_s: float
    reason: str
    candidates: tuple[AlgorithmTime, ...]
    """Every algorithm's prediction, fastest first."""


@dataclass(frozen=True, kw_only=True)
class BucketPlan:
    """DDP gradient buckets: the best size and how much AllReduce stays exposed."""

    backward_s: float
    best_bucket_bytes: float
    exposed_s: float
    """Closed-form exposed AllReduce time at the best bucket size."""
    simulated_exposed_s: float
    """The same from a per-tensor simulation of the backward pass."""
    simulated_tensors: str
    ddp_default_bucket_bytes: float
    ddp_default_exposed_s: float
    no_overlap_exposed_s: float


@dataclass(frozen=True, kw_only=True)
class ZeroRow:
    """One ZeRO / FSDP stage on this data-parallel group."""

    stage: str
    label: str
    memory_bytes_per_gpu: float
    """Parameters + gradients + optimizer state on one GPU (no activations)."""
    fits_hbm: bool
    comm_bytes_per_gpu: float
    comm_time_s: float
    """Time of the stage's collectives, back to back, on this topology."""
    collectives: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CommunicationPlan:
    """The communication of one data-parallel training step."""

    gpus: int
    """Data-parallel ranks."""
    nodes: int
    gpus_per_node: int
    precision_bytes: int
    gradient_bytes: float
    allreduce: AllReduceChoice
    bucket: BucketPlan | None
    """None without a backward time to overlap with."""
    zero: tuple[ZeroRow, ...]
    """Every stage, DDP first."""
    zero_stage: str
    """The stage the step uses: the scenario's, else the least sharding that fits HBM."""
    zero_stage_source: str
    model_state_bytes_per_gpu: float
    model_state_fits_hbm: bool
    exposed_comm_s: float
    """Communication not hidden behind the backward pass (module docstring)."""
    bottleneck: str
    recommendation: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (plain floats, str, lists, dicts)."""
        out = asdict(self)
        out["zero_choice"] = self.zero_stage
        return out


def plan_communication(*, cluster: Cluster, gpus: int, workload: Workload, precision_bytes: int,
                       backward_time_s: float | None,
                       zero_stage: str | None = None) -> CommunicationPlan:
    """Communication of data-parallel training of ``workload`` on ``gpus`` GPUs of ``cluster``.

    Gradients are ``precision_bytes`` per parameter. With ``backward_time_s``, the best DDP
    bucket size and the exposed communication; ``zero_stage`` (a name of
    :data:`mlfleet.comm.zero.STAGES`) fixes the stage, else the least sharding that fits
    HBM is used. Raises CommInputError for gpus out of range or an unknown stage.
    """
    if zero_stage is not None and zero_stage not in STAGES:
        raise CommInputError(f"zero_stage(={zero_stage!r}) must be one of {', '.join(STAGES)}")
    topo = from_cluster(cluster, ranks=gpus)
    grad_bytes = workload.params * positive("precision_bytes", precision_bytes,
                                            error=CommInputError)
    allreduce = _allreduce(topo, grad_bytes)
    bucket = _bucket_plan(topo, workload, precision_bytes, backward_time_s)
    rows = _zero_rows(topo, workload, gpus, precision_bytes, cluster.accelerator.hbm_bytes)
    row, source = _stage(rows, zero_stage)
    overlapped = bucket.exposed_s if bucket else allreduce.time_s
    exposed = overlapped + max(0.0, row.comm_time_s - allreduce.time_s)
    return CommunicationPlan(
        gpus=gpus, nodes=topo.nodes, gpus_per_node=topo.local_ranks,
        precision_bytes=precision_bytes, gradient_bytes=grad_bytes, allreduce=allreduce,
        bucket=bucket, zero=rows, zero_stage=row.stage, zero_stage_source=source,
        model_state_bytes_per_gpu=row.memory_bytes_per_gpu, model_state_fits_hbm=row.fits_hbm,
        exposed_comm_s=exposed, bottleneck=_bottleneck(topo, allreduce),
        recommendation=_recommendation(allreduce, bucket, row, rows))


def _allreduce(topo: Topology, grad_bytes: float) -> AllReduceChoice:
    choice = compare_allreduce(topo, grad_bytes)
    chosen = next(r for r in choice.rows if r.algorithm == choice.best)
    return AllReduceChoice(algorithm=choice.best, time_s=chosen.time_s,
                           algbw_bytes_per_s=chosen.algbw_bytes_per_s,
                           busbw_bytes_per_s=chosen.busbw_bytes_per_s, reason=choice.reason,
                           candidates=tuple(choice.rows))


def _stage(rows: tuple[ZeroRow, ...], zero_stage: str | None) -> tuple[ZeroRow, str]:
    """The scenario's stage; else the least sharding that fits; else full sharding."""
    if zero_stage is not None:
        return next(r for r in rows if r.stage == zero_stage), "scenario training.zero_stage"
    fitting = [r for r in rows if r.fits_hbm]
    if fitting:
        return fitting[0], "planner: the least sharding whose model state fits HBM"
    return rows[-1], "planner: no stage fits HBM; the most sharding"


def _collective_time_on(topo: Topology, name: str, size_bytes: float) -> float:
    if name == "allreduce":
        return float(best_allreduce_time(topo, size_bytes))
    if name == "allgather":
        return float(allgather_time_on(topo, size_bytes))
    return float(reduce_scatter_time_on(topo, size_bytes))


def _zero_rows(topo: Topology, workload: Workload, gpus: int, precision_bytes: int,
               hbm_bytes: float) -> tuple[ZeroRow, ...]:
    return tuple(
        ZeroRow(stage=stage.stage, label=stage.label,
                memory_bytes_per_gpu=stage.memory_bytes_per_gpu,
                fits_hbm=stage.memory_bytes_per_gpu <= hbm_bytes,
                comm_bytes_per_gpu=stage.comm_bytes_per_gpu,
                comm_time_s=sum(_collective_time_on(topo, n, s) for n, s in stage.collectives),
                collectives=tuple(n for n, _ in stage.collectives))
        for stage in zero_stages(workload.params, gpus, param_bytes=precision_bytes,
                                 grad_bytes=precision_bytes))


def _bucket_plan(topo: Topology, workload: Workload, precision_bytes: int,
                 backward_time_s: float | None) -> BucketPlan | None:
    if backward_time_s is None:
        return None
    cost: AllReduceCost = lambda b: best_allreduce_time(topo, b)  # noqa: E731  (NCCL tunes per size)
    sizes, compute, text = workload_gradient_tensors(workload, precision_bytes=precision_bytes,
                                                     backward_s=backward_time_s)
    grad_bytes, shape = float(sizes.sum()), closed_form_shape(sizes)
    best_b, exposed = best_bucket_size(backward_s=backward_time_s, grad_bytes=grad_bytes,
                                       allreduce_s=cost, **shape)
    default = float(exposed_comm_time(backward_s=backward_time_s, grad_bytes=grad_bytes,
                                      bucket_bytes=DDP_BUCKET_CAP_BYTES, allreduce_s=cost,
                                      **shape))
    simulated = simulate_buckets(layer_backward_s=compute, layer_grad_bytes=sizes,
                                 bucket_bytes=best_b, allreduce_s=cost).exposed_s
    return BucketPlan(backward_s=backward_time_s, best_bucket_bytes=float(best_b),
                      exposed_s=float(exposed), simulated_exposed_s=float(simulated),
                      simulated_tensors=text, ddp_default_bucket_bytes=float(DDP_BUCKET_CAP_BYTES),
                      ddp_default_exposed_s=default,
                      no_overlap_exposed_s=float(cost(np.asarray(grad_bytes))))


def _bottleneck(topo: Topology, best: AllReduceChoice) -> str:
    latency_share = next(r.latency_share for r in best.candidates if r.algorithm == best.algorithm)
    if latency_share >= 0.5:
        return "latency: message rounds, not bandwidth"
    if topo.nodes > 1:
        return f"inter-node bandwidth ({topo.scaleout_link}, {topo.rails_per_node} rails per node)"
    return f"intra-node bandwidth ({topo.scaleup_link})"


def _recommendation(chosen: AllReduceChoice, bucket: BucketPlan | None, row: ZeroRow,
                    rows: tuple[ZeroRow, ...]) -> str:
    text = (f"AllReduce gradients with {chosen.algorithm} "
            f"({units.format_duration(chosen.time_s)} per step)")
    if bucket is not None:
        text += (f"; buckets of {units.format_bytes(bucket.best_bucket_bytes)} leave "
                 f"{units.format_duration(bucket.exposed_s)} exposed")
    fitting = [r for r in rows if r.fits_hbm]
    if not fitting:
        return text + "; no ZeRO stage fits model state in HBM: add model parallelism"
    if not row.fits_hbm:
        return text + (f"; {row.label} holds {units.format_bytes(row.memory_bytes_per_gpu)} of "
                       f"model state per GPU, more than HBM: use {fitting[0].label}")
    text += f"; {row.label}: {units.format_bytes(row.memory_bytes_per_gpu)} of model state per GPU"
    if row.stage != fitting[0].stage:
        text += f" ({fitting[0].label}, with less sharding, would also fit)"
    return text
