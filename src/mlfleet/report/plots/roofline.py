"""The roofline of the scenario's accelerator with the workload's steps on it.

Williams, Waterman & Patterson, "Roofline", CACM 52(4), 2009: attainable FLOP/s =
min(peak, intensity x bandwidth). The training step's point is the plan's own (its
arithmetic intensity and the model FLOP/s it achieves at the plan's MFU, communication
included); prefill and decode points are the roofline's LLM step costs
(:func:`mlfleet.infra.roofline.llm_cost`) at a few batches, placed on the roof. Where the
kernel model (:func:`mlfleet.infra.accel.defaults.kernel_model`) has data for the
accelerator, its achievable ceilings (GEMM compute fraction, streaming memory fraction) are
drawn as a second, lower roof.
"""

from __future__ import annotations

import numpy as np

from mlfleet.catalog.types import Workload
from mlfleet.errors import InputError
from mlfleet.infra.accel.defaults import kernel_model
from mlfleet.infra.accel.types import KernelModel
from mlfleet.infra.roofline import Device, TransformerShape, llm_cost, predict
from mlfleet.plan.compose import Plan
from mlfleet.report.plots.chart import Axis, Chart, Marker, RefLine, Series
from mlfleet.scenario import Scenario

BATCHES = (1, 8, 64)
"""Batches of the prefill and decode points."""
PROMPT_TOKENS = 1024
"""Prompt length of the prefill points and cached context of the decode points."""
INTENSITY_RANGE = (0.1, 1e5)
"""FLOP per byte spanned by the x axis."""


def chart(scenario: Scenario, plan: Plan) -> Chart:
    """The roofline chart (always drawable: every scenario names an accelerator)."""
    device = Device.from_accelerator(scenario.cluster.accelerator, _precision(scenario))
    intensity = np.logspace(np.log10(INTENSITY_RANGE[0]), np.log10(INTENSITY_RANGE[1]), 121)
    series = [Series(name="roofline (peak)", x=tuple(intensity),
                     y=tuple(np.minimum(device.peak_flops_per_s,
                                        intensity * device.mem_bw_bytes_per_s)))]
    achievable, note = _achievable_roof(scenario, intensity)
    series += achievable
    series += _llm_points(scenario, device)
    markers = _training_marker(plan, device)
    return Chart(
        plot_id="roofline", title=f"Roofline: {device.name}",
        caption=("Left of the ridge a step is memory-bound (decode at small batch), right of it "
                 "compute-bound; the gap under the roof is what the step leaves unused."),
        x=Axis(label="arithmetic intensity (FLOP/byte)", log=True),
        y=Axis(label="attainable FLOP/s per GPU", log=True),
        series=tuple(series), markers=markers, note=note,
        refs=(RefLine(axis="x", value=device.ridge_point_flop_per_byte,
                      label=f"ridge {device.ridge_point_flop_per_byte:.0f} FLOP/B"),))


def _precision(scenario: Scenario) -> str:
    if scenario.training is not None:
        return scenario.training.precision
    return scenario.serving.precision if scenario.serving is not None else "bf16"


def _llm_points(scenario: Scenario, device: Device) -> list[Series]:
    """Prefill and decode steps at :data:`BATCHES` on the roof; none for a non-LLM workload."""
    workload = Workload.from_name(scenario.workload)
    if workload.unit != "token":
        return []
    shape = TransformerShape.from_workload(workload)
    gpus = 8 if shape.params * device.bytes_per_element > (device.hbm_bytes or np.inf) else 1
    out = []
    for phase in ("prefill", "decode"):
        result = predict(llm_cost(phase, shape, batch=np.asarray(BATCHES, dtype=np.float64),
                                  seq_len=PROMPT_TOKENS, n_gpus=gpus,
                                  bytes_per_param=device.bytes_per_element), device)
        out.append(Series(name=f"{phase} b={','.join(map(str, BATCHES))}", style="points",
                          x=tuple(result.arithmetic_intensity.tolist()),
                          y=tuple(result.achieved_flops_per_s.tolist())))
    return out


def _training_marker(plan: Plan, device: Device) -> tuple[Marker, ...]:
    training = plan.results.infrastructure.training
    if training is None:
        return ()
    return (Marker(x=training.arithmetic_intensity_flop_per_byte,
                   y=training.mfu_with_comm * device.peak_flops_per_s,
                   label=f"training step ({training.mfu_with_comm:.0%} MFU)"),)


def _achievable_roof(scenario: Scenario, intensity: np.ndarray) -> tuple[list[Series], str]:
    model = kernel_model_or_none(scenario.cluster.accelerator, _precision(scenario))
    if model is None:
        return [], "no kernel data for this accelerator: only the peak roof is drawn"
    gemm, stream = model.params("gemm"), model.params("stream")
    roof = np.minimum(model.peak_flops_per_s * gemm.compute_fraction,
                      intensity * model.mem_bw_bytes_per_s * stream.memory_fraction)
    return [Series(name="achievable (kernel model)", x=tuple(intensity), y=tuple(roof),
                   dashed=True)], ""


def kernel_model_or_none(accelerator: str, precision: str) -> KernelModel | None:
    """The kernel model for the accelerator (its defaults, or the active calibration), or
    None when it has no kernel data (the report then draws the peak roof alone)."""
    try:
        return kernel_model(accelerator, precision)
    except InputError:
        return None
