"""The communication section of a plan: gradient AllReduce choice, buckets, exposed time, ZeRO.

Fidelity: model (:mod:`mlfleet.comm.data_parallel`). With fixed tensor/pipeline
parallelism the gradient AllReduce runs over the data-parallel group only, on the
parameters of one model shard; when a model shard fills a node, each data-parallel
group has one GPU (and one rail's share of the node's scale-out bandwidth) per node,
since the node's other GPUs run their own data-parallel groups at the same time.
The scenario's ``training.zero_stage`` fixes the ZeRO stage (its memory and its
collectives); left out, the least sharding whose model state fits HBM is used. For an
MoE workload, ``parallelism.expert`` adds the token AlltoAll of an expert-parallel group
of that many consecutive data-parallel ranks (:mod:`mlfleet.comm.expert_parallel`),
counted as exposed; the gradient AllReduce still covers every parameter (sharding the
expert parameters' reduction over data/expert ranks is not modelled).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mlfleet.catalog.types import Cluster
from mlfleet.comm.data_parallel import ZERO_STAGE_NAMES, CommunicationPlan, plan_communication
from mlfleet.comm.expert_parallel import ExpertAllToAll, expert_alltoall, is_moe
from mlfleet.plan.context import TrainingEstimate, workload_of
from mlfleet.plan.section import Section, not_applicable
from mlfleet.scenario import Scenario

NOT_APPLICABLE = "no data-parallel training job with 2 or more replicas in the scenario"


@dataclass(frozen=True, kw_only=True)
class Communication:
    """The communication of one training step: data-parallel, and expert-parallel for MoE."""

    data_parallel: CommunicationPlan
    expert: ExpertAllToAll | None
    """None unless an MoE workload has ``parallelism.expert`` of 2 or more."""
    model_shards: int
    """Tensor x pipeline degree: the GPUs one model replica spans."""

    @property
    def exposed_comm_s(self) -> float:
        """Data-parallel communication left exposed plus the expert AlltoAll."""
        expert_s = 0.0 if self.expert is None else self.expert.time_s
        return self.data_parallel.exposed_comm_s + expert_s


def plan(scenario: Scenario, estimate: TrainingEstimate | None) -> Communication | None:
    """The step's communication; None without 2 or more data-parallel replicas."""
    training = scenario.training
    if training is None or estimate is None:
        return None
    data, shards = dp_degree(scenario)
    if data < 2:
        return None
    return Communication(data_parallel=_data_parallel(scenario, estimate, data, shards),
                         expert=_expert(scenario, data, shards), model_shards=shards)


def _data_parallel(scenario: Scenario, estimate: TrainingEstimate, data: int,
                   shards: int) -> CommunicationPlan:
    training = scenario.training
    assert training is not None
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


def _expert(scenario: Scenario, data: int, shards: int) -> ExpertAllToAll | None:
    """The expert AlltoAll: tokens per data-parallel rank, the stage's share of the layers."""
    training, workload = scenario.training, workload_of(scenario)
    par = training.parallelism if training is not None else None
    if training is None or par is None or par.expert is None or par.expert < 2:
        return None
    if not is_moe(workload) or training.batch_tokens is None:
        return None
    return expert_alltoall(
        cluster=dp_group_cluster(scenario.cluster.to_cluster(), data=par.expert, shards=shards),
        expert_ranks=par.expert, workload=workload, tokens_per_rank=training.batch_tokens / data,
        moe_layers=float(workload.shape["layers"]) / (par.pipeline or 1),
        value_bytes=4 if training.precision in ("fp32", "tf32") else 2)


def section(result: Communication | None) -> Section:
    """The plan section of a communication result."""
    if result is None:
        return not_applicable(NOT_APPLICABLE)
    comm = result.data_parallel
    allreduce, bucket = comm.allreduce, comm.bucket
    numbers: dict[str, object] = {
        "dp_ranks": comm.gpus, "model_shards": result.model_shards,
        "gradient_bytes": comm.gradient_bytes,
        "allreduce_algorithm": allreduce.algorithm, "allreduce_s": allreduce.time_s,
        "allreduce_busbw_bytes_per_s": allreduce.busbw_bytes_per_s}
    if bucket is not None:
        numbers["best_bucket_bytes"] = bucket.best_bucket_bytes
    stage = next(row for row in comm.zero if row.stage == comm.zero_stage)
    if result.expert is not None:
        numbers.update({"expert_ranks": result.expert.expert_ranks,
                        "expert_alltoall_bytes_per_step": result.expert.bytes_per_step,
                        "expert_alltoall_s": result.expert.time_s})
    numbers.update({"exposed_comm_s": result.exposed_comm_s, "zero_stage": comm.zero_stage,
                    "zero_collectives": " + ".join(stage.collectives),
                    "zero_sent_bytes_per_gpu": stage.comm_bytes_per_gpu,
                    "zero_collectives_s": stage.comm_time_s,
                    "model_state_bytes_per_gpu": comm.model_state_bytes_per_gpu,
                    "model_state_fits_hbm": comm.model_state_fits_hbm})
    reasoning = [allreduce.reason, f"ZeRO stage {comm.zero_stage}: {comm.zero_stage_source}"]
    if result.expert is not None:
        reasoning.append(
            f"expert parallelism over {result.expert.expert_ranks} GPUs: "
            f"{result.expert.calls_per_step} token AlltoAlls of "
            f"{result.expert.buffer_bytes / 1e6:.3g} MB per step, counted as exposed")
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


def reads(scenario: Scenario, comm: Communication | None) -> set[str]:
    """Scenario fields this section's result depends on."""
    if comm is None or scenario.training is None:
        return set()
    out = {"cluster.scaleup", "cluster.scaleout", "cluster.rails_per_node",
           "cluster.oversubscription", "training.zero_stage"}
    par = scenario.training.parallelism
    if par is not None:
        out |= {f"training.parallelism.{k}" for k in ("data", "tensor", "pipeline")
                if getattr(par, k) is not None}
    if comm.expert is not None:
        out.add("training.parallelism.expert")
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
