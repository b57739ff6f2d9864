"""Leave-one-out validation of the kernel and step models over the published points.

For each published GEMM, stream, decode or prefill point (:mod:`.published`), the constants are
refitted without it and the point is predicted:

1. the kernel classes are refitted (:func:`~.fit.fit_kernels`) to the *other* GEMM and stream
   points of the same accelerator and precision family (bf16 and fp16 share tensor-core rates
   and, in the defaults, fractions), starting from the sourced defaults
   (:func:`~.defaults.kernel_model`) for whatever those points cannot determine;
2. for a step, the engine's per-kernel constant — ``graph_gap_s`` for CUDA graphs,
   ``eager_issue_s`` (and ``framework_op_s``) otherwise, the defaults' values that were derived
   from step points — is refitted to the *other* steps of the same accelerator and engine, by
   least squares on relative error; with no other step it keeps the default.

Steps are predicted by the serving step model built from kernels
(:func:`mlfleet.serving.models.llm_step.llm_step_model`, TP AllReduce included). Constants that
no other point determines stay at the defaults, which were themselves derived from these points
(see each value's note in ``data/kernels.yaml``): for those the prediction is not fully out of
sample, and the docs say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from mlfleet.infra.accel.fit import KernelPoint, fit_kernels, predict_point
from mlfleet.infra.accel.probe_fit import gemm_class
from mlfleet.infra.accel.published import PublishedPoint
from mlfleet.infra.accel.types import KernelModel
from mlfleet.infra.roofline import BYTES_PER_ELEMENT, gemm

KERNEL_KINDS = ("gemm", "stream")
STEP_KINDS = ("decode_step", "prefill_step")
SIXTEEN_BIT = ("bf16", "fp16")

STEP_GAP_BOUNDS_S = (0.0, 1e-4)
"""Search interval of a refitted per-kernel step constant (0 to 100 µs per kernel)."""


@dataclass(frozen=True, kw_only=True)
class LooResult:
    """One published point predicted from the others."""

    point: PublishedPoint
    predicted_s: float
    fitted: tuple[str, ...]
    """Constants refitted without the point; the others are the sourced defaults."""
    compute_bound: bool
    """For a GEMM: whether its FLOP time at peak exceeds its byte time at peak bandwidth."""

    @property
    def rel_error(self) -> float:
        """predicted / measured - 1."""
        return self.predicted_s / self.point.measured_s - 1.0


def family(precision: str) -> str:
    """The precision group whose points are fitted together (bf16 with fp16)."""
    return "16-bit" if precision in SIXTEEN_BIT else precision


def kernel_point(p: PublishedPoint) -> KernelPoint:
    """A published GEMM or stream as a kernel point (stream bytes are the traffic moved)."""
    if p.kind == "gemm":
        m, n, k = (int(p.shape[d]) for d in ("m", "n", "k"))
        cost = gemm(m, n, k, bytes_per_element=BYTES_PER_ELEMENT[p.precision])
        return KernelPoint(label=p.id, kernel_class=gemm_class(m, n), flop=float(cost.flop),
                           mem_bytes=float(cost.mem_bytes), measured_s=p.measured_s)
    return KernelPoint(label=p.id, kernel_class="stream", flop=0.0,
                       mem_bytes=float(p.shape["bytes"]), measured_s=p.measured_s)


def prior_model(p: PublishedPoint) -> KernelModel:
    """The sourced defaults of the point's accelerator at its precision."""
    from mlfleet.infra.accel.defaults import default_kernel_model

    return default_kernel_model(p.accelerator, p.precision)


def refit_kernels(held: PublishedPoint, points: Sequence[PublishedPoint]
                  ) -> tuple[KernelModel, tuple[str, ...]]:
    """The kernel model of ``held``'s accelerator fitted to the other kernel points."""
    others = [kernel_point(q) for q in points
              if q.id != held.id and q.kind in KERNEL_KINDS and q.accelerator == held.accelerator
              and family(q.precision) == family(held.precision)]
    fit = fit_kernels(others, prior_model(held), source="leave-one-out")
    return fit.model, fit.fitted


def step_time(model: KernelModel, p: PublishedPoint) -> float:
    """The step model's time of a published decode or prefill point."""
    from mlfleet.serving.models.llm_step import llm_step_model

    step = llm_step_model(workload=str(p.shape["workload"]), accelerator=p.accelerator,
                          precision=p.precision, tp=int(p.shape["tp"]), engine=p.engine,
                          kernels=model)
    batch = float(p.shape["batch"])
    if p.kind == "decode_step":
        return float(step.decode(batch=batch, context_len=float(p.shape["context"])).time_s)
    return float(step.prefill(batch=batch, prompt_len=float(p.shape["prompt_len"])).time_s)


def _step_constant(engine: str) -> str:
    return "graph_gap_s" if engine == "graph" else "eager_issue_s"


def refit_step_constant(model: KernelModel, steps: Sequence[PublishedPoint],
                        engine: str) -> KernelModel:
    """``model`` with the engine's per-kernel constant fitted to ``steps`` (relative errors)."""
    from scipy.optimize import minimize_scalar  # here: scipy.optimize costs ~0.3 s to import

    name = _step_constant(engine)

    def with_value(value: float) -> KernelModel:
        launch = replace(model.launch, graph_gap_s=value) if name == "graph_gap_s" \
            else replace(model.launch, eager_issue_s=value)
        return replace(model, launch=launch)

    def loss(value: float) -> float:
        trial = with_value(value)
        return float(sum((step_time(trial, s) / s.measured_s - 1.0) ** 2 for s in steps))

    best = minimize_scalar(loss, bounds=STEP_GAP_BOUNDS_S, method="bounded",
                           options={"xatol": 1e-9})
    return with_value(float(best.x))


def predict_held_out(held: PublishedPoint, points: Sequence[PublishedPoint]) -> LooResult:
    """Predict ``held`` from the other points (see the module docstring)."""
    model, fitted = refit_kernels(held, points)
    if held.kind in KERNEL_KINDS:
        kp = kernel_point(held)
        return LooResult(point=held, predicted_s=predict_point(model, kp), fitted=fitted,
                         compute_bound=kp.flop / model.peak_flops_per_s
                         >= kp.mem_bytes / model.mem_bw_bytes_per_s)
    steps = [q for q in points if q.id != held.id and q.kind in STEP_KINDS
             and q.accelerator == held.accelerator and q.engine == held.engine]
    if steps:
        model = refit_step_constant(model, steps, held.engine)
        fitted = (*fitted, f"launch.{_step_constant(held.engine)}")
    return LooResult(point=held, predicted_s=step_time(model, held), fitted=fitted,
                     compute_bound=held.kind == "prefill_step")


def leave_one_out(points: Sequence[PublishedPoint]) -> list[LooResult]:
    """Every GEMM, stream and step point predicted from the others, in file order."""
    return [predict_held_out(p, points) for p in points if p.kind in KERNEL_KINDS + STEP_KINDS]


def median_abs_error(results: Sequence[LooResult]) -> float:
    """Median |predicted / measured - 1| over ``results``."""
    return float(np.median([abs(r.rel_error) for r in results])) if results else float("nan")
