"""The training question over a whole grid at once: the plan's roofline step, vectorised.

For each family of points (one workload, accelerator and precision) the model functions
of :mod:`mlfleet.infra.roofline` run once on arrays of every point's GPUs, batch,
sequence length and assumed MFU — the same functions and the same order of operations
as the plan's :func:`mlfleet.plan.context.training_estimate`, so each point equals the
plan's own number (tests/sweep/test_sweep_training.py holds it to 1e-9). From the step:

    units_per_s         = units_per_step / step_compute_s
    training_compute_s  = units_total / units_per_step · step_compute_s
    gpu_hours           = gpus · training_compute_s / 3600
    cloud_cost_usd      = gpu_hours · cloud_usd_per_gpu_h

as :func:`mlfleet.plan.infrastructure.plan` computes them **without the exposed
communication** (the plan adds the gradient AllReduce that the backward pass does not
hide; that model selects algorithms and simulates buckets per point and is not
vectorised): the sweep's times are the compute roofline, a lower bound on the plan's.
Memory per GPU is :mod:`mlfleet.sweep.training_memory`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.infra.roofline import (
    Device,
    RooflineResult,
    TransformerShape,
    llm_training_step,
    predict,
    step_time,
)
from mlfleet.sweep.training_inputs import Family, FloatArray, TrainingInputs, workload_of_name
from mlfleet.sweep.training_memory import MemoryColumns, memory_columns

TRAINING_METRICS: Mapping[str, str] = {
    "step_compute_s": "s",
    "bound": "compute | memory (the roofline's binding resource)",
    "mfu": "fraction (model FLOP / (step time x peak))",
    "arithmetic_intensity_flop_per_byte": "FLOP/byte",
    "units_per_s": "tokens/s (token workloads) or samples/s",
    "training_compute_s": "s (without exposed communication)",
    "gpu_hours": "GPU-h (without exposed communication)",
    "cloud_cost_usd": "USD (without exposed communication)",
    "memory_bytes_per_gpu": "bytes (model state + activations, recomputed when needed)",
    "hbm_bytes": "bytes",
    "fits_hbm": "bool",
    "needs_recompute": "bool",
    "zero_stage_used": "ddp | zero1 | zero2 | zero3",
}
"""The metric columns of a training sweep and their units, in output order."""


@dataclass(frozen=True, kw_only=True)
class StepColumns:
    """The roofline step of every point."""

    step_compute_s: FloatArray
    bound: npt.NDArray[np.str_]
    mfu: FloatArray
    arithmetic_intensity_flop_per_byte: FloatArray


def training_metrics(inputs: TrainingInputs) -> dict[str, npt.NDArray[np.generic]]:
    """Every metric of :data:`TRAINING_METRICS`, one array entry per point of ``inputs``."""
    step = step_columns(inputs)
    per_step, total = inputs.units_per_step, inputs.units_total
    training_s = total / per_step * step.step_compute_s
    gpu_hours = inputs.gpus * training_s / 3600.0
    memory: MemoryColumns = memory_columns(inputs)
    return {
        "step_compute_s": step.step_compute_s, "bound": step.bound, "mfu": step.mfu,
        "arithmetic_intensity_flop_per_byte": step.arithmetic_intensity_flop_per_byte,
        "units_per_s": per_step / step.step_compute_s, "training_compute_s": training_s,
        "gpu_hours": gpu_hours, "cloud_cost_usd": gpu_hours * inputs.cloud_usd_per_gpu_h,
        "memory_bytes_per_gpu": memory.need_bytes, "hbm_bytes": memory.hbm_bytes,
        "fits_hbm": memory.fits, "needs_recompute": memory.needs_recompute,
        "zero_stage_used": memory.zero_stage,
    }


def step_columns(inputs: TrainingInputs) -> StepColumns:
    """The roofline step per point: one vectorised model call per family."""
    n = len(inputs.gpus)
    time_s, mfu, intensity = np.empty(n), np.empty(n), np.empty(n)
    bound = np.empty(n, dtype="<U13")
    for index, family in enumerate(inputs.families):
        at = inputs.family_index == index
        result = family_step(family, inputs, at)
        time_s[at], mfu[at] = result.time_s, result.mfu
        intensity[at], bound[at] = result.arithmetic_intensity, result.bound
    return StepColumns(step_compute_s=time_s, bound=bound, mfu=mfu,
                       arithmetic_intensity_flop_per_byte=intensity)


def family_step(family: Family, inputs: TrainingInputs,
                at: npt.NDArray[np.bool_]) -> RooflineResult:
    """The roofline of the points ``at`` of one family, as the plan computes one point
    (:func:`mlfleet.plan.context._token_step` / ``_sample_step``)."""
    device = Device.from_accelerator(family.accelerator, family.precision)
    workload = workload_of_name(family.workload)
    gpus, per_step, mfu = inputs.gpus[at], inputs.units_per_step[at], inputs.mfu[at]
    if workload.unit == "token":
        cost = llm_training_step(TransformerShape.from_workload(workload), tokens=per_step,
                                 seq_len=inputs.seq_len[at], n_gpus=gpus,
                                 bytes_per_param=device.bytes_per_element)
        return predict(cost, device, compute_efficiency=mfu)
    # Per-GPU FLOP from the catalog's fwd+bwd FLOP per sample; weights, gradients and
    # mixed-precision Adam state as memory traffic (the plan's _sample_step).
    flop = (workload.fwd_flop + workload.bwd_flop) * per_step / gpus
    mem_bytes = workload.params * (3 * device.bytes_per_element + 2 * 16)
    return step_time(flop=flop, mem_bytes=mem_bytes, peak_flops_per_s=device.peak_flops_per_s,
                     mem_bw_bytes_per_s=device.mem_bw_bytes_per_s, compute_efficiency=mfu)
