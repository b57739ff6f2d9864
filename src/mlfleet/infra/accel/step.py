"""A transformer step built from kernels: each kernel timed by the kernel model, summed per step.

The kernels are :func:`mlfleet.infra.accel.kernels.step_launches`; each is timed by
:func:`mlfleet.infra.accel.types.kernel_time` in its class (a GEMM with more than
``gemv_max_rows`` rows is ``gemm``, else ``gemv``; norms, RoPE, the cache write, the gather and
sampling are ``stream``; attention is ``attention``). With n launches per step, n_eager the
PyTorch ops an eager model issues for them (:mod:`mlfleet.infra.accel.eager_ops`: 1,784 for
Llama-2-7B where n = 324) and the engine's issue costs (:mod:`mlfleet.infra.accel.types`):

    device = Σ device_s + n · graph_gap_s + comm_s
    host   = graph_launch_s                    (graph)
           = n_eager · eager_issue_s           (eager)
           = n · (eager_issue_s + framework_op_s)   (framework: its own fused kernels)
    time   = max(host, device) + sync_s

The device side is the fused kernels in every mode: an eager model's unfused elementwise ops
also move more activation bytes and pay more gaps, which this model leaves out (the eager
steps it is checked on are host-bound).

so an eager step stays flat in the batch while the host is the slower side. The terms say what
bounds it: ``compute_s`` and ``memory_s`` are the sums of the kernels' compute and memory times,
``fixed_s`` the per-kernel fixed times and gaps, ``floor_s`` the time lost to the shortest
kernel (``min_kernel_s``). ``bound`` is ``host`` when the host is slower than the device, else
whichever of compute-bound kernels, memory-bound kernels, kernel floors (fixed + gaps + floors)
and communication takes most of the device time.

In the limit of full fractions, no fixed times, floors, gaps, host or sync, the step's compute
and memory terms are the legacy roofline's (:func:`mlfleet.infra.roofline.llm_decode`,
:func:`~mlfleet.infra.roofline.llm_prefill`) plus the activation traffic it leaves out
(tests/infra/accel/test_kernel_step.py checks it to 1e-9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.checks import FloatArray, non_negative_array, one_of, positive_array, positive_int
from mlfleet.errors import InputError
from mlfleet.infra.accel.kernels import Launch, StepCounts, step_launches
from mlfleet.infra.accel.types import ENGINE_MODES, KernelModel, kernel_time
from mlfleet.infra.roofline import BYTES_PER_ELEMENT, TransformerShape

GEMV_MAX_ROWS = 16
"""GEMMs with at most this many rows run as skinny GEMV-like kernels (TensorRT-LLM's batched
GEMV kernels serve M ≤ 16; beyond that cuBLAS/CUTLASS tile GEMMs take over)."""

STEP_PHASES = ("prefill", "decode")
BOUNDS = ("compute", "memory", "kernel floors", "communication", "host")


@dataclass(frozen=True, kw_only=True)
class StepBreakdown:
    """Predicted time of one step and its terms; arrays broadcast to the sweep's shape."""

    time_s: FloatArray
    """max(host_s, device_s) + sync_s."""
    device_s: FloatArray
    host_s: FloatArray
    sync_s: FloatArray
    compute_s: FloatArray
    """Σ over kernels of FLOP / (peak · compute fraction)."""
    memory_s: FloatArray
    """Σ over kernels of bytes / (bandwidth · memory fraction)."""
    fixed_s: FloatArray
    """Σ of per-kernel fixed times plus the gaps between kernels."""
    floor_s: FloatArray
    """Device time lost to kernel floors (kernels shorter than ``min_kernel_s``)."""
    comm_s: FloatArray
    """TP AllReduce time on the device's critical path."""
    n_kernels: int
    """Fused kernels the device runs."""
    host_ops: int
    """Ops the host issues (:func:`host_ops`): 1 graph launch, eager ops, or n_kernels."""
    bound: npt.NDArray[np.str_]
    flop: FloatArray
    mem_bytes: FloatArray
    """Weights, KV cache and activations moved."""
    activation_bytes: FloatArray
    tokens: FloatArray

    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists for sweeps), for JSON."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per sweep point (C order)."""
        shape = self.time_s.shape
        counts = {"n_kernels": self.n_kernels, "host_ops": self.host_ops}
        cols = {n: np.ravel(np.broadcast_to(getattr(self, n), shape))
                for n in self.__dataclass_fields__ if n not in counts}
        return [{**counts, **{k: v[i].item() for k, v in cols.items()}}
                for i in range(self.time_s.size)]


def _device_terms(model: KernelModel, launch: Launch, gemv_max_rows: int) -> dict[str, FloatArray]:
    """Device time of one launch (times its repeat) split into terms."""
    if launch.kind == "gemm":
        big = kernel_time(model, "gemm", flop=launch.flop, mem_bytes=launch.state_bytes
                          + launch.act_bytes)
        small = kernel_time(model, "gemv", flop=launch.flop, mem_bytes=launch.state_bytes
                            + launch.act_bytes)
        pick = launch.rows > gemv_max_rows
        parts = {n: np.where(pick, getattr(big, n), getattr(small, n))
                 for n in ("compute_s", "memory_s", "fixed_s", "device_s")}
    else:
        kt = kernel_time(model, launch.kind, flop=launch.flop,
                         mem_bytes=launch.state_bytes + launch.act_bytes)
        parts = {n: getattr(kt, n) for n in ("compute_s", "memory_s", "fixed_s", "device_s")}
    c, m, f, dev = parts["compute_s"], parts["memory_s"], parts["fixed_s"], parts["device_s"]
    r = float(launch.repeat)
    return {"compute_s": r * c, "memory_s": r * m, "fixed_s": r * f, "device_s": r * dev,
            "floor_s": r * (dev - np.maximum(c, m) - f),
            "compute_bound_s": r * np.where(c >= m, c, 0.0),
            "memory_bound_s": r * np.where(c >= m, 0.0, m)}


def host_ops(launches: list[Launch], engine: str) -> int:
    """Ops the host issues per step in ``engine`` mode: one graph launch, every eager PyTorch
    op behind the fused kernels (eager), or one op per fused kernel (framework)."""
    one_of("engine", engine, ENGINE_MODES)
    if engine == "graph":
        return 1
    if engine == "eager":
        return sum(x.repeat * x.eager_ops for x in launches)
    return sum(x.repeat for x in launches)


def host_s(model: KernelModel, engine: str, n_ops: int) -> float:
    """Host time to issue ``n_ops`` ops (:func:`host_ops`) in ``engine`` mode."""
    one_of("engine", engine, ENGINE_MODES)
    lp = model.launch
    if engine == "graph":
        return lp.graph_launch_s
    per_op = lp.eager_issue_s + (lp.framework_op_s if engine == "framework" else 0.0)
    return n_ops * per_op


def time_launches(model: KernelModel, launches: list[Launch], *, engine: str,
                  allreduce_s: npt.ArrayLike = 0.0, tokens: npt.ArrayLike = np.nan,
                  gemv_max_rows: int = GEMV_MAX_ROWS) -> StepBreakdown:
    """Time ``launches`` on ``model`` issued by ``engine``; ``allreduce_s`` is one TP
    AllReduce's device time (for the ``comm`` launches)."""
    ar = non_negative_array("allreduce_s", allreduce_s)
    device = [_device_terms(model, x, gemv_max_rows) for x in launches if x.kind != "comm"]
    totals = {k: np.sum(np.broadcast_arrays(*[d[k] for d in device]), axis=0) for k in device[0]}
    comm = sum((x.repeat * ar for x in launches if x.kind == "comm"), 0.0 * ar)
    n = sum(x.repeat for x in launches)
    fixed = totals["fixed_s"] + n * model.launch.graph_gap_s
    dev = totals["device_s"] + n * model.launch.graph_gap_s + comm
    n_ops = host_ops(launches, engine)
    host = host_s(model, engine, n_ops)
    terms = np.stack(np.broadcast_arrays(totals["compute_bound_s"], totals["memory_bound_s"],
                                         fixed + totals["floor_s"], comm, 0.0 * dev))
    bound = np.asarray(BOUNDS)[np.argmax(terms, axis=0)]
    bound = np.where(host > dev, "host", bound)
    time = np.maximum(host, dev) + model.launch.sync_s
    shape = time.shape

    def full(a: npt.ArrayLike) -> FloatArray:
        return np.array(np.broadcast_to(np.asarray(a, dtype=np.float64), shape))

    act = sum((x.repeat * x.act_bytes for x in launches), 0.0 * time)
    mem = sum((x.repeat * (x.state_bytes + x.act_bytes) for x in launches), 0.0 * time)
    return StepBreakdown(
        time_s=full(time), device_s=full(dev), host_s=full(host),
        sync_s=full(model.launch.sync_s), compute_s=full(totals["compute_s"]),
        memory_s=full(totals["memory_s"]), fixed_s=full(fixed), floor_s=full(totals["floor_s"]),
        comm_s=full(comm), n_kernels=n, host_ops=n_ops,
        bound=np.asarray(np.broadcast_to(bound, shape)),
        flop=full(sum((x.repeat * x.flop for x in launches), 0.0 * time)), mem_bytes=full(mem),
        activation_bytes=full(act), tokens=full(tokens))


def phase_counts(phase: str, *, batch: npt.ArrayLike, length: npt.ArrayLike) -> StepCounts:
    """Counts of ``batch`` fresh prompts of ``length`` tokens (prefill) or ``batch``
    sequences decoding one token with ``length`` cached tokens (decode)."""
    one_of("phase", phase, STEP_PHASES)
    b = positive_array("batch", batch)
    if phase == "prefill":
        s = positive_array("prompt_len", length)
        return StepCounts(tokens=b * s, logit_rows=b + 0.0 * s, pairs=b * s * (s + 1.0) / 2.0,
                          kv_read_tokens=0.0 * b * s)
    ctx = non_negative_array("context_len", length)
    return StepCounts(tokens=b + 0.0 * ctx, logit_rows=b + 0.0 * ctx, pairs=b * ctx,
                      kv_read_tokens=b * ctx)


def transformer_step(model: KernelModel, shape: TransformerShape, *, phase: str,
                     batch: npt.ArrayLike, context_len: npt.ArrayLike | None = None,
                     prompt_len: npt.ArrayLike | None = None, engine: str, tp: int = 1,
                     kv_bytes_per_element: float | None = None,
                     act_bytes_per_element: float = 2.0,
                     allreduce_s: npt.ArrayLike = 0.0) -> StepBreakdown:
    """One prefill or decode step of ``shape`` on one of ``tp`` GPUs, issued by ``engine``.

    Prefill takes ``prompt_len``, decode ``context_len`` (cached tokens per sequence);
    arrays broadcast. Weights are stored at the kernel model's precision; the KV cache at
    ``kv_bytes_per_element`` (default the same). Raises InputError for an unknown phase or
    engine, a missing length, or bad numbers.
    """
    one_of("phase", phase, STEP_PHASES)
    one_of("engine", engine, ENGINE_MODES)
    length = prompt_len if phase == "prefill" else context_len
    if length is None:
        needed = "prompt_len" if phase == "prefill" else "context_len"
        raise InputError(f"a {phase} step needs {needed}")
    counts = phase_counts(phase, batch=batch, length=length)
    return counts_step(model, shape, counts, engine=engine, tp=tp, layers=shape.n_layers,
                       kv_bytes_per_element=kv_bytes_per_element,
                       act_bytes_per_element=act_bytes_per_element, allreduce_s=allreduce_s)


def weight_bytes_per_element(model: KernelModel) -> float:
    """Bytes of one weight at the kernel model's precision; InputError naming the known ones."""
    return BYTES_PER_ELEMENT[one_of("precision", model.precision, BYTES_PER_ELEMENT)]


def counts_step(model: KernelModel, shape: TransformerShape, counts: StepCounts, *,
                engine: str, tp: int = 1, layers: int, kv_bytes_per_element: float | None = None,
                act_bytes_per_element: float = 2.0,
                allreduce_s: npt.ArrayLike = 0.0) -> StepBreakdown:
    """The step of ``counts`` (any mix of prefill and decode) on a GPU holding ``layers``."""
    positive_int("tp", tp)
    w_b = weight_bytes_per_element(model)
    kv_b = w_b if kv_bytes_per_element is None else kv_bytes_per_element
    launches = step_launches(shape, counts, tp=tp, layers=layers, w_b=w_b, kv_b=kv_b,
                             a_b=act_bytes_per_element)
    return time_launches(model, launches, engine=engine, allreduce_s=allreduce_s,
                         tokens=counts.tokens)
