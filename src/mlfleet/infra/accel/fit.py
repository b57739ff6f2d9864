"""Least-squares fit of a :class:`~.types.KernelModel`'s constants to measured kernels.

Inside one regime a kernel's time is linear in the model's unknowns (types.py)::

    t = (flop / P) · u + fixed_s        compute-bound, u = 1 / compute_fraction
    t = (bytes / B) · v + fixed_s       memory-bound,  v = 1 / memory_fraction

so each kernel class is fitted by non-negative least squares in (u - 1, v - 1, fixed_s),
which keeps every fraction in (0, 1] and ``fixed_s >= 0``, with a weak pull toward the
prior's values (:data:`PRIOR_WEIGHT`). Rows are divided by the measured
time, so the fit minimises *relative* errors and small and large kernels weigh alike. Which
regime a point is in depends on the fit itself: a kernel is compute-bound when its FLOP per
byte is above the ridge point, so every split of the points sorted by intensity is solved
and the best full model kept. A constant the points
cannot determine (no compute-bound point of a class, fewer than three points for a fixed
term) keeps the prior's value, and :attr:`KernelFit.fitted` says which ones were fitted.
Kernels that ran at the device's floor (``min_kernel_s``) say nothing about fractions and
are left out of the fit (their residuals are still reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from mlfleet.infra.accel.types import KERNEL_CLASSES, KernelClassParams, KernelModel, kernel_time

MIN_POINTS_FRACTION = 1
"""Points a regime needs before its fraction is fitted rather than kept from the prior."""

MIN_POINTS_FIXED = 3
"""Points a class needs before its fixed time is fitted rather than kept from the prior."""

RIDGE_SLACK = 2.0
"""A point is taken as memory-bound only if its FLOP per byte is below this multiple of the
ideal ridge point (peak FLOP/s over peak bandwidth), and as compute-bound only above the ridge
over it: the fitted ridge, ``P·compute_fraction / (B·memory_fraction)``, stays within a factor
of two of the ideal one on every part with published fractions (0.7-0.9 both), so a split
beyond that would explain a fixed per-kernel time by an implausible fraction instead."""

PRIOR_WEIGHT = 0.1
"""Weight of a pull toward the prior's value on every fitted constant (a ridge term: in units
of (1/fraction - 1) for fractions and of the points' median time for fixed_s). It decides
what a well-determined fit hardly notices (a 10 % relative error on one point weighs as much
as moving 1/fraction by 1) and, where a few points fit two explanations equally (a small
GEMM near the ridge: a low memory fraction or a fixed time), it picks the one nearer the
sourced defaults."""

FLOOR_MARGIN = 1.05
"""A kernel measured within this factor of ``min_kernel_s`` is floor-bound: not fitted."""


@dataclass(frozen=True, kw_only=True)
class KernelPoint:
    """One measured kernel: its class, its work, and its time."""

    label: str
    kernel_class: str
    flop: float
    mem_bytes: float
    measured_s: float


@dataclass(frozen=True, kw_only=True)
class Residual:
    """A fitted model's prediction of one measured point."""

    label: str
    kind: str
    """``gemm``, ``stream`` or a step phase; what the point measured."""
    measured_s: float
    predicted_s: float

    @property
    def rel_error(self) -> float:
        """predicted / measured - 1 (negative: the point ran slower than predicted)."""
        return self.predicted_s / self.measured_s - 1.0


@dataclass(frozen=True, kw_only=True)
class KernelFit:
    """The fitted model, which constants came from the points, and every point's residual."""

    model: KernelModel
    fitted: tuple[str, ...]
    """Constants fitted from points (``gemm.compute_fraction``); the rest are the prior's."""
    residuals: tuple[Residual, ...]


def _solve(points: Sequence[KernelPoint], compute: np.ndarray, prior: KernelClassParams,
           model: KernelModel, weight: float) -> tuple[KernelClassParams, tuple[str, ...], float]:
    """One NNLS solve with the regimes given by ``compute`` (True: compute-bound).

    Returns the parameters, the names of the free ones and the prior penalty at the solution.
    """
    from scipy.optimize import nnls  # here, not at import: scipy.optimize costs ~0.3 s

    t = np.array([p.measured_s for p in points])
    x_c = np.where(compute, [p.flop / model.peak_flops_per_s for p in points], 0.0)
    x_m = np.where(compute, 0.0, [p.mem_bytes / model.mem_bw_bytes_per_s for p in points])
    # unknowns u - 1 and v - 1 (>= 0 keeps fractions <= 1) and fixed_s (>= 0)
    start = {"compute_fraction": 1.0 / prior.compute_fraction - 1.0,
             "memory_fraction": 1.0 / prior.memory_fraction - 1.0, "fixed_s": prior.fixed_s}
    columns = {"compute_fraction": x_c, "memory_fraction": x_m, "fixed_s": np.ones_like(t)}
    scale = {"compute_fraction": 1.0, "memory_fraction": 1.0, "fixed_s": float(np.median(t))}
    free = [name for name, enough in (
        ("compute_fraction", int(compute.sum()) >= MIN_POINTS_FRACTION),
        ("memory_fraction", int((~compute).sum()) >= MIN_POINTS_FRACTION),
        ("fixed_s", len(points) >= MIN_POINTS_FIXED)) if enough]
    held = [name for name in columns if name not in free]
    values = dict(start)
    target = t - x_c - x_m - sum(columns[h] * start[h] for h in held)
    penalty = 0.0
    if free:
        a = np.column_stack([columns[f] for f in free]) / t[:, None]
        ridge = weight * np.diag([1.0 / scale[f] for f in free])
        b = np.concatenate([target / t, [weight * start[f] / scale[f] for f in free]])
        solution, _ = nnls(np.vstack([a, ridge]), b)
        values |= dict(zip(free, (float(v) for v in solution), strict=True))
        penalty = sum((weight * (values[f] - start[f]) / scale[f]) ** 2 for f in free)
    params = KernelClassParams(compute_fraction=1.0 / (1.0 + values["compute_fraction"]),
                               memory_fraction=1.0 / (1.0 + values["memory_fraction"]),
                               fixed_s=values["fixed_s"], source=prior.source)
    return params, tuple(free), penalty


def _relative_sse(points: Sequence[KernelPoint], params: KernelClassParams,
                  model: KernelModel, kernel_class: str) -> float:
    trial = replace(model, classes={**model.classes, kernel_class: params})
    predicted = np.array([predict_point(trial, p) for p in points])
    measured = np.array([p.measured_s for p in points])
    return float(np.sum((predicted / measured - 1.0) ** 2))


def fit_class(points: Sequence[KernelPoint], prior: KernelModel, kernel_class: str, *,
              prior_weight: float = PRIOR_WEIGHT) -> tuple[KernelClassParams, tuple[str, ...]]:
    """Constants of ``kernel_class`` fitted to ``points`` (the prior's where they cannot be).

    A kernel is compute-bound exactly when its arithmetic intensity (FLOP per byte) is above
    the fitted ridge point, so the regimes are one threshold over the points sorted by
    intensity: every threshold within :data:`RIDGE_SLACK` of the ideal ridge is solved and
    the one whose full (max) model has the least relative squared error (plus the pull toward
    the prior, ``prior_weight``) wins. Returns the parameters and the names of the fitted
    constants.
    """
    floor = prior.launch.min_kernel_s * FLOOR_MARGIN
    usable = sorted((p for p in points if p.kernel_class == kernel_class and p.measured_s > floor),
                    key=lambda p: p.flop / p.mem_bytes if p.mem_bytes else np.inf)
    if not usable:
        return prior.params(kernel_class), ()
    intensity = np.array([p.flop / p.mem_bytes if p.mem_bytes else np.inf for p in usable])
    ridge = prior.peak_flops_per_s / prior.mem_bw_bytes_per_s
    best: tuple[float, KernelClassParams, tuple[str, ...]] | None = None
    for split in range(len(usable) + 1):
        compute = np.arange(len(usable)) >= split
        if np.any(intensity[~compute] > RIDGE_SLACK * ridge) or \
                np.any(intensity[compute] < ridge / RIDGE_SLACK):
            continue
        params, free, penalty = _solve(usable, compute, prior.params(kernel_class), prior,
                                       prior_weight)
        sse = _relative_sse(usable, params, prior, kernel_class) + penalty
        if best is None or sse < best[0]:
            best = (sse, params, free)
    assert best is not None
    return best[1], best[2]


def fit_kernels(points: Sequence[KernelPoint], prior: KernelModel, *,
                source: str = "") -> KernelFit:
    """Every kernel class fitted to its points; launch constants stay the prior's."""
    classes = {}
    fitted: list[str] = []
    for name in KERNEL_CLASSES:
        params, free = fit_class(points, prior, name)
        classes[name] = replace(params, source=source or params.source) if free else params
        fitted += [f"{name}.{f}" for f in free]
    model = replace(prior, classes=classes, origin=source or prior.origin)
    return KernelFit(model=model, fitted=tuple(fitted), residuals=kernel_residuals(points, model))


def predict_point(model: KernelModel, point: KernelPoint) -> float:
    """The model's device time for one kernel point."""
    return float(kernel_time(model, point.kernel_class, flop=point.flop,
                             mem_bytes=point.mem_bytes).device_s)


def kernel_residuals(points: Sequence[KernelPoint], model: KernelModel) -> tuple[Residual, ...]:
    """Every kernel point against the model's prediction of it."""
    return tuple(Residual(label=p.label, kind=p.kernel_class, measured_s=p.measured_s,
                          predicted_s=predict_point(model, p)) for p in points)
