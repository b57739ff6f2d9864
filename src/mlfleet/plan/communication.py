"""The communication section of a plan: gradient AllReduce choice, buckets, exposed time, ZeRO.

Fidelity: model (``mlfleet.comm``). With fixed tensor/pipeline parallelism the gradient
AllReduce runs over the data-parallel group only, on the parameters of one model shard;
when a model shard fills a node, each data-parallel group has one GPU (and one rail's
share of the node's scale-out bandwidth) per node, since the node's other GPUs run
their own data-parallel groups at the same time.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from mlfleet.catalog.types import Cluster, Workload
from mlfleet.plan.context import cluster_of, training_estimate, workload_of
from mlfleet.plan.section import Section, not_applicable


def build(scenario: Any) -> Section:
    """Communication section; 'not applicable' without a multi-GPU training job."""
    result = _plan(scenario)
    if result is None:
        return not_applicable("no data-parallel training job with 2 or more replicas in the scenario")
    allreduce, bucket = result["allreduce"], result.get("bucket") or {}
    numbers = {"dp_ranks": result["inputs"]["gpus"], "model_shards": result["model_shards"],
               "gradient_bytes": result["gradient_bytes"], "allreduce_algorithm": allreduce["algorithm"],
               "allreduce_s": allreduce["time_s"],
               "allreduce_busbw_bytes_per_s": allreduce["busbw_bytes_per_s"],
               "best_bucket_bytes": bucket.get("best_bucket_bytes"),
               "exposed_comm_s": result["exposed_comm_s"], "zero_stage": result["zero_choice"]}
    reasoning = [allreduce["reason"]]
    if bucket:
        reasoning.append(
            f"bucketed overlap: closed form {bucket['exposed_s']:.4g} s exposed vs a per-layer "
            f"simulation {bucket['simulated_exposed_s']:.4g} s (DDP's default 25 MB buckets: "
            f"{bucket['ddp_default_exposed_s']:.4g} s)")
    return Section(status="ok", fidelity="model",
                   numbers={k: v for k, v in numbers.items() if v is not None},
                   bottleneck=result["bottleneck"], recommendation=result["recommendation"],
                   reasoning=reasoning,
                   details={"candidates": allreduce["candidates"], "zero": result["zero"]})


def exposed_comm_s(scenario: Any) -> float | None:
    """Gradient communication left exposed after overlap with backward (None if none)."""
    result = _plan(scenario)
    return None if result is None else float(result["exposed_comm_s"])


def _dp_degree(scenario: Any) -> tuple[int, int]:
    """(data-parallel degree, model shards = tensor x pipeline) of the training job."""
    par, gpus = scenario.training.parallelism, scenario.cluster.gpus
    tensor = (par.tensor or 1) if par else 1
    pipeline = (par.pipeline or 1) if par else 1
    shards = tensor * pipeline
    data = (par.data if par and par.data else gpus // shards)
    return data, shards


def dp_group_cluster(cluster: Cluster, *, data: int, shards: int) -> Cluster:
    """The cluster one data-parallel group sees: its GPUs per node and its share of the rails."""
    local = max(1, cluster.gpus_per_node // shards)
    rails = max(1, cluster.rails_per_node * local // cluster.gpus_per_node)
    nodes = -(-data // local)
    return dataclasses.replace(cluster, nodes=nodes, gpus_per_node=min(local, data),
                               rails_per_node=rails)


@cache
def _plan(scenario: Any) -> dict[str, Any] | None:
    from mlfleet.comm.select import plan_communication

    if scenario.training is None:
        return None
    data, shards = _dp_degree(scenario)
    if data < 2:
        return None
    workload: Workload = workload_of(scenario)
    # A model shard's gradients: with tensor/pipeline parallelism the per-layer tensor list no
    # longer applies, so the bucket model sees equal tensors (shape dropped) of the shard's size.
    shard = workload if shards == 1 else dataclasses.replace(
        workload, params=workload.params / shards, shape={})
    grad_bytes = 4 if scenario.training.precision in ("fp32", "tf32") else 2
    result = plan_communication(cluster=dp_group_cluster(cluster_of(scenario), data=data,
                                                         shards=shards),
                                gpus=data, workload=shard, precision_bytes=grad_bytes,
                                backward_time_s=training_estimate(scenario).backward_s)
    result["model_shards"] = shards
    return result
