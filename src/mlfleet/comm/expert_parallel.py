"""Expert parallelism: the token AlltoAll of a mixture-of-experts training step.

Each MoE layer sends every routed token to the GPUs holding its top-k experts and
back (dispatch + combine), in the forward and again in the backward pass (Lepikhin
et al. 2021, GShard §2.2; Fedus et al. 2022, Switch Transformer §2.2). On an
expert-parallel group of E GPUs, per layer and pass, each GPU hands the AlltoAll a
buffer of tokens·d_model·top_k·b bytes (:func:`mlfleet.comm.patterns.moe_alltoall_bytes`
for the whole step), and a step makes 2 (dispatch, combine) x 2 (fwd, bwd) x layers
such calls. The tokens must arrive before the experts compute, so the time is counted
as exposed (an upper bound: schedules that overlap dispatch with shared-expert or
attention compute hide part of it).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.catalog.types import Cluster, Workload
from mlfleet.checks import positive
from mlfleet.comm.patterns import moe_alltoall_bytes
from mlfleet.comm.select import alltoall_time_on
from mlfleet.comm.topology import from_cluster
from mlfleet.errors import CommInputError


@dataclass(frozen=True, kw_only=True)
class ExpertAllToAll:
    """The AlltoAll traffic and time of one training step on one expert-parallel group."""

    expert_ranks: int
    """GPUs in the expert-parallel group (the scenario's ``parallelism.expert``)."""
    tokens_per_rank: float
    """Tokens each group member routes per step."""
    buffer_bytes: float
    """Bytes each GPU hands to one AlltoAll call: tokens·d_model·top_k·b."""
    calls_per_step: int
    """2 (dispatch, combine) x 2 (forward, backward) x MoE layers on this GPU."""
    bytes_per_step: float
    time_s: float
    """calls_per_step x one call's time on the group's topology."""


def is_moe(workload: Workload) -> bool:
    """Whether the workload routes tokens to experts (its shape has ``experts``)."""
    return "experts" in workload.shape and "experts_per_token" in workload.shape


def expert_alltoall(*, cluster: Cluster, expert_ranks: int, workload: Workload,
                    tokens_per_rank: float, moe_layers: float,
                    value_bytes: float) -> ExpertAllToAll:
    """AlltoAll of one step for ``workload`` on ``expert_ranks`` GPUs of ``cluster``.

    ``cluster`` is the cluster the group sees (its GPUs per node and rails). Raises
    CommInputError for a workload without experts or a group smaller than 2.
    """
    if not is_moe(workload):
        raise CommInputError(f"workload {workload.name!r} has no experts (shape.experts); "
                             "expert parallelism needs an MoE workload")
    if int(expert_ranks) != expert_ranks or expert_ranks < 2:
        raise CommInputError(f"expert_ranks(={expert_ranks!r}) must be a whole number >= 2")
    d_model, top_k = float(workload.shape["d_model"]), float(workload.shape["experts_per_token"])
    positive("tokens_per_rank", tokens_per_rank, error=CommInputError)
    buffer = tokens_per_rank * d_model * top_k * value_bytes
    calls = int(round(4 * moe_layers))
    topo = from_cluster(cluster, ranks=expert_ranks)
    return ExpertAllToAll(
        expert_ranks=expert_ranks, tokens_per_rank=tokens_per_rank, buffer_bytes=buffer,
        calls_per_step=calls,
        bytes_per_step=moe_alltoall_bytes(tokens=tokens_per_rank, d_model=d_model, top_k=top_k,
                                          moe_layers=moe_layers, value_bytes=value_bytes),
        time_s=calls * float(alltoall_time_on(topo, buffer)))
