"""A kernel model fitted to one probe: kernels from its GEMM and stream points, launch
constants from its launch block (:mod:`.fit` does the least squares)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from mlfleet.infra.accel.fit import KernelFit, KernelPoint, Residual, fit_kernels, kernel_residuals
from mlfleet.infra.accel.probe import (
    GemmPoint,
    LaunchTimes,
    Probe,
    ProbeDevice,
    StepPoint,
    StepShape,
    StreamPoint,
    stream_traffic_bytes,
)
from mlfleet.infra.accel.step import GEMV_MAX_ROWS, transformer_step
from mlfleet.infra.accel.types import KERNEL_CLASSES, KernelClassParams, KernelModel, LaunchParams
from mlfleet.infra.roofline import BYTES_PER_ELEMENT, TransformerShape, gemm

HOST = "host"
"""Accelerator name of this machine's CPU (the host probe's calibrations)."""

def gemm_class(m: int, n: int) -> str:
    """``gemv`` for a skinny GEMM (min(m, n) <= the step model's
    :data:`~mlfleet.infra.accel.step.GEMV_MAX_ROWS`), else ``gemm``."""
    return "gemv" if min(m, n) <= GEMV_MAX_ROWS else "gemm"


def bytes_per_element(precision: str) -> float:
    """Storage bytes of one element at ``precision``; unknown precisions count as 4 (fp32)."""
    return BYTES_PER_ELEMENT.get(precision, 4.0)


def gemm_point(g: GemmPoint, *, precision: str, label: str = "") -> KernelPoint:
    """A GEMM as a kernel point: 2mnk FLOP, each operand read once and C written once."""
    cost = gemm(g.m, g.n, g.k, bytes_per_element=bytes_per_element(precision))
    return KernelPoint(label=label or f"gemm {g.m}x{g.n}x{g.k}", kernel_class=gemm_class(g.m, g.n),
                       flop=float(cost.flop), mem_bytes=float(cost.mem_bytes),
                       measured_s=g.seconds)


def stream_point(s: StreamPoint, *, label: str = "") -> KernelPoint:
    """A copy or reduce as a kernel point of class ``stream`` (no FLOP counted)."""
    return KernelPoint(label=label or f"{s.op} {s.bytes:.3g} B", kernel_class="stream", flop=0.0,
                       mem_bytes=stream_traffic_bytes(s.op, s.bytes), measured_s=s.seconds)


def probe_points(probe: Probe) -> list[KernelPoint]:
    """The probe's GEMMs and streams as kernel points."""
    precision = probe.device.precision
    return [gemm_point(g, precision=precision) for g in probe.gemm] + \
        [stream_point(s) for s in probe.stream]


def fit_launch(times: LaunchTimes, prior: LaunchParams, *, source: str) -> LaunchParams:
    """Launch constants from a probe's launch block; the rest stay the prior's.

    An empty kernel inside a graph costs ``min_kernel_s + graph_gap_s``; issued eagerly back
    to back it costs the host's issue time (which is the longer one on every device probed).
    """
    return replace(prior, min_kernel_s=times.min_kernel_s,
                   graph_gap_s=max(times.graph_s - times.min_kernel_s, 0.0),
                   eager_issue_s=times.eager_s, source=source)


LAUNCH_FITTED = ("launch.min_kernel_s", "launch.graph_gap_s", "launch.eager_issue_s")


def neutral_model(*, accelerator: str, precision: str, peak_flops_per_s: float,
                  mem_bw_bytes_per_s: float) -> KernelModel:
    """Fractions 1, no fixed time, no launch costs: the ideal roofline as a kernel model.

    The prior of a fit where no sourced defaults exist (this host's CPU).
    """
    one = KernelClassParams(compute_fraction=1.0, memory_fraction=1.0, fixed_s=0.0,
                            source="ideal")
    zero = LaunchParams(min_kernel_s=0.0, graph_gap_s=0.0, graph_launch_s=0.0,
                        eager_issue_s=0.0, framework_op_s=0.0, sync_s=0.0, source="ideal")
    return KernelModel(accelerator=accelerator, precision=precision,
                       peak_flops_per_s=peak_flops_per_s, mem_bw_bytes_per_s=mem_bw_bytes_per_s,
                       classes=dict.fromkeys(KERNEL_CLASSES, one), launch=zero, origin="ideal")


def prior_for(device: ProbeDevice) -> KernelModel:
    """What a fit of ``device`` starts from: the catalog's sourced defaults for its accelerator
    and precision, or the ideal roofline for this host's CPU (``host``)."""
    if device.accelerator == HOST:
        return neutral_model(accelerator=HOST, precision=device.precision,
                             peak_flops_per_s=device.peak_flops_per_s,
                             mem_bw_bytes_per_s=device.mem_bw_bytes_per_s)
    from mlfleet.infra.accel.defaults import kernel_model

    return kernel_model(device.accelerator, device.precision)


def fit_probe(probe: Probe, prior: KernelModel, *, source: str = "") -> KernelFit:
    """The kernel model of ``probe``: launch block first (the floor decides which kernels are
    fitted), then every kernel class, then the sync time from the steps; constants the probe
    cannot determine stay ``prior``'s. Fractions are relative to the prior's ceilings (the
    catalog's peak FLOP/s and bandwidth; the measured ones for this host's CPU)."""
    label = f"calibration:{source or probe.source}"
    base = prior
    fitted: Sequence[str] = ()
    if probe.launch is not None:
        base = replace(base, launch=fit_launch(probe.launch, base.launch, source=label))
        fitted = LAUNCH_FITTED
    kernels = fit_kernels(probe_points(probe), base, source=label)
    model = kernels.model
    if probe.steps:
        model = replace(model, launch=replace(model.launch, sync_s=fit_sync(model, probe.steps),
                                              source=label))
        fitted = (*fitted, "launch.sync_s")
    return KernelFit(model=model, fitted=(*kernels.fitted, *fitted),
                     residuals=(*kernel_residuals(probe_points(probe), model),
                                *step_residuals(model, probe.steps)))


def transformer_shape(s: StepShape) -> TransformerShape:
    """The probe decoder's shape for the step model: untied embeddings, SwiGLU MLP, two
    RMSNorm weight vectors per layer and a final one."""
    hd = s.d_model // s.n_heads
    layer = (s.d_model * (s.n_heads + 2 * s.n_kv_heads) * hd + s.n_heads * hd * s.d_model
             + 3 * s.d_model * s.d_ff + 2 * s.d_model)
    return TransformerShape(params=2 * s.vocab * s.d_model + s.n_layers * layer + s.d_model,
                            n_layers=s.n_layers, d_model=s.d_model, n_heads=s.n_heads,
                            n_kv_heads=s.n_kv_heads, vocab=s.vocab, d_ff=s.d_ff)


def predict_step(model: KernelModel, step: StepPoint) -> float:
    """The step model's time for one probe step (activations at the model's precision)."""
    lengths = {"context_len" if step.phase == "decode" else "prompt_len": step.tokens}
    out = transformer_step(model, transformer_shape(step.shape), phase=step.phase,
                           batch=step.batch, engine=step.engine,
                           act_bytes_per_element=bytes_per_element(model.precision), **lengths)
    return float(out.time_s)


def fit_sync(model: KernelModel, steps: Sequence[StepPoint]) -> float:
    """End-of-step sync time: the least-squares offset (relative errors) between the steps
    measured and the step model without sync, held at >= 0."""
    base = replace(model, launch=replace(model.launch, sync_s=0.0))
    t = np.array([s.seconds for s in steps])
    gap = t - np.array([predict_step(base, s) for s in steps])
    return max(0.0, float(np.sum(gap / t**2) / np.sum(1.0 / t**2)))


def step_residuals(model: KernelModel, steps: Sequence[StepPoint]) -> tuple[Residual, ...]:
    """Every probe step against the step model's prediction of it."""
    return tuple(Residual(label=f"{s.phase} b{s.batch} {s.tokens} {s.engine}",
                          kind=f"{s.phase} step", measured_s=s.seconds,
                          predicted_s=predict_step(model, s)) for s in steps)
