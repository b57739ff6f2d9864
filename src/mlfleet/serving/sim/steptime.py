"""How long one iteration of a replica takes: the simulator's injectable step-time seam.

An LLM replica runs iterations; each processes ``decode_seqs`` decoding sequences (one
new token each, ``context_tokens`` cached tokens between them) and ``prefill_tokens``
prompt tokens (whole prompts or chunks, with ``prefill_pairs`` causal (query, key)
attention pairs and ``prefix_tokens`` cached tokens read by chunks). Any object with
the :class:`StepTime` methods can drive a replica:

* :class:`LlmStepTime` wraps the analytical :class:`~mlfleet.serving.models.llm_step.LlmStepModel`
  (roofline, TP/PP, overhead; calibrate it with
  :func:`~mlfleet.serving.models.llm_step.calibrate_step` from measured step times);
* :class:`LinearStepTime` is ``overhead_s + max_p(line_p)`` with explicit coefficients,
  for tests and for fits of measured step times (:func:`fit_linear_step_time`);
* :class:`CallableStepTime` wraps any function (a lookup table, a learned model).

**Coalescing.** The engine advances a replica whose batch composition does not change
(pure decode, nobody joins or leaves) by k iterations at once. It can only do so when
the iteration time of a pure decode step is known in closed form as

    t(B, C) = const(B) + max_p (a_p(B) + b_p(B) · C)

(C the context sum, which grows by B per iteration). :meth:`StepTime.decode_lines`
returns that form, or ``None`` when the step time has no such form — then the engine
steps iteration by iteration (slower, same answers).

Non-LLM replicas (vision, recommendation) use :class:`BatchServiceTime`: the time of a
batch of B requests, ``overhead_s + max_p(const_p + per_item_p · B)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.errors import InputError
from mlfleet.infra import roofline as rl
from mlfleet.serving.models.kernel_step import serving_kernels
from mlfleet.serving.models.llm_step import LlmStepModel, llm_step_model
from mlfleet.serving.sim.decode_run import plan_run
from mlfleet.serving.sim.step_contract import DecodeLines, StepTime

DEFAULT_COMPUTE_EFFICIENCY = 0.6
"""Assumed fraction of peak FLOP/s a serving kernel reaches (uncalibrated default)."""
DEFAULT_MEMORY_EFFICIENCY = 0.8
"""Assumed fraction of peak HBM bandwidth a decode step reaches (uncalibrated default)."""
DEFAULT_OVERHEAD_S = 2e-3
"""Assumed fixed per-iteration overhead: scheduler, launches, sampling (uncalibrated)."""


# --------------------------------------------------------------------------- adapters


_AXES = ("decode_seqs", "decode_context_tokens", "prefill_tokens", "prefill_pairs",
         "prefill_prefix_tokens")
_PROBE = 1e4


class LlmStepTime:
    """:class:`StepTime` of an analytical :class:`LlmStepModel` (serving.models.llm_step).

    A step takes ``max(compute_s, memory_s) + comm_s + overhead_s``. Without tensor or
    pipeline parallelism (comm = 0) each of compute, memory and overhead is an affine
    function of the five iteration inputs, so its coefficients are read off the model
    once, by evaluating it at probe points (and checked at a random point), and a step
    costs a few float operations. With TP/PP — or if the model ever stops being affine
    — each step calls :meth:`LlmStepModel.iteration_time_s`. Either way a pure decode
    step with B sequences is ``const(B) + max(compute line, memory line)`` in the
    context sum (the communication of a decode step depends on B only), so decode
    runs coalesce.
    """

    __slots__ = ("model", "_coef", "_lines")

    def __init__(self, model: LlmStepModel) -> None:
        self.model = model
        """The analytical model (replace it by a calibrated one to calibrate the sim)."""
        self._lines: dict[int, DecodeLines | None] = {}
        self._coef = self._read_coefficients(model) if model.tp == model.pp == 1 else None

    @staticmethod
    def _read_coefficients(model: LlmStepModel) -> tuple[tuple[float, ...], ...] | None:
        """(intercept, slope per input...) of compute, memory and overhead, or None."""
        base = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
        points = np.vstack([base, base + _PROBE * np.eye(5)])  # (6, 5)
        at = model.iteration(**{axis: points[:, i] for i, axis in enumerate(_AXES)})
        if np.any(at.comm_s != 0):
            return None
        coef = []
        for values in (at.compute_s, at.memory_s, at.overhead_s):
            slopes = (values[1:] - values[0]) / _PROBE
            coef.append((float(values[0] - slopes @ base), *map(float, slopes)))
        check = np.array([37.0, 12345.0, 321.0, 54321.0, 77.0])
        probe = model.iteration(**{axis: check[i] for i, axis in enumerate(_AXES)})
        for c, v in zip(coef, (probe.compute_s, probe.memory_s, probe.overhead_s), strict=True):
            if abs(c[0] + float(np.dot(c[1:], check)) - float(v)) > 1e-9 * max(float(v), 1e-9):
                return None  # not affine: delegate every step to the model
        return tuple(coef)

    def iteration_s(self, decode_seqs: int, context_tokens: float, prefill_tokens: int = 0,
                    prefill_pairs: float = 0.0, prefix_tokens: float = 0.0) -> float:
        """:meth:`LlmStepModel.iteration_time_s` (to rounding)."""
        coef = self._coef
        if coef is None:
            return self.model.iteration_time_s(decode_seqs, context_tokens, prefill_tokens,
                                               prefill_pairs, prefix_tokens)
        d, ctx, p, a, x = decode_seqs, context_tokens, prefill_tokens, prefill_pairs, prefix_tokens
        (c0, c1, c2, c3, c4, c5), (m0, m1, m2, m3, m4, m5), (o0, o1, o2, o3, o4, o5) = coef
        c = c0 + c1 * d + c2 * ctx + c3 * p + c4 * a + c5 * x
        m = m0 + m1 * d + m2 * ctx + m3 * p + m4 * a + m5 * x
        return (c if c > m else m) + o0 + o1 * d + o2 * ctx + o3 * p + o4 * a + o5 * x

    def decode_lines(self, decode_seqs: int) -> DecodeLines | None:
        """The compute and memory lines of a pure decode step (cached per batch size)."""
        if decode_seqs not in self._lines:  # None (no closed form) is cached too
            self._lines[decode_seqs] = self._decode_form(decode_seqs)
        return self._lines[decode_seqs]

    def _decode_form(self, d: int) -> DecodeLines | None:
        if self.model.kernels is not None:
            return self._kernel_decode_form(d)
        if self._coef is not None:
            (c0, cd, cc, *_), (m0, md, mc, *_), (o0, od, oc, *_) = self._coef
            # overhead affine in C too: fold its slope into both lines
            return (o0 + od * d, ((c0 + cd * d, cc + oc), (m0 + md * d, mc + oc)))
        probe = 1e6
        at = self.model.iteration(decode_seqs=d, decode_context_tokens=np.array([0.0, probe]))
        rest = at.comm_s + at.overhead_s
        slope = float(rest[1] - rest[0]) / probe
        lines = tuple((float(v[0]), float(v[1] - v[0]) / probe + slope)
                      for v in (at.compute_s, at.memory_s))
        return (float(rest[0]), lines)

    def _kernel_decode_form(self, d: int) -> DecodeLines | None:
        """One exact line for a step built from kernels, or None (step one by one).

        A kernel-built decode step is convex in the context sum C (a sum of per-kernel
        maxima of affine terms, then max(host, device)), so equal slopes at both ends of
        [0, _FAR_CONTEXT] prove it affine over the whole range; otherwise (an eager engine
        crossing from host-bound to device-bound, say) the engine steps one by one."""
        c = np.array([0.0, _SLOPE_STEP, _FAR_CONTEXT - _SLOPE_STEP, _FAR_CONTEXT])
        t = self.model.iteration(decode_seqs=d, decode_context_tokens=c).time_s
        low, high = (float(t[1] - t[0]) / _SLOPE_STEP, float(t[3] - t[2]) / _SLOPE_STEP)
        if abs(high - low) > 1e-6 * max(abs(high), 1e-30):
            return None
        return (0.0, ((float(t[0]), low),))


_SLOPE_STEP = 1e3
_FAR_CONTEXT = 1e9
"""Context sums the affinity check spans: beyond any run the simulator coalesces."""


@dataclass(frozen=True, kw_only=True)
class LinearPiece:
    """One line of a :class:`LinearStepTime`: seconds per unit of each iteration input."""

    const_s: float = 0.0
    per_seq_s: float = 0.0
    """Per decoding sequence."""
    per_context_token_s: float = 0.0
    """Per cached token the decoding sequences read."""
    per_prefill_token_s: float = 0.0
    per_pair_s: float = 0.0
    """Per causal (query, key) attention pair of the prefill."""
    per_prefix_token_s: float = 0.0
    """Per cached token a prefill chunk reads."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value >= 0):
                raise InputError(f"{name}(={value!r}) must be a finite number >= 0")

    def value_s(self, d: float, c: float, p: float, pairs: float, prefix: float) -> float:
        return (self.const_s + self.per_seq_s * d + self.per_context_token_s * c
                + self.per_prefill_token_s * p + self.per_pair_s * pairs
                + self.per_prefix_token_s * prefix)


@dataclass(frozen=True, kw_only=True)
class LinearStepTime:
    """``overhead_s + max over pieces of a linear function of the iteration inputs``."""

    pieces: tuple[LinearPiece, ...]
    overhead_s: float = 0.0
    _lines: dict[int, DecodeLines] = field(default_factory=dict, init=False, repr=False,
                                           compare=False)

    def __post_init__(self) -> None:
        if not self.pieces:
            raise InputError("pieces(=()) must hold at least one LinearPiece")
        if not (math.isfinite(self.overhead_s) and self.overhead_s >= 0):
            raise InputError(f"overhead_s(={self.overhead_s!r}) must be a finite number >= 0")

    def iteration_s(self, decode_seqs: int, context_tokens: float, prefill_tokens: int = 0,
                    prefill_pairs: float = 0.0, prefix_tokens: float = 0.0) -> float:
        return self.overhead_s + max(p.value_s(decode_seqs, context_tokens, prefill_tokens,
                                               prefill_pairs, prefix_tokens)
                                     for p in self.pieces)

    def decode_lines(self, decode_seqs: int) -> DecodeLines | None:
        cached = self._lines.get(decode_seqs)
        if cached is None:
            lines = tuple((p.const_s + p.per_seq_s * decode_seqs, p.per_context_token_s)
                          for p in self.pieces)
            cached = self._lines[decode_seqs] = (self.overhead_s, lines)
        return cached


class CallableStepTime:
    """Any function ``fn(decode_seqs, context_tokens, prefill_tokens, prefill_pairs,
    prefix_tokens) -> seconds``; the engine cannot coalesce it (one event per iteration)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[int, float, int, float, float], float]) -> None:
        self.fn = fn

    def iteration_s(self, decode_seqs: int, context_tokens: float, prefill_tokens: int = 0,
                    prefill_pairs: float = 0.0, prefix_tokens: float = 0.0) -> float:
        return float(self.fn(decode_seqs, context_tokens, prefill_tokens, prefill_pairs,
                             prefix_tokens))

    def decode_lines(self, decode_seqs: int) -> DecodeLines | None:
        return None


# --------------------------------------------------------------------------- construction


def roofline_step_time(*, workload: str | Workload | rl.TransformerShape,
                       accelerator: str | Accelerator | rl.Device, precision: str = "bf16",
                       tp: int = 1, pp: int = 1,
                       compute_efficiency: float | None = None,
                       memory_efficiency: float | None = None,
                       overhead_s: float | None = None) -> LlmStepTime:
    """The default step time of an LLM replica.

    The step built from kernels (:mod:`mlfleet.infra.accel.step`, CUDA-graph engine) with
    the accelerator's kernel model: the active calibration under ``--calibration``, else
    the sourced defaults where the catalog has kernel data. Giving any of the legacy
    constants, or an accelerator without kernel data (or a bare Device), selects the legacy
    roofline, with the module's assumed constants for those not given.
    """
    legacy_given = any(v is not None for v in (compute_efficiency, memory_efficiency, overhead_s))
    kernels = None if legacy_given else serving_kernels(accelerator, precision)
    if kernels is not None:
        return LlmStepTime(llm_step_model(workload=workload, accelerator=accelerator,
                                          precision=precision, tp=tp, pp=pp, kernels=kernels))
    return LlmStepTime(llm_step_model(
        workload=workload, accelerator=accelerator, precision=precision, tp=tp, pp=pp,
        compute_efficiency=(DEFAULT_COMPUTE_EFFICIENCY if compute_efficiency is None
                            else compute_efficiency),
        memory_efficiency=(DEFAULT_MEMORY_EFFICIENCY if memory_efficiency is None
                           else memory_efficiency),
        overhead_s=DEFAULT_OVERHEAD_S if overhead_s is None else overhead_s))


def fit_linear_step_time(*, measured_s: npt.ArrayLike, decode_seqs: npt.ArrayLike = 0,
                         context_tokens: npt.ArrayLike = 0, prefill_tokens: npt.ArrayLike = 0,
                         prefill_pairs: npt.ArrayLike = 0) -> LinearStepTime:
    """One-piece :class:`LinearStepTime` fitted to measured iteration times.

    Non-negative least squares on the relative error (each coefficient >= 0) of
    ``overhead + per_seq·d + per_context·C + per_prefill·P + per_pair·pairs``; for a
    real server whose step times are measured rather than modelled. Raises InputError
    for fewer than two measurements or mismatched lengths.
    """
    from scipy.optimize import nnls  # here, not at import: scipy.optimize costs ~0.3 s

    m = np.asarray(measured_s, dtype=np.float64).ravel()
    if m.size < 2 or not np.all(np.isfinite(m) & (m > 0)):
        raise InputError(f"measured_s needs >= 2 finite times > 0, got {m.size} values")
    cols = [np.broadcast_to(np.asarray(v, dtype=np.float64).ravel(), m.shape)
            if np.size(v) in (1, m.size) else None
            for v in (decode_seqs, context_tokens, prefill_tokens, prefill_pairs)]
    if any(c is None for c in cols):
        raise InputError(f"every input needs 1 or {m.size} values (one per measurement)")
    design = np.column_stack([np.ones_like(m), *[c for c in cols if c is not None]])
    coef, _ = nnls(design / m[:, None], np.ones_like(m))
    return LinearStepTime(overhead_s=float(coef[0]), pieces=(LinearPiece(
        per_seq_s=float(coef[1]), per_context_token_s=float(coef[2]),
        per_prefill_token_s=float(coef[3]), per_pair_s=float(coef[4])),))


# --------------------------------------------------------------------------- non-LLM


@dataclass(frozen=True, kw_only=True)
class BatchServiceTime:
    """Time of a batch of B non-LLM requests: ``overhead_s + max_p(const_s + per_item_s·B)``."""

    pieces: tuple[tuple[float, float], ...]
    """``(const_s, per_item_s)`` per line (e.g. weights read once; FLOP per item)."""
    overhead_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.pieces:
            raise InputError("pieces(=()) must hold at least one (const_s, per_item_s) line")
        for value in (self.overhead_s, *(v for piece in self.pieces for v in piece)):
            if not (math.isfinite(value) and value >= 0):
                raise InputError(f"service-time coefficient (={value!r}) must be finite, >= 0")
        if self(1) <= 0:
            raise InputError("a batch of one must take > 0 s; give an overhead or a line")

    def __call__(self, batch: int) -> float:
        """Seconds to serve a batch of ``batch`` requests."""
        return self.overhead_s + max(c + per * batch for c, per in self.pieces)

    @classmethod
    def constant(cls, seconds: float) -> BatchServiceTime:
        """Every batch takes ``seconds`` regardless of size."""
        return cls(pieces=((0.0, 0.0),), overhead_s=seconds)

    @classmethod
    def from_roofline(cls, *, workload: str | Workload, accelerator: str | Accelerator,
                      precision: str = "bf16", items_per_request: int = 1,
                      compute_efficiency: float = DEFAULT_COMPUTE_EFFICIENCY,
                      memory_efficiency: float = DEFAULT_MEMORY_EFFICIENCY,
                      overhead_s: float = DEFAULT_OVERHEAD_S) -> BatchServiceTime:
        """Roofline of a forward pass over the batch's items on one accelerator.

        Compute: ``fwd_flop`` per item. Memory: a dense model reads its weights once
        per batch; a sparse one (active < total parameters: MoE, embedding tables)
        reads its active parameters per item.
        """
        w = Workload.from_name(workload) if isinstance(workload, str) else workload
        device = rl.Device.from_accelerator(accelerator, precision)
        peak = device.peak_flops_per_s * compute_efficiency
        bw = device.mem_bw_bytes_per_s * memory_efficiency
        compute = (0.0, w.fwd_flop * items_per_request / peak)
        per_param = device.bytes_per_element / bw
        memory = (w.params * per_param, 0.0)
        if w.active_params < w.params:
            memory = (0.0, w.active_params * items_per_request * per_param)
            if w.family == "recsys" and w.embedding_bytes:
                # Dense layers are read once per batch; only the embedding rows an item
                # touches are per item (the catalog's tables are fp32: 4 bytes per value).
                dense = max(0.0, w.params - w.embedding_bytes / 4.0)
                rows = max(0.0, w.active_params - dense)
                memory = (dense * per_param, rows * items_per_request * per_param)
        return cls(pieces=(compute, memory), overhead_s=overhead_s)


def request_service_s(step: StepTime, prompt_tokens: int, output_tokens: int) -> tuple[float,
                                                                                        float]:
    """(time to first token, total) of one LLM request served alone (batch of one)."""
    ttft = step.iteration_s(0, 0.0, prompt_tokens, prompt_tokens * (prompt_tokens + 1) / 2)
    steps = output_tokens - 1
    if steps <= 0:
        return ttft, ttft
    return ttft, ttft + plan_run(step, 1, float(prompt_tokens), steps)[1]
