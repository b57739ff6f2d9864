"""LLM serving step time on a replica of tp × pp GPUs: prefill, decode and mixed iterations.

Per GPU and per pipeline stage a step is a roofline (:func:`mlfleet.infra.roofline.step_time`):

    flop  = [2·N_act·T + 4·L·(H·Q)·A] / (tp·pp)
    bytes = N·b_w / (tp·pp) + kv_gpu·K

with T new tokens (prompt tokens plus one per decoding sequence), A attended pairs
(the cached context of each decoding sequence; s(s+1)/2 for a fresh prompt of s
tokens) and K KV-cache tokens read or written (context + 1 per decoding sequence, s
per prompt). For tp = pp = 1 these are exactly :func:`~mlfleet.infra.roofline.llm_decode`
and :func:`~mlfleet.infra.roofline.llm_prefill` (Pope et al. 2022, "Efficiently Scaling
Transformer Inference"): decode reads every weight each step, so at small batch it is
memory-bound and its time hardly depends on the batch. KV bytes per token per GPU are
``2·(L/pp)·⌈n_kv/tp⌉·Q·b_kv``: KV heads are split over the TP ranks and replicated
when tp > n_kv, as vLLM does.

Tensor parallelism (Megatron-LM, Shoeybi et al. 2019, §3): attention and MLP are each a
column-parallel then a row-parallel GEMM, and each row-parallel output needs one
AllReduce of the T·d_model activations: two AllReduces per layer, on the critical path
(a decode step has no compute to hide them behind). Their time is the faster of ring
and recursive doubling (:mod:`mlfleet.comm.cost.allreduce`) on the scale-up link.

Pipeline parallelism (GPipe, Huang et al. 2019): ⌈L/pp⌉ layers per stage; a step's
batch is split into m micro-batches that flow through the pp stages:

    time = (m + pp - 1)·t_stage(T/m) + (pp - 1)·t_p2p(T/m) + overhead_s
    bubble fraction = (pp - 1) / (m + pp - 1)

where t_stage = max(compute, memory) + TP AllReduces of one micro-batch on one stage.
Every micro-batch re-reads its stage's weights, so micro-batching a memory-bound decode
step lengthens it.

Two ways to time a stage:

* **From kernels** (the default for a catalog accelerator with kernel data): every kernel
  the step launches, timed by the accelerator's kernel model and issued by an engine
  (CUDA graph, eager, framework), step = max(host, device) + sync
  (:mod:`mlfleet.serving.models.kernel_step`, :mod:`mlfleet.infra.accel.step`). Embeddings
  are gathers and the LM head runs on one row per sequence.
* **Legacy** (kept for exact references and the CPU calibration): the roofline above with
  efficiencies, a fixed per-step ``overhead_s`` (launches, scheduler) and ``overhead_per_seq_s``
  per decoding sequence (sampling); neither overlaps. :func:`calibrate_step` fits them to
  measured step times. Giving any of these constants selects it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet import catalog
from mlfleet.catalog.types import Accelerator, Interconnect, Workload
from mlfleet.checks import (
    FloatArray,
    fraction_array,
    non_negative_array,
    one_of,
    positive_array,
    whole_array,
)
from mlfleet.comm.cost.allreduce import recursive_doubling_allreduce_time, ring_allreduce_time
from mlfleet.errors import ServingInputError
from mlfleet.infra import roofline as rl
from mlfleet.infra.accel.compiled_step import CompiledStep, compile_step
from mlfleet.infra.accel.types import ENGINE_MODES, KernelModel
from mlfleet.serving.models.kernel_step import NCCL_BASE_LATENCY_S, KernelStage, kernel_iteration
from mlfleet.serving.models.step_fit import StepCalibration as StepCalibration
from mlfleet.serving.models.step_fit import fit_overheads as fit_overheads
from mlfleet.serving.models.step_terms import StepTime as StepTime

ACTIVATION_BYTES: dict[str, float] = {
    "fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 2.0, "int8": 2.0,
}
"""Bytes of one activation element on the wire at each weight precision: fp8/int8
serving (TensorRT-LLM, vLLM) keeps activations and their AllReduce in 16 bits."""

_AR_PROBE_BYTES = 1e6


@dataclass(frozen=True, kw_only=True)
class LlmStepModel:
    """An LLM replica: one model sharded over ``tp`` × ``pp`` GPUs of one kind.

    Build it with :func:`llm_step_model` from catalog names. The simulator calls
    :meth:`iteration_time_s` (plain floats, microseconds per call); sweeps call
    :meth:`decode`, :meth:`prefill` or :meth:`iteration` with arrays.
    """

    shape: rl.TransformerShape
    device: rl.Device
    """Peak FLOP/s at the serving precision and HBM bandwidth of one GPU."""
    tp: int = 1
    pp: int = 1
    kv_bytes_per_element: float = 2.0
    act_bytes_per_element: float = 2.0
    tp_alpha_s: float = 0.0
    """Per-message latency of the TP link (scale-up fabric)."""
    tp_bw_bytes_per_s: float = math.inf
    """Per-direction bandwidth of the TP link."""
    pp_alpha_s: float = 0.0
    """Latency of one stage-to-stage send."""
    pp_bw_bytes_per_s: float = math.inf
    compute_efficiency: float = 1.0
    """Fraction of peak FLOP/s reached (1 = the pure roofline)."""
    memory_efficiency: float = 1.0
    """Fraction of peak HBM bandwidth reached."""
    overhead_s: float = 0.0
    """Fixed per-step overhead (never overlapped)."""
    overhead_per_seq_s: float = 0.0
    """Overhead per decoding sequence of a step (sampling, logits processing, scheduler
    bookkeeping): the batch-dependent part of the software cost."""
    allreduce_launch_s: float = 0.0
    """Fixed cost of launching one TP AllReduce, on top of the link's α (NCCL's base
    latency is 6.6-6.8 µs for its LL protocol: NCCL src/graph/tuning.cc, baseLat)."""
    kernels: KernelModel | None = None
    """The kernel model the step is built from (:mod:`~.kernel_step`); None: the legacy
    roofline with the efficiencies and overheads above as constants."""
    engine: str = "graph"
    """How the kernel path issues kernels: one of :data:`ENGINE_MODES`."""
    name: str = "llm"

    def __post_init__(self) -> None:
        whole_array("tp", self.tp, error=ServingInputError)
        whole_array("pp", self.pp, error=ServingInputError)
        if self.shape.n_heads % self.tp:
            allowed = [d for d in range(1, self.shape.n_heads + 1) if self.shape.n_heads % d == 0]
            raise ServingInputError(f"tp(={self.tp}) must divide the {self.shape.n_heads} "
                                    f"attention heads; allowed: {', '.join(map(str, allowed))}")
        if self.pp > self.shape.n_layers:
            raise ServingInputError(f"pp(={self.pp}) must be <= the {self.shape.n_layers} layers")
        for field in ("kv_bytes_per_element", "act_bytes_per_element"):
            positive_array(field, getattr(self, field), error=ServingInputError)
        for field in ("tp_bw_bytes_per_s", "pp_bw_bytes_per_s"):  # inf: a free link
            positive_array(field, getattr(self, field), allow_inf=True, error=ServingInputError)
        for field in ("tp_alpha_s", "pp_alpha_s", "overhead_s", "overhead_per_seq_s",
                      "allreduce_launch_s"):
            non_negative_array(field, getattr(self, field), error=ServingInputError)
        for field in ("compute_efficiency", "memory_efficiency"):
            fraction_array(field, getattr(self, field), open_low=True, error=ServingInputError)
        one_of("engine", self.engine, ENGINE_MODES, error=ServingInputError)
        legacy = {"compute_efficiency": 1.0, "memory_efficiency": 1.0, "overhead_s": 0.0,
                  "overhead_per_seq_s": 0.0}
        mixed = [f for f, v in legacy.items() if getattr(self, f) != v]
        if self.kernels is not None and mixed:
            raise ServingInputError(f"{mixed[0]}(={getattr(self, mixed[0]):g}) belongs to the "
                                    "legacy step model; the kernel path takes none "
                                    "(give kernels=None to use it)")

    # ---------------------------------------------------------------- per-GPU constants

    @cached_property
    def layers_per_stage(self) -> int:
        """Layers on the busiest pipeline stage: ⌈L / pp⌉."""
        return -(-self.shape.n_layers // self.pp)

    @cached_property
    def _layer_share(self) -> float:
        return self.layers_per_stage / self.shape.n_layers / self.tp

    @cached_property
    def weight_bytes_per_gpu(self) -> float:
        """Weight bytes one GPU holds and reads per micro-batch pass."""
        return self.shape.params * self.device.bytes_per_element * self._layer_share

    @cached_property
    def kv_heads_per_gpu(self) -> int:
        """⌈n_kv / tp⌉: KV heads are replicated when tp exceeds their number."""
        return -(-(self.shape.n_kv_heads or self.shape.n_heads) // self.tp)

    @cached_property
    def kv_bytes_per_token_per_gpu(self) -> float:
        """K and V of one token on one GPU: 2·⌈L/pp⌉·⌈n_kv/tp⌉·Q·b_kv."""
        head_dim = self.shape.head_dim or self.shape.d_model // self.shape.n_heads
        return 2.0 * self.layers_per_stage * self.kv_heads_per_gpu * head_dim \
            * self.kv_bytes_per_element

    @cached_property
    def _flop_per_token(self) -> float:
        return 2.0 * self.shape.active * self._layer_share

    @cached_property
    def _flop_per_pair(self) -> float:
        return 4.0 * self.shape.n_layers * self.shape.attn_width * self._layer_share

    @cached_property
    def _allreduce_coeffs(self) -> tuple[tuple[float, float], ...]:
        """(α-term, per-byte term) of ring and recursive doubling on ``tp`` ranks.

        Both are affine in the message size, so two evaluations of the comm models give
        them exactly; the step then costs min over algorithms of a + b·S.
        """
        if self.tp == 1:
            return ((0.0, 0.0),)
        out = []
        launch = self.allreduce_launch_s
        for fn in (ring_allreduce_time, recursive_doubling_allreduce_time):
            kw = {"alpha_s": self.tp_alpha_s, "bw_bytes_per_s": self.tp_bw_bytes_per_s}
            a = float(fn(self.tp, 0.0, **kw)) + launch
            slope = (float(fn(self.tp, _AR_PROBE_BYTES, **kw)) + launch - a) / _AR_PROBE_BYTES
            out.append((a, slope))
        return tuple(out)

    def allreduce_s(self, size_bytes: npt.ArrayLike) -> FloatArray:
        """Time of one TP AllReduce of ``size_bytes`` (0 when tp = 1)."""
        s = np.asarray(size_bytes, dtype=np.float64)
        return np.asarray(np.minimum.reduce([a + b * s for a, b in self._allreduce_coeffs]))

    @cached_property
    def _compiled(self) -> CompiledStep | None:
        """The kernel path compiled for :meth:`iteration_time_s`; None on the legacy path."""
        if self.kernels is None:
            return None
        return compile_step(self.kernels, self.shape, engine=self.engine, tp=self.tp,
                            layers=self.layers_per_stage,
                            kv_bytes_per_element=self.kv_bytes_per_element,
                            act_bytes_per_element=self.act_bytes_per_element)

    # ---------------------------------------------------------------- the step

    def _stage(self, t: Any, a: Any, k: Any, m: Any) -> tuple[Any, Any, Any, Any]:
        """Per micro-batch on the busiest stage: (flop, HBM bytes, AllReduce s, p2p s).

        Plain arithmetic, so it runs on floats (the fast path) and on arrays alike.
        """
        flop = (self._flop_per_token * t + self._flop_per_pair * a) / m
        mem = self.weight_bytes_per_gpu + self.kv_bytes_per_token_per_gpu * k / m
        act_bytes = t / m * self.shape.d_model * self.act_bytes_per_element
        if self.tp == 1:
            allreduce = 0.0 * act_bytes
        elif isinstance(act_bytes, float):  # the simulator's fast path: no numpy
            allreduce = 2.0 * self.layers_per_stage * min(a + b * act_bytes
                                                          for a, b in self._allreduce_coeffs)
        else:
            allreduce = 2.0 * self.layers_per_stage * self.allreduce_s(act_bytes)
        p2p = (self.pp_alpha_s + act_bytes / self.pp_bw_bytes_per_s) if self.pp > 1 \
            else 0.0 * act_bytes
        return flop, mem, allreduce, p2p

    def iteration(self, *, decode_seqs: npt.ArrayLike = 0,
                  decode_context_tokens: npt.ArrayLike = 0, prefill_tokens: npt.ArrayLike = 0,
                  prefill_pairs: npt.ArrayLike | None = None,
                  prefill_prefix_tokens: npt.ArrayLike = 0,
                  microbatches: npt.ArrayLike = 1) -> StepTime:
        """One continuous-batching iteration: ``decode_seqs`` sequences each generate one
        token with ``decode_context_tokens`` cached tokens between them, while
        ``prefill_tokens`` prompt tokens are processed (whole prompts or chunks).

        ``prefill_pairs`` is Σ over prompt tokens of the tokens each attends to; left
        out it is T(T+1)/2, one fresh prompt of T tokens (use :func:`prefill_pairs` for
        chunks after a prefix or for several prompts). ``prefill_prefix_tokens`` are
        cached tokens a chunk reads. Raises ServingInputError for negative counts or a
        step without tokens.
        """
        d = non_negative_array("decode_seqs", decode_seqs, error=ServingInputError)
        ctx = non_negative_array("decode_context_tokens", decode_context_tokens, error=ServingInputError)
        tp_ = non_negative_array("prefill_tokens", prefill_tokens, error=ServingInputError)
        prefix = non_negative_array("prefill_prefix_tokens", prefill_prefix_tokens, error=ServingInputError)
        pairs = tp_ * (tp_ + 1.0) / 2.0 if prefill_pairs is None \
            else non_negative_array("prefill_pairs", prefill_pairs, error=ServingInputError)
        m = whole_array("microbatches", microbatches, error=ServingInputError)
        t = tp_ + d
        if np.any(t <= 0):
            raise ServingInputError("an iteration needs at least one token: give decode_seqs "
                                    "or prefill_tokens > 0")
        # a prefill chunk needs logits for its last token: one row per chunk
        return self._predict(t, pairs + ctx, tp_ + prefix + ctx + d, m, d, d + (tp_ > 0))

    def decode(self, *, batch: npt.ArrayLike, context_len: npt.ArrayLike,
               microbatches: npt.ArrayLike = 1) -> StepTime:
        """One decode step: ``batch`` sequences with ``context_len`` cached tokens each."""
        b = positive_array("batch", batch, error=ServingInputError)
        ctx = non_negative_array("context_len", context_len, error=ServingInputError)
        return self.iteration(decode_seqs=b, decode_context_tokens=b * ctx,
                              microbatches=microbatches)

    def prefill(self, *, batch: npt.ArrayLike, prompt_len: npt.ArrayLike,
                microbatches: npt.ArrayLike = 1) -> StepTime:
        """Prefill of ``batch`` fresh prompts of ``prompt_len`` tokens each."""
        b = positive_array("batch", batch, error=ServingInputError)
        s = positive_array("prompt_len", prompt_len, error=ServingInputError)
        m = whole_array("microbatches", microbatches, error=ServingInputError)
        zero = 0.0 * b * s
        return self._predict(b * s, b * s * (s + 1.0) / 2.0, b * s, m, zero, b + zero)

    def _predict(self, t: FloatArray, a: FloatArray, k: FloatArray, m: FloatArray,
                 d: FloatArray, rows: FloatArray) -> StepTime:
        if self.kernels is not None:
            return self._from_kernels(t, a, k - t, m, rows)
        flop, mem, allreduce, p2p = self._stage(t, a, k, m)
        passes = m + self.pp - 1.0
        result = rl.step_time(
            flop=passes * flop, model_flop=m * flop, mem_bytes=passes * mem,
            peak_flops_per_s=self.device.peak_flops_per_s,
            mem_bw_bytes_per_s=self.device.mem_bw_bytes_per_s,
            comm_s=passes * allreduce + (self.pp - 1.0) * p2p,
            compute_efficiency=self.compute_efficiency,
            memory_efficiency=self.memory_efficiency,
            overhead_s=self.overhead_s + self.overhead_per_seq_s * d, overlap=False, tokens=t)
        shape = result.time_s.shape
        return StepTime(
            time_s=result.time_s, compute_s=result.compute_s, memory_s=result.memory_s,
            comm_s=result.comm_s, overhead_s=result.overhead_s,
            bubble_fraction=np.broadcast_to((self.pp - 1.0) / passes, shape).astype(np.float64),
            bound=result.bound, tokens=result.tokens,
            flop_per_gpu=np.broadcast_to(m * flop, shape).astype(np.float64),
            mem_bytes_per_gpu=np.broadcast_to(m * mem, shape).astype(np.float64),
            mfu=result.mfu)

    def _from_kernels(self, t: FloatArray, a: FloatArray, cached: FloatArray, m: FloatArray,
                      rows: FloatArray) -> StepTime:
        assert self.kernels is not None
        stage = KernelStage(kernels=self.kernels, engine=self.engine, shape=self.shape,
                            tp=self.tp, pp=self.pp, layers=self.layers_per_stage,
                            kv_bytes_per_element=self.kv_bytes_per_element,
                            act_bytes_per_element=self.act_bytes_per_element)
        return kernel_iteration(stage, tokens=t, pairs=a, kv_read_tokens=cached, logit_rows=rows,
                                microbatches=m, allreduce_s=self.allreduce_s,
                                p2p_s=lambda b: np.asarray(self.pp_alpha_s
                                                           + b / self.pp_bw_bytes_per_s))

    def iteration_time_s(self, decode_seqs: float, decode_context_tokens: float,
                         prefill_tokens: float = 0.0, prefill_pairs: float | None = None,
                         prefill_prefix_tokens: float = 0.0) -> float:
        """Fast scalar :meth:`iteration` (one micro-batch, no input checks): seconds.

        For the discrete-event simulator, which calls it once per iteration (positional
        arguments allowed on this hot path); agrees with ``iteration(...).time_s`` to
        rounding (tested). ``prefill_pairs`` None means one fresh prompt of
        ``prefill_tokens`` tokens.
        """
        t = prefill_tokens + decode_seqs
        pairs = prefill_tokens * (prefill_tokens + 1.0) / 2.0 if prefill_pairs is None \
            else prefill_pairs
        if self._compiled is not None:  # the kernel path, on floats
            act = t * self.shape.d_model * self.act_bytes_per_element
            ar = min(a + b * act for a, b in self._allreduce_coeffs) if self.tp > 1 else 0.0
            stage = self._compiled.time_s(t, decode_seqs + (prefill_tokens > 0),
                                          pairs + decode_context_tokens,
                                          prefill_prefix_tokens + decode_context_tokens, ar)
            p2p = self.pp_alpha_s + act / self.pp_bw_bytes_per_s if self.pp > 1 else 0.0
            return self.pp * stage + (self.pp - 1.0) * p2p
        k = prefill_tokens + prefill_prefix_tokens + decode_context_tokens + decode_seqs
        flop, mem, allreduce, p2p = self._stage(t, pairs + decode_context_tokens, k, 1.0)
        passes = float(self.pp)
        busy = max(flop / (self.device.peak_flops_per_s * self.compute_efficiency),
                   mem / (self.device.mem_bw_bytes_per_s * self.memory_efficiency))
        return float(passes * (busy + allreduce) + (passes - 1.0) * p2p + self.overhead_s
                     + self.overhead_per_seq_s * decode_seqs)

    def decode_time_s(self, batch: float, context_tokens: float) -> float:
        """Fast scalar decode step: ``batch`` sequences holding ``context_tokens`` in total."""
        return self.iteration_time_s(batch, context_tokens)

    def prefill_time_s(self, tokens: float) -> float:
        """Fast scalar prefill of one fresh prompt of ``tokens`` tokens."""
        return self.iteration_time_s(0.0, 0.0, prefill_tokens=tokens)


def prefill_pairs(chunk_tokens: npt.ArrayLike, prefix_tokens: npt.ArrayLike = 0) -> FloatArray:
    """Attended (query, key) pairs of a causal prefill chunk of c tokens after a prefix of P:
    c·P + c(c+1)/2 (sum these over the prompts of one iteration)."""
    c = non_negative_array("chunk_tokens", chunk_tokens, error=ServingInputError)
    p = non_negative_array("prefix_tokens", prefix_tokens, error=ServingInputError)
    return np.asarray(c * p + c * (c + 1.0) / 2.0)


def bubble_fraction(pp: npt.ArrayLike, microbatches: npt.ArrayLike) -> FloatArray:
    """GPipe pipeline bubble: (pp - 1) / (m + pp - 1) of the critical path (Huang et al. 2019)."""
    p = whole_array("pp", pp, error=ServingInputError)
    m = whole_array("microbatches", microbatches, error=ServingInputError)
    return np.asarray((p - 1.0) / (m + p - 1.0))


# --------------------------------------------------------------------------- construction


def _shape(workload: str | Workload | rl.TransformerShape) -> tuple[rl.TransformerShape, str]:
    if isinstance(workload, rl.TransformerShape):
        return workload, "custom"
    w = Workload.from_name(workload) if isinstance(workload, str) else workload
    if w.unit != "token":
        raise ServingInputError(f"workload {w.name!r} is a {w.family} model (unit "
                                f"{w.unit!r}); the LLM step model needs a token workload")
    return rl.TransformerShape.from_workload(w), w.name


def link_params(link: str | Interconnect | None, accelerator: Accelerator | None,
                role: str) -> tuple[float, float]:
    """(α, B) of the link ``role`` uses: given, else the accelerator's scale-up link.

    Raises ServingInputError when neither is known, CatalogError for an unknown name.
    """
    if isinstance(link, Interconnect):
        return link.latency_s, link.bw_bytes_per_s
    if link is None and accelerator is not None:
        name = catalog.get(accelerator.name, kind="accelerator").get("scaleup_link")
        if name is not None:
            ic = Interconnect.from_name(str(name))
            return ic.latency_s, accelerator.scaleup_bw_bytes_per_s or ic.bw_bytes_per_s
    if link is None:
        raise ServingInputError(f"{role} > 1 needs a link: the accelerator has no scale-up "
                                "link in the catalog; name an interconnect")
    ic = Interconnect.from_name(link)
    return ic.latency_s, ic.bw_bytes_per_s


def llm_step_model(*, workload: str | Workload | rl.TransformerShape,
                   accelerator: str | Accelerator | rl.Device, precision: str = "bf16",
                   kv_precision: str | None = None, tp: int = 1, pp: int = 1,
                   tp_link: str | Interconnect | None = None,
                   pp_link: str | Interconnect | None = None,
                   compute_efficiency: float | None = None,
                   memory_efficiency: float | None = None, overhead_s: float | None = None,
                   engine: str | None = None,
                   kernels: KernelModel | None = None) -> LlmStepModel:
    """An :class:`LlmStepModel` from catalog names (or typed objects).

    The step is built from kernels (``engine``, default ``graph``) with the accelerator's
    kernel model (``kernels``, default :func:`mlfleet.infra.accel.defaults.kernel_model`,
    which a ``using_calibration`` block replaces) when the accelerator has kernel data. Giving
    ``compute_efficiency``, ``memory_efficiency`` or ``overhead_s``, or a bare
    :class:`~mlfleet.infra.roofline.Device`, selects the legacy roofline with those constants
    (also the fallback for accelerators or precisions without kernel data).

    ``tp_link`` / ``pp_link`` default to the accelerator's scale-up link (its catalog
    ``scaleup_link`` latency and ``scaleup_bw_bytes_per_s``); ``kv_precision`` defaults
    to ``precision``. Raises CatalogError for unknown names and ServingInputError for a
    non-LLM workload, a tp that does not divide the heads, an unknown engine, an engine
    together with legacy constants, or bad numbers.
    """
    one_of("precision", precision, rl.BYTES_PER_ELEMENT, error=ServingInputError)
    kv = one_of("kv_precision", kv_precision or precision, rl.BYTES_PER_ELEMENT,
                error=ServingInputError)
    shape, wname = _shape(workload)
    acc = None if isinstance(accelerator, rl.Device) else (
        accelerator if isinstance(accelerator, Accelerator) else Accelerator.from_name(accelerator))
    device = accelerator if isinstance(accelerator, rl.Device) \
        else rl.Device.from_accelerator(acc or "", precision)
    tp_alpha, tp_bw = link_params(tp_link, acc, "tp") if tp > 1 else (0.0, math.inf)
    pp_alpha, pp_bw = link_params(pp_link, acc, "pp") if pp > 1 else (0.0, math.inf)
    legacy = {"compute_efficiency": compute_efficiency, "memory_efficiency": memory_efficiency,
              "overhead_s": overhead_s}
    given = [k for k, v in legacy.items() if v is not None]
    if given and (engine is not None or kernels is not None):
        raise ServingInputError(f"{given[0]}(={legacy[given[0]]:g}) selects the legacy step "
                                "model; give it or an engine/kernel model, not both")
    if kernels is None and not given and acc is not None:
        kernels = _default_kernels(acc.name, precision, required=engine is not None)
    c_eff, m_eff = (1.0 if v is None else v for v in (compute_efficiency, memory_efficiency))
    return LlmStepModel(shape=shape, device=device, tp=tp, pp=pp,
                        kv_bytes_per_element=rl.BYTES_PER_ELEMENT[kv],
                        act_bytes_per_element=ACTIVATION_BYTES[precision], tp_alpha_s=tp_alpha,
                        tp_bw_bytes_per_s=tp_bw, pp_alpha_s=pp_alpha, pp_bw_bytes_per_s=pp_bw,
                        compute_efficiency=c_eff, memory_efficiency=m_eff,
                        overhead_s=overhead_s or 0.0,
                        kernels=kernels, engine=engine or "graph",
                        allreduce_launch_s=0.0 if kernels is None else NCCL_BASE_LATENCY_S,
                        name=f"{wname} tp{tp} pp{pp} on {device.name}")


def _default_kernels(accelerator: str, precision: str, *, required: bool) -> KernelModel | None:
    """The accelerator's kernel model; None (legacy) without kernel data unless ``required``."""
    from mlfleet.infra.accel import defaults

    if not required and (accelerator not in defaults.accelerators_with_data()
                         or precision not in defaults.precisions_for(accelerator)):
        return None
    return defaults.kernel_model(accelerator, precision)


# --------------------------------------------------------------------------- calibration


def calibrate_step(model: LlmStepModel, *, measured_s: npt.ArrayLike,
                   decode_seqs: npt.ArrayLike = 0, decode_context_tokens: npt.ArrayLike = 0,
                   prefill_tokens: npt.ArrayLike = 0, prefill_pairs: npt.ArrayLike | None = None,
                   per_seq: bool = True) -> tuple[LlmStepModel, StepCalibration]:
    """Fit the model's efficiency and overheads to measured single-step times
    (:func:`fit_overheads`); returns the calibrated model and the fit."""
    ideal = dataclasses.replace(model, compute_efficiency=1.0, memory_efficiency=1.0,
                                overhead_s=0.0, overhead_per_seq_s=0.0, kernels=None)
    pred = ideal.iteration(decode_seqs=decode_seqs, decode_context_tokens=decode_context_tokens,
                           prefill_tokens=prefill_tokens, prefill_pairs=prefill_pairs)
    seqs = non_negative_array("decode_seqs", decode_seqs, error=ServingInputError)
    fit = fit_overheads(measured_s=measured_s, busy_s=np.maximum(pred.compute_s, pred.memory_s),
                        comm_s=pred.comm_s,
                        seqs=np.broadcast_to(seqs, pred.time_s.shape), per_seq=per_seq)
    calibrated = dataclasses.replace(ideal, compute_efficiency=fit.efficiency,
                                     memory_efficiency=fit.efficiency, overhead_s=fit.overhead_s,
                                     overhead_per_seq_s=fit.overhead_per_seq_s)
    return calibrated, fit
