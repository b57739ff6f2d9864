"""Roofline model: how long one step of work takes on one accelerator, and what binds it.

A step (a GEMM, an elementwise op, an LLM training step, a prefill, one decode
step) costs ``flop`` floating-point operations and moves ``mem_bytes`` between the
chip and its memory. On a device with peak ``P`` FLOP/s and memory bandwidth ``B``
bytes/s the roofline (Williams, Waterman & Patterson, "Roofline: an insightful
visual performance model for multicore architectures", CACM 52(4), 2009) says

    compute_s = flop / (P * compute_efficiency)
    memory_s  = mem_bytes / (B * memory_efficiency)
    comm_s    = comm_s_given + comm_bytes / comm_bw
    time_s    = max(compute_s, memory_s, comm_s) + overhead_s      (overlap=True)
    time_s    = max(compute_s, memory_s) + comm_s + overhead_s     (overlap=False)

Compute and memory always overlap (the roofline's premise); ``overlap`` says
whether communication hides under them. ``overhead_s`` is a fixed per-step cost
that never overlaps (kernel launches, Python, the framework's scheduler): real
frameworks at small batch are overhead-bound, and :func:`calibrate` fits it.
The *binding resource* ``bound`` is the largest of the four terms (ties go to
the first of :data:`BOUNDS`).

MFU (model FLOP utilisation, PaLM appendix B, Chowdhery et al. 2022) is the
useful ("model") FLOP divided by ``time_s * P``; HFU counts executed FLOP,
which exceeds model FLOP when activations are recomputed. ``MFU <= HFU <=
compute_efficiency`` always holds.

Every function broadcasts over numpy arrays: a sweep over batch sizes or GPU
counts is one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.errors import CatalogError, InputError

FloatArray = npt.NDArray[np.float64]

BOUNDS = ("compute", "memory", "communication", "overhead")
"""Names of the binding resource, in tie-break order."""

BYTES_PER_ELEMENT: Mapping[str, float] = {
    "fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0,
}
"""Storage bytes of one element at each catalog precision (tf32 is stored as fp32)."""

PHASES = ("train", "prefill", "decode")
"""LLM step kinds :func:`llm_cost` understands."""


# --------------------------------------------------------------------------- inputs


def _checked(name: str, value: npt.ArrayLike, *, positive: bool = False,
             at_most_one: bool = False, allow_inf: bool = False) -> FloatArray:
    """``value`` as a float array; InputError quoting the first bad element."""
    arr = np.asarray(value, dtype=np.float64)
    bad = np.isnan(arr) | (arr <= 0 if positive else arr < 0)
    if not allow_inf:
        bad |= np.isinf(arr)
    if at_most_one:
        bad |= arr > 1
    if np.any(bad):
        first = arr[bad].flat[0]
        rule = "in (0, 1]" if at_most_one else ("> 0" if positive else ">= 0")
        raise InputError(f"{name}(={first:g}) must be a finite number {rule}")
    return arr


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, kw_only=True)
class RooflineResult:
    """Roofline prediction for one step; every field is broadcast to the sweep's shape."""

    time_s: FloatArray
    """Predicted wall time of the step."""
    compute_s: FloatArray
    """FLOP / (peak * compute_efficiency)."""
    memory_s: FloatArray
    """Memory bytes / (bandwidth * memory_efficiency)."""
    comm_s: FloatArray
    """Communication time (given time plus bytes / communication bandwidth)."""
    overhead_s: FloatArray
    """Fixed per-step overhead (never overlapped)."""
    bound: npt.NDArray[np.str_]
    """Binding resource: one of :data:`BOUNDS` (the largest term)."""
    flop: FloatArray
    """Executed FLOP (including recomputation)."""
    model_flop: FloatArray
    """Useful FLOP of the step (the MFU numerator)."""
    mem_bytes: FloatArray
    """Bytes moved to/from device memory."""
    arithmetic_intensity: FloatArray
    """Executed FLOP per memory byte (inf when no bytes move)."""
    mfu: FloatArray
    """Model FLOP utilisation: model_flop / (time_s * peak)."""
    hfu: FloatArray
    """Hardware FLOP utilisation: flop / (time_s * peak)."""
    achieved_flops_per_s: FloatArray
    """model_flop / time_s."""
    peak_flops_per_s: FloatArray
    """The device peak the MFU is relative to."""
    tokens: FloatArray = field(default_factory=lambda: np.asarray(np.nan))
    """Tokens processed by the step (LLM steps), else NaN."""

    @property
    def tokens_per_s(self) -> FloatArray:
        """Token throughput of the step (NaN when the step has no tokens)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(self.tokens / self.time_s, dtype=np.float64)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per sweep point (flattened in C order), for tables and JSON."""
        columns = {name: np.ravel(np.broadcast_to(getattr(self, name), self.time_s.shape))
                   for name in _ROW_FIELDS}
        columns["tokens_per_s"] = np.ravel(np.broadcast_to(self.tokens_per_s, self.time_s.shape))
        return [{k: _plain(v[i]) for k, v in columns.items()} for i in range(self.time_s.size)]


_ROW_FIELDS = ("time_s", "bound", "arithmetic_intensity", "mfu", "hfu", "compute_s", "memory_s",
               "comm_s", "overhead_s", "flop", "model_flop", "mem_bytes", "achieved_flops_per_s",
               "tokens")


def _plain(value: Any) -> Any:
    item = value.item() if hasattr(value, "item") else value
    return None if isinstance(item, float) and np.isnan(item) else item


# --------------------------------------------------------------------------- the model


def step_time(*, flop: npt.ArrayLike, mem_bytes: npt.ArrayLike, peak_flops_per_s: npt.ArrayLike,
              mem_bw_bytes_per_s: npt.ArrayLike, comm_bytes: npt.ArrayLike = 0.0,
              comm_bw_bytes_per_s: npt.ArrayLike = np.inf, comm_s: npt.ArrayLike = 0.0,
              model_flop: npt.ArrayLike | None = None, compute_efficiency: npt.ArrayLike = 1.0,
              memory_efficiency: npt.ArrayLike = 1.0, overhead_s: npt.ArrayLike = 0.0,
              overlap: bool = True, tokens: npt.ArrayLike = np.nan) -> RooflineResult:
    """Roofline time of a step (see the module docstring for the formula).

    All array arguments broadcast together. ``model_flop`` defaults to ``flop``.
    Raises :class:`~mlfleet.errors.InputError` quoting the value when a count or
    time is negative, a peak or bandwidth is not positive, or an efficiency is
    outside (0, 1].
    """
    f = _checked("flop", flop)
    mf = f if model_flop is None else _checked("model_flop", model_flop)
    peak = _checked("peak_flops_per_s", peak_flops_per_s, positive=True)
    compute = f / (peak * _checked("compute_efficiency", compute_efficiency, positive=True,
                                   at_most_one=True))
    memory = _checked("mem_bytes", mem_bytes) / (
        _checked("mem_bw_bytes_per_s", mem_bw_bytes_per_s, positive=True)
        * _checked("memory_efficiency", memory_efficiency, positive=True, at_most_one=True))
    comm = _checked("comm_s", comm_s) + _checked("comm_bytes", comm_bytes) / _checked(
        "comm_bw_bytes_per_s", comm_bw_bytes_per_s, positive=True, allow_inf=True)
    overhead = _checked("overhead_s", overhead_s)
    busy = np.maximum(np.maximum(compute, memory), comm) if overlap \
        else np.maximum(compute, memory) + comm
    time = busy + overhead
    terms = np.stack(np.broadcast_arrays(compute, memory, comm, overhead))
    shape = terms.shape[1:]
    return _result(terms, time, peak, f, mf, np.asarray(mem_bytes, dtype=np.float64),
                   np.asarray(tokens, dtype=np.float64), shape)


def _result(terms: FloatArray, time: FloatArray, peak: FloatArray, flop: FloatArray,
            model_flop: FloatArray, mem_bytes: FloatArray, tokens: FloatArray,
            shape: tuple[int, ...]) -> RooflineResult:
    def full(a: FloatArray) -> FloatArray:
        return np.array(np.broadcast_to(a, shape), dtype=np.float64)
    time, peak, flop, model_flop, mem_bytes = (full(a) for a in (time, peak, flop, model_flop,
                                                                  mem_bytes))
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(mem_bytes > 0, flop / mem_bytes, np.inf)
        mfu = np.where(time > 0, model_flop / (time * peak), 0.0)
        hfu = np.where(time > 0, flop / (time * peak), 0.0)
        achieved = np.where(time > 0, model_flop / time, 0.0)
    result = RooflineResult(
        time_s=time, compute_s=terms[0], memory_s=terms[1], comm_s=terms[2], overhead_s=terms[3],
        bound=np.asarray(BOUNDS)[np.argmax(terms, axis=0)], flop=flop, model_flop=model_flop,
        mem_bytes=mem_bytes, arithmetic_intensity=intensity, mfu=mfu, hfu=hfu,
        achieved_flops_per_s=achieved, peak_flops_per_s=peak, tokens=full(tokens))
    assert np.all(result.time_s >= terms.max(axis=0) * (1 - 1e-12))
    return result


# --------------------------------------------------------------------------- devices and costs


@dataclass(frozen=True, kw_only=True)
class Device:
    """The two ceilings of a roofline: peak FLOP/s at one precision and memory bandwidth."""

    name: str
    peak_flops_per_s: float
    """Dense peak at the precision the step runs in."""
    mem_bw_bytes_per_s: float
    """Peak memory (HBM/DRAM) bandwidth."""
    bytes_per_element: float = 2.0
    """Bytes of one element at that precision (weights, GEMM operands)."""
    hbm_bytes: float | None = None
    """Device memory, for the fit check (:mod:`mlfleet.infra.memory_fit`); None: unknown."""

    def __post_init__(self) -> None:
        _checked(f"{self.name} peak_flops_per_s", self.peak_flops_per_s, positive=True)
        _checked(f"{self.name} mem_bw_bytes_per_s", self.mem_bw_bytes_per_s, positive=True)
        _checked(f"{self.name} bytes_per_element", self.bytes_per_element, positive=True)

    @property
    def ridge_point_flop_per_byte(self) -> float:
        """Arithmetic intensity above which a step is compute-bound (peak / bandwidth)."""
        return self.peak_flops_per_s / self.mem_bw_bytes_per_s

    @classmethod
    def from_accelerator(cls, accelerator: str | Accelerator, precision: str) -> Device:
        """Ceilings of a catalog accelerator at ``precision`` (CatalogError if undefined)."""
        acc = Accelerator.from_name(accelerator) if isinstance(accelerator, str) else accelerator
        if precision not in BYTES_PER_ELEMENT:
            raise CatalogError(f"precision {precision!r} is unknown; "
                               f"known: {', '.join(BYTES_PER_ELEMENT)}")
        return cls(name=f"{acc.name}/{precision}", peak_flops_per_s=acc.flops_per_s(precision),
                   mem_bw_bytes_per_s=acc.hbm_bw_bytes_per_s,
                   bytes_per_element=BYTES_PER_ELEMENT[precision], hbm_bytes=acc.hbm_bytes)


@dataclass(frozen=True, kw_only=True)
class OpCost:
    """What one step costs, per device: FLOP, memory bytes, and tokens (LLM steps)."""

    flop: FloatArray
    """Executed FLOP (with recomputation)."""
    mem_bytes: FloatArray
    """Bytes read from plus written to device memory."""
    model_flop: FloatArray
    """Useful FLOP (without recomputation): the MFU numerator."""
    tokens: FloatArray = field(default_factory=lambda: np.asarray(np.nan))
    """Tokens the step processes (NaN for non-LLM ops)."""


def predict(cost: OpCost, device: Device, *, compute_efficiency: npt.ArrayLike = 1.0,
            memory_efficiency: npt.ArrayLike = 1.0, overhead_s: npt.ArrayLike = 0.0,
            comm_s: npt.ArrayLike = 0.0, overlap: bool = True) -> RooflineResult:
    """:func:`step_time` of ``cost`` on ``device``."""
    return step_time(flop=cost.flop, mem_bytes=cost.mem_bytes, model_flop=cost.model_flop,
                     peak_flops_per_s=device.peak_flops_per_s,
                     mem_bw_bytes_per_s=device.mem_bw_bytes_per_s, comm_s=comm_s,
                     compute_efficiency=compute_efficiency, memory_efficiency=memory_efficiency,
                     overhead_s=overhead_s, overlap=overlap, tokens=cost.tokens)


def gemm(m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike, *,
         bytes_per_element: float) -> OpCost:
    """C(m,n) = A(m,k) @ B(k,n): 2mnk FLOP; each operand read once, C written once.

    The byte count is the compulsory traffic (perfect on-chip reuse), so the
    roofline time is a lower bound; small and skinny GEMMs fall short of it.
    """
    m_, n_, k_ = (_checked(name, v, positive=True) for name, v in (("m", m), ("n", n), ("k", k)))
    flop = 2.0 * m_ * n_ * k_
    mem = (m_ * k_ + k_ * n_ + m_ * n_) * bytes_per_element
    return OpCost(flop=flop, mem_bytes=mem, model_flop=flop)


def elementwise(n_elements: npt.ArrayLike, *, bytes_per_element: float, reads: int = 1,
                writes: int = 1, flop_per_element: float = 0.0) -> OpCost:
    """A streaming op over ``n_elements``: ``reads`` input and ``writes`` output arrays.

    Bytes are counted as STREAM does (McCalpin 1995): each array element read or
    written once, no write-allocate traffic.
    """
    n = _checked("n_elements", n_elements)
    flop = n * flop_per_element
    return OpCost(flop=flop, mem_bytes=n * (reads + writes) * bytes_per_element, model_flop=flop)


# --------------------------------------------------------------------------- transformers


_SHAPE_KEYS: Mapping[str, tuple[str, ...]] = {
    "n_layers": ("n_layers", "layers", "num_layers"),
    "d_model": ("d_model", "hidden", "hidden_size"),
    "n_heads": ("n_heads", "heads", "num_heads", "attention_heads"),
    "n_kv_heads": ("n_kv_heads", "kv_heads", "num_kv_heads"),
    "head_dim": ("head_dim", "d_head"),
    "seq_len": ("seq_len", "context", "context_len", "max_seq_len"),
    "vocab": ("vocab", "vocab_size"),
    "d_ff": ("d_ff", "ffn_dim", "intermediate_size"),
}


@dataclass(frozen=True, kw_only=True)
class TransformerShape:
    """The shape of a decoder-only transformer that its FLOP and byte counts need."""

    params: float
    """Total parameters (embeddings included, as PaLM and MosaicML count them)."""
    n_layers: int
    d_model: int
    n_heads: int
    active_params: float | None = None
    """Parameters touched per token (MoE); defaults to ``params``."""
    n_kv_heads: int | None = None
    """Key/value heads (GQA/MQA); defaults to ``n_heads``."""
    head_dim: int | None = None
    """Defaults to d_model / n_heads."""
    seq_len: int | None = None
    """Default training sequence / context length."""
    vocab: int | None = None
    """Vocabulary size; None folds the embeddings into the layers (the legacy count, see
    :mod:`mlfleet.infra.accel.flops`)."""
    d_ff: int | None = None
    """MLP hidden width (per expert); None: SwiGLU with 3·d·d_ff = the layer's MLP params."""
    tied_embeddings: bool = False
    """Whether the LM head reuses the input embedding table (GPT-3) or has its own (Llama 3)."""

    def __post_init__(self) -> None:
        for name in ("params", "n_layers", "d_model", "n_heads"):
            _checked(name, getattr(self, name), positive=True)

    @property
    def active(self) -> float:
        return float(self.params if self.active_params is None else self.active_params)

    @property
    def attn_width(self) -> int:
        """n_heads * head_dim (= d_model unless heads are resized, as in PaLM)."""
        return self.n_heads * (self.head_dim or self.d_model // self.n_heads)

    @property
    def kv_width(self) -> int:
        return (self.n_kv_heads or self.n_heads) * (self.head_dim or self.d_model // self.n_heads)

    def kv_bytes_per_token(self, bytes_per_element: float) -> float:
        """K and V for one token across all layers (Pope et al. 2022, section 2)."""
        return 2.0 * self.n_layers * self.kv_width * bytes_per_element

    @classmethod
    def from_workload(cls, workload: str | Workload) -> TransformerShape:
        """Shape of a catalog LLM/MoE workload; CatalogError naming missing shape keys."""
        w = Workload.from_name(workload) if isinstance(workload, str) else workload
        found = {k: int(v) for k, aliases in _SHAPE_KEYS.items()
                 if (v := next((w.shape[a] for a in aliases if a in w.shape), None)) is not None}
        missing = [k for k in ("n_layers", "d_model", "n_heads") if k not in found]
        if missing:
            raise CatalogError(f"workload {w.name!r} has no shape.{', shape.'.join(missing)}; "
                               "the roofline needs n_layers, d_model and n_heads")
        return cls(params=w.params, active_params=w.active_params, n_layers=found["n_layers"],
                   d_model=found["d_model"], n_heads=found["n_heads"],
                   n_kv_heads=found.get("n_kv_heads"), head_dim=found.get("head_dim"),
                   seq_len=found.get("seq_len"), vocab=found.get("vocab"),
                   d_ff=found.get("d_ff"))


def llm_training_step(shape: TransformerShape, *, tokens: npt.ArrayLike, seq_len: npt.ArrayLike,
                      n_gpus: npt.ArrayLike = 1, bytes_per_param: float = 2.0,
                      recompute: bool = False) -> OpCost:
    """One optimizer step over ``tokens`` (global) split evenly over ``n_gpus``; cost per GPU.

    Model FLOP per token = 6·N + 12·L·(H·Q)·T (PaLM appendix B; the 6N term is
    Kaplan et al. 2020 / Hoffmann et al. 2022): forward 2N + 4LHQT, backward twice
    that, attention without causal savings as PaLM counts it. ``recompute`` adds one
    forward pass to the executed FLOP (Korthikanti et al. 2022), not to model FLOP.
    Memory bytes are a lower-bound estimate: weights read in forward and backward and
    gradients written (3·N·b), mixed-precision Adam state read and written (24 + 2b per
    parameter), all sharded over the GPUs, plus activations written then read
    (34·d·L bytes per token, Korthikanti et al. 2022, with fused attention).
    """
    t = _checked("tokens", tokens)
    s = _checked("seq_len", seq_len, positive=True)
    gpus = _checked("n_gpus", n_gpus, positive=True)
    fwd_per_token = 2.0 * shape.active + 4.0 * shape.n_layers * shape.attn_width * s
    model_flop = 3.0 * fwd_per_token * t / gpus
    flop = model_flop * (4.0 / 3.0 if recompute else 1.0)
    state_bytes = shape.params * (3.0 * bytes_per_param + 24.0 + 2.0 * bytes_per_param)
    act_bytes = 2.0 * 34.0 * shape.d_model * shape.n_layers * t
    return OpCost(flop=flop, model_flop=model_flop, mem_bytes=(state_bytes + act_bytes) / gpus,
                  tokens=t)


def llm_prefill(shape: TransformerShape, *, batch: npt.ArrayLike, prompt_len: npt.ArrayLike,
                n_gpus: npt.ArrayLike = 1, bytes_per_param: float = 2.0,
                kv_bytes_per_element: float | None = None) -> OpCost:
    """Prefill of ``batch`` prompts of ``prompt_len`` tokens, sharded over ``n_gpus``; per GPU.

    FLOP = 2·N_active per token plus causal attention, sum over t of 4·L·(H·Q)·t
    = 2·L·(H·Q)·S·(S+1) per sequence. Bytes: weights read once, KV cache written.
    This is the legacy count (every parameter on every token, the LM head included); the
    serving convention, with embeddings as gathers and the LM head on the last token, is
    :func:`mlfleet.infra.accel.flops.prefill_flop` and the kernel-built step.
    """
    b = _checked("batch", batch, positive=True)
    s = _checked("prompt_len", prompt_len, positive=True)
    gpus = _checked("n_gpus", n_gpus, positive=True)
    kv_b = bytes_per_param if kv_bytes_per_element is None else kv_bytes_per_element
    flop = b * (2.0 * shape.active * s + 2.0 * shape.n_layers * shape.attn_width * s * (s + 1))
    mem = shape.params * bytes_per_param + b * s * shape.kv_bytes_per_token(kv_b)
    return OpCost(flop=flop / gpus, model_flop=flop / gpus, mem_bytes=mem / gpus, tokens=b * s)


def llm_decode(shape: TransformerShape, *, batch: npt.ArrayLike, context_len: npt.ArrayLike,
               n_gpus: npt.ArrayLike = 1, bytes_per_param: float = 2.0,
               kv_bytes_per_element: float | None = None) -> OpCost:
    """One decode step: one new token for each of ``batch`` sequences with ``context_len``
    cached tokens, weights and KV cache sharded over ``n_gpus``; cost per GPU.

    Pope et al. 2022 ("Efficiently Scaling Transformer Inference"): every step reads
    all weights (N·b bytes) and each sequence's KV cache, so at small batch decode is
    memory-bound and the time barely depends on the batch. FLOP = 2·N_active +
    4·L·(H·Q)·context per token. All weights are counted as read, also for MoE, and the
    embedding table too (the legacy count; the kernel-built step reads the looked-up rows:
    :mod:`mlfleet.infra.accel.flops`).
    """
    b, ctx = _checked("batch", batch, positive=True), _checked("context_len", context_len)
    gpus = _checked("n_gpus", n_gpus, positive=True)
    kv = shape.kv_bytes_per_token(bytes_per_param if kv_bytes_per_element is None
                                  else kv_bytes_per_element)
    flop = b * (2.0 * shape.active + 4.0 * shape.n_layers * shape.attn_width * ctx)
    mem = shape.params * bytes_per_param + b * (ctx + 1.0) * kv
    return OpCost(flop=flop / gpus, model_flop=flop / gpus, mem_bytes=mem / gpus, tokens=b)


def llm_cost(phase: str, shape: TransformerShape, *, batch: npt.ArrayLike, seq_len: npt.ArrayLike,
             n_gpus: npt.ArrayLike = 1, bytes_per_param: float = 2.0,
             recompute: bool = False) -> OpCost:
    """Cost of one ``phase`` step: ``batch`` sequences of ``seq_len`` (train, prefill), or
    ``batch`` sequences decoding with ``seq_len`` cached tokens (decode)."""
    builders: dict[str, Callable[[], OpCost]] = {
        "train": lambda: llm_training_step(
            shape, tokens=np.multiply(_checked("batch", batch, positive=True), seq_len),
            seq_len=seq_len, n_gpus=n_gpus, bytes_per_param=bytes_per_param, recompute=recompute),
        "prefill": lambda: llm_prefill(shape, batch=batch, prompt_len=seq_len, n_gpus=n_gpus,
                                       bytes_per_param=bytes_per_param),
        "decode": lambda: llm_decode(shape, batch=batch, context_len=seq_len, n_gpus=n_gpus,
                                     bytes_per_param=bytes_per_param),
    }
    if phase not in builders:
        raise InputError(f"phase {phase!r} is unknown; known: {', '.join(PHASES)}")
    return builders[phase]()


def training_step(*, workload: str | Workload | TransformerShape,
                  accelerator: str | Accelerator | Device, precision: str = "bf16",
                  global_batch_tokens: npt.ArrayLike, n_gpus: npt.ArrayLike,
                  seq_len: int | None = None, compute_efficiency: npt.ArrayLike = 1.0,
                  memory_efficiency: npt.ArrayLike = 1.0, overhead_s: npt.ArrayLike = 0.0,
                  comm_s: npt.ArrayLike = 0.0, overlap: bool = True,
                  recompute: bool = False) -> RooflineResult:
    """Step time, bound and MFU of one data-parallel training step (for ``mlfleet plan``).

    ``compute_efficiency`` is the fraction of peak the kernels reach (the assumed
    MFU of a compute-bound step without recomputation, typically 0.35-0.55, see
    docs/validation.md); ``comm_s`` is exposed-or-overlapped communication time from
    the comm chapter's collective models. ``seq_len`` defaults to the workload's.
    Raises CatalogError for unknown names and InputError for bad numbers.
    """
    shape = workload if isinstance(workload, TransformerShape) \
        else TransformerShape.from_workload(workload)
    device = accelerator if isinstance(accelerator, Device) \
        else Device.from_accelerator(accelerator, precision)
    seq = seq_len if seq_len is not None else shape.seq_len
    if seq is None:
        raise InputError("seq_len is not given and the workload has no shape.seq_len")
    cost = llm_training_step(shape, tokens=global_batch_tokens, seq_len=seq, n_gpus=n_gpus,
                             bytes_per_param=device.bytes_per_element, recompute=recompute)
    return predict(cost, device, compute_efficiency=compute_efficiency,
                   memory_efficiency=memory_efficiency, overhead_s=overhead_s, comm_s=comm_s,
                   overlap=overlap)
