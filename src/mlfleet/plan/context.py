"""Quantities several plan sections share, computed once per scenario.

The training step is the meeting point of two chapters: infrastructure (roofline:
compute and memory time at an assumed efficiency) and communication (the gradient
AllReduce that is not hidden behind the backward pass). Both sections read the
same :class:`TrainingEstimate` so their numbers agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from mlfleet import catalog
from mlfleet.catalog.types import Cluster, Workload

DEFAULT_MFU = 0.40
"""Assumed compute efficiency when the scenario gives none: published large-scale runs
reach 38-43% (Llama 3, Dubey et al. 2024, Table 4) and 46.2% (PaLM, Chowdhery et al.
2022, Table 3); see docs/validation.md."""

BYTES_PER_ELEMENT = {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}


@dataclass(frozen=True, kw_only=True)
class TrainingEstimate:
    """One optimizer step of the scenario's training job, before communication."""

    step_compute_s: float
    """Roofline time of the step's compute and memory traffic at the assumed efficiency."""
    backward_s: float
    """The part of the step the gradient AllReduce can overlap with (about 2/3: backward)."""
    bound: str
    mfu_assumed: float
    """Compute efficiency fed to the roofline (scenario's ``training.mfu`` or the default)."""
    mfu_source: str
    units_per_step: float
    """Tokens (token workloads) or samples per optimizer step."""
    unit: str
    units_total: float | None
    """Tokens or samples the whole job processes, when the scenario says how much to train."""
    arithmetic_intensity: float
    model_flop_per_step: float


def describe_scenario(scenario: Any) -> dict[str, Any]:
    """The ``scenario`` key of a plan: what was planned, in canonical names."""
    return {"name": scenario.name, "description": (scenario.description or "").strip(),
            "workload": scenario.workload, "cluster": scenario.cluster.name,
            "accelerator": scenario.cluster.accelerator, "gpus": scenario.cluster.gpus,
            "has_training": scenario.training is not None,
            "has_serving": scenario.serving is not None}


@cache
def _cluster(scenario: Any) -> Cluster:
    return scenario.cluster.to_cluster()


def cluster_of(scenario: Any) -> Cluster:
    """The typed cluster of a scenario (cached per scenario object)."""
    return _cluster(scenario)


def workload_of(scenario: Any) -> Workload:
    """The typed catalog workload of a scenario."""
    return Workload.from_name(scenario.workload)


def node_power_w(scenario: Any) -> float | None:
    """IT power per accelerator: the catalog node's power / GPUs per node, else the TDP."""
    if scenario.cluster.name is not None:
        entry = catalog.get(scenario.cluster.name, kind="cluster")
        per_node = entry.get("node_power_w")
        if per_node is not None:
            return float(per_node) / scenario.cluster.gpus_per_node
    tdp = cluster_of(scenario).accelerator.tdp_w
    return None if tdp is None else float(tdp)


@cache
def training_estimate(scenario: Any) -> TrainingEstimate:
    """Roofline of one training step (cached per scenario object)."""
    training = scenario.training
    assert training is not None
    mfu, why = (training.mfu, "scenario training.mfu") if training.mfu is not None \
        else (DEFAULT_MFU, "default: published large-scale runs reach 38-46% (docs/validation.md)")
    workload = workload_of(scenario)
    if workload.unit == "token":
        return _token_step(scenario, workload, mfu, why)
    return _sample_step(scenario, workload, mfu, why)


def _units_total(scenario: Any, unit: str) -> float | None:
    training = scenario.training
    if unit == "token" and training.total_tokens is not None:
        return float(training.total_tokens)
    if training.total_samples is not None:
        return float(training.total_samples)
    storage = scenario.storage
    if training.epochs is not None and storage is not None and storage.dataset_samples:
        return float(training.epochs * storage.dataset_samples)
    return None


def _token_step(scenario: Any, workload: Workload, mfu: float, why: str) -> TrainingEstimate:
    from mlfleet.infra.roofline import training_step

    training = scenario.training
    result = training_step(workload=workload.name, accelerator=scenario.cluster.accelerator,
                           precision=training.precision, global_batch_tokens=training.batch_tokens,
                           n_gpus=scenario.cluster.gpus, seq_len=training.seq_len,
                           compute_efficiency=mfu)
    time_s = float(result.time_s)
    return TrainingEstimate(step_compute_s=time_s, backward_s=time_s * 2 / 3,
                            bound=str(result.bound), mfu_assumed=mfu, mfu_source=why,
                            units_per_step=float(training.batch_tokens), unit="token",
                            units_total=_units_total(scenario, "token"),
                            arithmetic_intensity=float(result.arithmetic_intensity),
                            model_flop_per_step=float(result.model_flop) * scenario.cluster.gpus)


def _sample_step(scenario: Any, workload: Workload, mfu: float, why: str) -> TrainingEstimate:
    """Per-GPU FLOP from the catalog's fwd+bwd FLOP per sample; memory traffic counts weights
    (read in forward and backward), gradients (written) and mixed-precision Adam state
    (16 bytes per parameter read and written) — the catalog has no activation traffic."""
    from mlfleet.infra.roofline import Device, step_time

    training, gpus = scenario.training, scenario.cluster.gpus
    device = Device.from_accelerator(scenario.cluster.accelerator, training.precision)
    samples = float(training.batch_samples)
    flop = (workload.fwd_flop + workload.bwd_flop) * samples / gpus
    mem_bytes = workload.params * (3 * device.bytes_per_element + 2 * 16)
    result = step_time(flop=flop, mem_bytes=mem_bytes, peak_flops_per_s=device.peak_flops_per_s,
                       mem_bw_bytes_per_s=device.mem_bw_bytes_per_s, compute_efficiency=mfu)
    time_s = float(result.time_s)
    return TrainingEstimate(step_compute_s=time_s, backward_s=time_s * 2 / 3,
                            bound=str(result.bound), mfu_assumed=mfu, mfu_source=why,
                            units_per_step=samples, unit="sample",
                            units_total=_units_total(scenario, "sample"),
                            arithmetic_intensity=float(result.arithmetic_intensity),
                            model_flop_per_step=flop * gpus)
