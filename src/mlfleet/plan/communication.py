"""The communication section of a plan: gradient AllReduce choice, buckets, exposed time, ZeRO.

Fidelity: model (:mod:`mlfleet.comm.data_parallel`). With fixed tensor/pipeline
parallelism the gradient AllReduce runs over the data-parallel group only, on the
parameters of one model shard; when a model shard fills a node, each data-parallel
group has one GPU (and one rail's share of the node's scale-out bandwidth) per node,
since the node's other GPUs run their own data-parallel groups at the same time.
The scenario's ``training.zero_stage`` fixes the ZeRO stage (its memory and its
collectives); left out, the least sharding whose model state fits HBM is used.
"""

from __future__ import annotations

import dataclasses

from mlfleet.catalog.types import Cluster
from mlfleet.comm.data_parallel import ZERO_STAGE_NAMES, CommunicationPlan, plan_communication
from mlfleet.plan.context import TrainingEstimate, workload_of
from mlfleet.plan.section import Section, not_applicable
from mlfleet.scenario import Scenario

NOT_APPLICABLE = "no data-parallel training job with 2 or more replicas in the scenario"


def plan(scenario: Scenario, estimate: TrainingEstimate | None) -> CommunicationPlan | None:
    """The data-parallel step's communication; None without 2 or more data-parallel replicas."""
    training = scenario.training
    if training is None or estimate is None:
        return None
    data, shards = dp_degree(scenario)
    if data < 2:
        return None
    workload = workload_of(scenario)
    # A model shard's gradients: with tensor/pipeline parallelism the per-layer tensor list no
    # longer applies, so the bucket model sees equal tensors (shape dropped) of the shard's size.
    shard = workload if shards == 1 else dataclasses.replace(
        workload, params=workload.params / shards, shape={})
    grad_bytes = 4 if training.precision in ("fp32", "tf32") else 2
    stage = None if training.zero_stage is None else ZERO_STAGE_NAMES[training.zero_stage]
    return plan_communication(
        cluster=dp_group_cluster(scenario.cluster.to_cluster(), data=data, shards=shards),
        gpus=data, workload=shard, precision_bytes=grad_bytes,
        backward_time_s=estimate.backward_s, zero_stage=stage)


def section(comm: CommunicationPlan | None, *, model_shards: int) -> Section:
    """The plan section of a communication result."""
    if comm is None:
        return not_applicable(NOT_APPLICABLE)
    allreduce, bucket = comm.allreduce, comm.bucket
    numbers: dict[str, object] = {
        "dp_ranks": comm.gpus, "model_shards": model_shards, "gradient_bytes": comm.gradient_bytes,
        "allreduce_algorithm": allreduce.algorithm, "allreduce_s": allreduce.time_s,
        "allreduce_busbw_bytes_per_s": allreduce.busbw_bytes_per_s}
    if bucket is not None:
        numbers["best_bucket_bytes"] = bucket.best_bucket_bytes
    stage = next(row for row in comm.zero if row.stage == comm.zero_stage)
    numbers.update({"exposed_comm_s": comm.exposed_comm_s, "zero_stage": comm.zero_stage,
                    "zero_collectives": " + ".join(stage.collectives),
                    "zero_sent_bytes_per_gpu": stage.comm_bytes_per_gpu,
                    "zero_collectives_s": stage.comm_time_s,
                    "model_state_bytes_per_gpu": comm.model_state_bytes_per_gpu,
                    "model_state_fits_hbm": comm.model_state_fits_hbm})
    reasoning = [allreduce.reason, f"ZeRO stage {comm.zero_stage}: {comm.zero_stage_source}"]
    if bucket is not None:
        reasoning.append(
            f"bucketed overlap: closed form {bucket.exposed_s:.4g} s exposed vs a per-layer "
            f"simulation {bucket.simulated_exposed_s:.4g} s (DDP's default 25 MB buckets: "
            f"{bucket.ddp_default_exposed_s:.4g} s)")
    details = {"candidates": [{"algorithm": r.algorithm, "time_s": r.time_s,
                               "busbw_bytes_per_s": r.busbw_bytes_per_s}
                              for r in allreduce.candidates],
               "zero": [dataclasses.asdict(row) for row in comm.zero]}
    return Section(status="ok", fidelity="model", numbers=numbers, bottleneck=comm.bottleneck,
                   recommendation=comm.recommendation, reasoning=reasoning, details=details)


def reads(scenario: Scenario, comm: CommunicationPlan | None) -> set[str]:
    """Scenario fields this section's result depends on."""
    if comm is None or scenario.training is None:
        return set()
    out = {"cluster.scaleup", "cluster.scaleout", "cluster.rails_per_node",
           "cluster.oversubscription", "training.zero_stage"}
    par = scenario.training.parallelism
    if par is not None:
        out |= {f"training.parallelism.{k}" for k in ("data", "tensor", "pipeline")
                if getattr(par, k) is not None}
    return out


def dp_degree(scenario: Scenario) -> tuple[int, int]:
    """(data-parallel degree, model shards = tensor x pipeline) of the training job."""
    assert scenario.training is not None
    par, gpus = scenario.training.parallelism, scenario.cluster.gpus
    tensor = (par.tensor or 1) if par else 1
    pipeline = (par.pipeline or 1) if par else 1
    shards = tensor * pipeline
    data = par.data if par and par.data else gpus // shards
    return data, shards


def dp_group_cluster(cluster: Cluster, *, data: int, shards: int) -> Cluster:
    """The cluster one data-parallel group sees: its GPUs per node and its share of the rails."""
    local = max(1, cluster.gpus_per_node // shards)
    rails = max(1, cluster.rails_per_node * local // cluster.gpus_per_node)
    nodes = -(-data // local)
    return dataclasses.replace(cluster, nodes=nodes, gpus_per_node=min(local, data),
                               rails_per_node=rails)
