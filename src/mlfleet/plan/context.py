"""The training step that several plan sections share, computed once per plan.

The training step is the meeting point of two chapters: infrastructure (roofline:
compute and memory time at an assumed efficiency) and communication (the gradient
AllReduce that is not hidden behind the backward pass). :func:`mlfleet.plan.build_plan`
computes one :class:`TrainingEstimate` and passes it to both, so their numbers agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.catalog.types import Workload
from mlfleet.scenario import Scenario, TrainingSpec

DEFAULT_MFU = 0.40
"""Assumed compute efficiency when the scenario gives none: published large-scale runs
reach 38-43% (Llama 3, Dubey et al. 2024, Table 4) and 46.2% (PaLM, Chowdhery et al.
2022, Table 3); see docs/validation.md."""


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
    """'token' or 'sample'."""
    units_total: float | None
    """Tokens or samples the whole job processes, when the scenario says how much to train."""
    units_total_fields: tuple[str, ...]
    """The scenario fields ``units_total`` was computed from."""
    arithmetic_intensity_flop_per_byte: float
    model_flop_per_step: float


def describe_scenario(scenario: Scenario) -> dict[str, object]:
    """The ``scenario`` key of a plan: what was planned, in canonical names."""
    return {"name": scenario.name, "description": (scenario.description or "").strip(),
            "workload": scenario.workload, "cluster": scenario.cluster.name,
            "accelerator": scenario.cluster.accelerator, "gpus": scenario.cluster.gpus,
            "has_training": scenario.training is not None,
            "has_serving": scenario.serving is not None}


def workload_of(scenario: Scenario) -> Workload:
    """The typed catalog workload of a scenario."""
    return Workload.from_name(scenario.workload)


def node_power_w(scenario: Scenario) -> float | None:
    """IT power per accelerator: the catalog node's power / GPUs per node, else the TDP."""
    if scenario.cluster.name is not None:
        entry = catalog.get(scenario.cluster.name, kind="cluster")
        per_node = entry.get("node_power_w")
        if per_node is not None:
            return float(per_node) / scenario.cluster.gpus_per_node
    tdp = scenario.cluster.to_cluster().accelerator.tdp_w
    return None if tdp is None else float(tdp)


def training_estimate(scenario: Scenario) -> TrainingEstimate | None:
    """Roofline of one training step; None without a training job."""
    training = scenario.training
    if training is None:
        return None
    mfu, why = (training.mfu, "scenario training.mfu") if training.mfu is not None \
        else (DEFAULT_MFU, "default: published large-scale runs reach 38-46% (docs/validation.md)")
    workload = workload_of(scenario)
    if workload.unit == "token":
        return _token_step(scenario, training, mfu, why)
    return _sample_step(scenario, training, workload, mfu, why)


def units_total(scenario: Scenario, training: TrainingSpec,
                 unit: str) -> tuple[float | None, tuple[str, ...]]:
    """Tokens or samples to train on, and the fields they come from (tokens = samples x seq_len)."""
    per_sample = float(training.seq_len or 1) if unit == "token" else 1.0
    if training.total_tokens is not None:
        if unit == "token":
            return float(training.total_tokens), ("training.total_tokens",)
        return None, ()
    if training.total_samples is not None:
        return training.total_samples * per_sample, ("training.total_samples",)
    storage = scenario.storage
    if training.epochs is None or storage is None or storage.samples is None:
        return None, ()
    source = (("storage.dataset_samples",) if storage.dataset_samples is not None
              else ("storage.dataset_bytes", "storage.sample_bytes"))
    return training.epochs * storage.samples * per_sample, ("training.epochs", *source)


def _token_step(scenario: Scenario, training: TrainingSpec, mfu: float,
                why: str) -> TrainingEstimate:
    from mlfleet.infra.roofline import training_step

    assert training.batch_tokens is not None  # a token workload needs seq_len (checked on load)
    result = training_step(workload=scenario.workload, accelerator=scenario.cluster.accelerator,
                           precision=training.precision, global_batch_tokens=training.batch_tokens,
                           n_gpus=scenario.cluster.gpus, seq_len=training.seq_len,
                           compute_efficiency=mfu)
    time_s = float(result.time_s)
    total, fields = units_total(scenario, training, "token")
    return TrainingEstimate(step_compute_s=time_s, backward_s=time_s * 2 / 3,
                            bound=str(result.bound), mfu_assumed=mfu, mfu_source=why,
                            units_per_step=float(training.batch_tokens), unit="token",
                            units_total=total, units_total_fields=fields,
                            arithmetic_intensity_flop_per_byte=float(result.arithmetic_intensity),
                            model_flop_per_step=float(result.model_flop) * scenario.cluster.gpus)


def _sample_step(scenario: Scenario, training: TrainingSpec, workload: Workload, mfu: float,
                 why: str) -> TrainingEstimate:
    """Per-GPU FLOP from the catalog's fwd+bwd FLOP per sample; memory traffic counts weights
    (read in forward and backward), gradients (written) and mixed-precision Adam state
    (16 bytes per parameter read and written) — the catalog has no activation traffic."""
    from mlfleet.infra.roofline import Device, step_time

    gpus = scenario.cluster.gpus
    device = Device.from_accelerator(scenario.cluster.accelerator, training.precision)
    samples = float(training.batch_samples)
    flop = (workload.fwd_flop + workload.bwd_flop) * samples / gpus
    mem_bytes = workload.params * (3 * device.bytes_per_element + 2 * 16)
    result = step_time(flop=flop, mem_bytes=mem_bytes, peak_flops_per_s=device.peak_flops_per_s,
                       mem_bw_bytes_per_s=device.mem_bw_bytes_per_s, compute_efficiency=mfu)
    time_s = float(result.time_s)
    total, fields = units_total(scenario, training, "sample")
    return TrainingEstimate(step_compute_s=time_s, backward_s=time_s * 2 / 3,
                            bound=str(result.bound), mfu_assumed=mfu, mfu_source=why,
                            units_per_step=samples, unit="sample", units_total=total,
                            units_total_fields=fields,
                            arithmetic_intensity_flop_per_byte=float(result.arithmetic_intensity),
                            model_flop_per_step=flop * gpus)
