"""The kernel-built step as plain-float arithmetic, for simulators that time every iteration.

Every launch's FLOP, bytes and rows are affine in the step counts (tokens, logit rows,
attended pairs, cached tokens read), so they are read off :func:`~.kernels.step_launches`
once, at the zero counts and the four unit vectors; a step then costs a few float
operations per launch instead of a numpy sweep. :meth:`CompiledStep.time_s` equals
:func:`~.step.counts_step`'s ``time_s`` to rounding (tests/infra/accel/test_compiled_step.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.infra.accel.kernels import StepCounts, step_launches
from mlfleet.infra.accel.step import GEMV_MAX_ROWS, host_ops, host_s, weight_bytes_per_element
from mlfleet.infra.accel.types import KernelModel
from mlfleet.infra.roofline import TransformerShape

Affine = tuple[float, float, float, float, float]
"""(constant, per token, per logit row, per pair, per cached token read)."""


@dataclass(frozen=True, kw_only=True)
class CompiledLaunch:
    """One launch's costs as affine functions of the counts, with its class's constants."""

    kind: str
    repeat: float
    flop: Affine
    mem_bytes: Affine
    rows: Affine


@dataclass(frozen=True, kw_only=True)
class CompiledStep:
    """A step's launches on one kernel model and engine, evaluated on plain floats."""

    model: KernelModel
    launches: tuple[CompiledLaunch, ...]
    host_s: float
    n_kernels: int
    gemv_max_rows: int = GEMV_MAX_ROWS

    def time_s(self, tokens: float, logit_rows: float, pairs: float, kv_read_tokens: float,
               allreduce_s: float = 0.0) -> float:
        """max(host, device) + sync of the step with these counts; ``allreduce_s`` is one
        TP AllReduce (every ``comm`` launch costs it)."""
        x = (1.0, tokens, logit_rows, pairs, kv_read_tokens)
        peak, bw, lp = self.model.peak_flops_per_s, self.model.mem_bw_bytes_per_s, self.model.launch
        device = self.n_kernels * lp.graph_gap_s
        for launch in self.launches:
            if launch.kind == "comm":
                device += launch.repeat * allreduce_s
                continue
            kind = launch.kind
            if kind == "gemm" and _dot(launch.rows, x) <= self.gemv_max_rows:
                kind = "gemv"
            p = self.model.classes[kind]
            busy = max(_dot(launch.flop, x) / (peak * p.compute_fraction),
                       _dot(launch.mem_bytes, x) / (bw * p.memory_fraction)) + p.fixed_s
            device += launch.repeat * max(busy, lp.min_kernel_s)
        return max(self.host_s, device) + lp.sync_s


def _dot(coef: Affine, x: tuple[float, ...]) -> float:
    return coef[0] + coef[1] * x[1] + coef[2] * x[2] + coef[3] * x[3] + coef[4] * x[4]


def compile_step(model: KernelModel, shape: TransformerShape, *, engine: str, tp: int,
                 layers: int, kv_bytes_per_element: float | None = None,
                 act_bytes_per_element: float = 2.0) -> CompiledStep:
    """The step of ``shape`` on one of ``tp`` GPUs holding ``layers`` layers, compiled."""
    w_b = weight_bytes_per_element(model)
    kv_b = w_b if kv_bytes_per_element is None else kv_bytes_per_element
    basis = np.vstack([np.zeros(4), np.eye(4)])  # (5, 4): zero counts, then unit vectors
    counts = StepCounts(tokens=basis[:, 0], logit_rows=basis[:, 1], pairs=basis[:, 2],
                        kv_read_tokens=basis[:, 3])
    launches = step_launches(shape, counts, tp=tp, layers=layers, w_b=w_b, kv_b=kv_b,
                             a_b=act_bytes_per_element)

    def affine(values: np.ndarray) -> Affine:
        v = np.broadcast_to(values, (5,)).astype(float)
        d = v[1:] - v[0]
        return (float(v[0]), float(d[0]), float(d[1]), float(d[2]), float(d[3]))

    compiled = tuple(CompiledLaunch(kind=x.kind, repeat=float(x.repeat), flop=affine(x.flop),
                                    mem_bytes=affine(x.state_bytes + x.act_bytes),
                                    rows=affine(x.rows)) for x in launches)
    n = sum(x.repeat for x in launches)
    return CompiledStep(model=model, launches=compiled,
                        host_s=host_s(model, engine, host_ops(launches, engine)), n_kernels=n)
