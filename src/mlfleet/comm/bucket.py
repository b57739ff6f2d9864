"""Bucketed gradient AllReduce overlapped with the backward pass (PyTorch DDP).

Backward produces gradients layer by layer (last layer first). DDP packs them into
buckets of about ``bucket_bytes``; a bucket's AllReduce starts when its last
gradient is ready and the AllReduces run one after another on one stream. What
the step pays is the *exposed* communication: the time from the end of backward
to the end of the last AllReduce. Small buckets pay α (latency) once per bucket;
big buckets start overlapping late; the last bucket is always exposed.

Two fidelities, checked against each other in ``tests/comm/test_bucket.py``:

* :func:`exposed_comm_time` — closed form for gradients produced at a uniform
  rate. With m = ⌈G/b⌉ buckets, bucket k ready at r_k = T_b·k·b/G (the last at
  T_b) and AllReduce times c (full bucket) and c_m (last), the end of a FIFO
  stream is max_k (r_k + Σ_{j>=k} c_j); the term is linear in k for k < m, so
  only k = 1, m-1, m matter:
  exposed = max(r_1 + (m-1)c + c_m, r_{m-1} + c + c_m, T_b + c_m) - T_b.
* :func:`simulate_buckets` — step simulation over real per-layer backward times
  and gradient sizes with DDP's packing (whole tensors; a bucket closes once it
  reaches the cap; a smaller first bucket).

Source: Li et al. 2020, "PyTorch Distributed: Experiences on Accelerating Data
Parallel Training", VLDB 13(12) (buckets, 25 MB default cap, overlap, §3.2, §5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.catalog.types import Workload
from mlfleet.checks import FloatArray, non_negative, non_negative_array, positive, positive_array
from mlfleet.errors import CommInputError

AllReduceCost = Callable[[FloatArray], FloatArray]
"""Seconds to AllReduce a buffer of the given bytes (vectorised)."""

DDP_BUCKET_CAP_BYTES = 25 * 2**20
"""PyTorch DDP's default ``bucket_cap_mb=25`` (MiB), Li et al. 2020 §5."""
DDP_FIRST_BUCKET_CAP_BYTES = 1 * 2**20
"""DDP closes its first bucket at 1 MiB so communication starts early."""


def exposed_comm_time(*, backward_s: float, grad_bytes: float, bucket_bytes: ArrayLike,
                      allreduce_s: AllReduceCost, tensor_bytes: float = 0.0,
                      final_tensor_bytes: float = 0.0) -> FloatArray:
    """Closed-form exposed seconds per step for each bucket size (uniform gradient rate).

    ``tensor_bytes`` > 0 models gradients arriving as equal tensors that DDP never
    splits: a bucket then holds ⌈b / tensor⌉ whole tensors. ``final_tensor_bytes`` is
    one tensor whose gradient is ready only at the end of backward (an LLM's input
    embedding): the rest is produced uniformly and the final tensor's AllReduce follows
    it, fully exposed. Raises CommInputError for a non-positive bucket or gradient size.
    """
    final = non_negative("final_tensor_bytes", final_tensor_bytes, error=CommInputError)
    if final > 0:
        if not final < grad_bytes:
            raise CommInputError(f"final_tensor_bytes(={final:g}) must be < grad_bytes")
        rest = exposed_comm_time(backward_s=backward_s, grad_bytes=grad_bytes - final,
                                 bucket_bytes=bucket_bytes, allreduce_s=allreduce_s,
                                 tensor_bytes=tensor_bytes)
        return np.asarray(rest + allreduce_s(np.asarray(final)), dtype=np.float64)
    t_b = non_negative("backward_s", backward_s, error=CommInputError)
    total = positive("grad_bytes", grad_bytes, error=CommInputError)
    b = positive_array("bucket_bytes", bucket_bytes, error=CommInputError)
    if non_negative("tensor_bytes", tensor_bytes, error=CommInputError) > 0:
        b = np.ceil(b / tensor_bytes - 1e-9) * tensor_bytes
    b = np.minimum(b, total)
    m = np.ceil(total / b - 1e-9)
    last = total - (m - 1.0) * b
    c, c_last = allreduce_s(b), allreduce_s(last)
    ready_first = np.where(m > 1, t_b * b / total, t_b)
    ready_penult = np.where(m > 1, t_b * (m - 1.0) * b / total, t_b)
    end = np.maximum.reduce([
        ready_first + np.maximum(m - 1.0, 0.0) * c + c_last,
        np.where(m > 1, ready_penult + c + c_last, 0.0),
        t_b + c_last,
    ])
    return np.asarray(end - t_b, dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class BucketTimeline:
    """One simulated backward pass with bucketed AllReduce."""

    exposed_s: float
    """End of the last AllReduce minus end of backward (>= 0)."""
    backward_s: float
    bucket_bytes: FloatArray
    ready_s: FloatArray
    start_s: FloatArray
    end_s: FloatArray


def pack_buckets(layer_grad_bytes: ArrayLike, *, bucket_bytes: float,
                 first_bucket_bytes: float | None = None) -> list[list[int]]:
    """DDP packing of layers (in backward order) into buckets of whole tensors.

    A bucket closes as soon as it holds at least its cap; the first cap may be smaller.
    """
    sizes = non_negative_array("layer_grad_bytes", layer_grad_bytes, error=CommInputError)
    cap = positive("bucket_bytes", bucket_bytes, error=CommInputError)
    current_cap = cap if first_bucket_bytes is None else positive(
        "first_bucket_bytes", first_bucket_bytes, error=CommInputError)
    buckets: list[list[int]] = [[]]
    filled = 0.0
    for i, size in enumerate(sizes):
        buckets[-1].append(i)
        filled += float(size)
        if filled >= current_cap * (1 - 1e-9) and i < len(sizes) - 1:  # float sums
            buckets.append([])
            filled, current_cap = 0.0, cap
    return buckets


def simulate_buckets(*, layer_backward_s: ArrayLike, layer_grad_bytes: ArrayLike,
                     bucket_bytes: float, allreduce_s: AllReduceCost,
                     first_bucket_bytes: float | None = None) -> BucketTimeline:
    """Step simulation: layers finish backward in order; buckets AllReduce FIFO on one stream.

    ``layer_backward_s`` and ``layer_grad_bytes`` are in backward order (last layer first).
    """
    compute = non_negative_array("layer_backward_s", layer_backward_s, error=CommInputError)
    sizes = non_negative_array("layer_grad_bytes", layer_grad_bytes, error=CommInputError)
    if compute.shape != sizes.shape or compute.ndim != 1 or compute.size == 0:
        raise CommInputError(
            f"layer_backward_s and layer_grad_bytes must be equal-length lists "
            f"(got {compute.shape} and {sizes.shape})")
    done = np.cumsum(compute)  # gradient of layer i is ready when its backward ends
    buckets = pack_buckets(sizes, bucket_bytes=bucket_bytes, first_bucket_bytes=first_bucket_bytes)
    volume = np.array([sizes[idx].sum() for idx in buckets])
    ready = np.array([done[idx[-1]] for idx in buckets])
    cost = np.asarray(allreduce_s(volume), dtype=np.float64)
    start, end = np.empty_like(ready), np.empty_like(ready)
    stream_free = 0.0
    for k in range(len(buckets)):
        start[k] = max(ready[k], stream_free)
        end[k] = stream_free = start[k] + cost[k]
    backward = float(done[-1])
    return BucketTimeline(exposed_s=max(0.0, float(end[-1]) - backward), backward_s=backward,
                          bucket_bytes=volume, ready_s=ready, start_s=start, end_s=end)


def transformer_gradient_tensors(*, layers: int, d_model: float, d_ff: float, n_heads: float,
                                 n_kv_heads: float, vocab: float,
                                 untied_head: bool = True) -> tuple[FloatArray, FloatArray]:
    """(parameters, matmul parameters) per gradient tensor of a decoder, in backward order.

    Backward meets the output head and final norm first, then each block from the last
    (down, up, gate projections, norm, o, v, k, q, norm), and the input embedding last. Backward compute
    per tensor is proportional to its matmul parameters (2 FLOP per parameter per token
    for each of the input and weight gradients); the embedding is a lookup (no matmul).
    Shapes as in the Llama 3 paper (SwiGLU MLP, grouped-query attention).
    """
    kv = d_model * n_kv_heads / n_heads
    block = [d_ff * d_model] * 3 + [d_model] + [d_model * d_model, kv * d_model,
                                                   kv * d_model, d_model * d_model, d_model]
    block_mm = [p if p != d_model else 0.0 for p in block]
    head = [vocab * d_model] if untied_head else []
    params = head + [d_model] + block * layers + [vocab * d_model]
    matmul = head + [0.0] + block_mm * layers + [0.0 if untied_head else vocab * d_model]
    return np.asarray(params, dtype=np.float64), np.asarray(matmul, dtype=np.float64)


_DECODER_SHAPE = ("layers", "d_model", "d_ff", "n_heads", "n_kv_heads", "vocab")


def workload_gradient_tensors(workload: Workload, *, precision_bytes: float, backward_s: float,
                              tensors: int | None = None) -> tuple[FloatArray, FloatArray, str]:
    """(tensor bytes, tensor backward seconds, description), backward order, for a workload.

    A dense decoder with the shape fields gets its real tensors
    (:func:`transformer_gradient_tensors`); anything else, or ``tensors`` given, gets that
    many equal tensors (default 256) computed at a uniform rate.
    """
    grad_bytes = workload.params * positive("precision_bytes", precision_bytes,
                                            error=CommInputError)
    shape = workload.shape
    if tensors is None and workload.family == "llm" and all(k in shape for k in _DECODER_SHAPE):
        params, matmul = transformer_gradient_tensors(
            layers=int(shape["layers"]), d_model=shape["d_model"], d_ff=shape["d_ff"],
            n_heads=shape["n_heads"], n_kv_heads=shape["n_kv_heads"], vocab=shape["vocab"])
        return (params * precision_bytes, backward_s * matmul / matmul.sum(),
                f"{len(params)} decoder tensors of {workload.name}")
    return equal_tensors(grad_bytes, backward_s=backward_s, tensors=tensors or 256)


def equal_tensors(grad_bytes: float, *, backward_s: float,
                  tensors: int) -> tuple[FloatArray, FloatArray, str]:
    """``tensors`` equal gradient tensors produced at a uniform rate."""
    if tensors < 1:
        raise CommInputError(f"tensors(={tensors}) must be >= 1")
    return (np.full(tensors, grad_bytes / tensors), np.full(tensors, backward_s / tensors),
            f"{tensors} equal tensors")


def closed_form_shape(tensor_bytes: ArrayLike) -> dict[str, float]:
    """Closed-form arguments that summarise a gradient tensor list (backward order).

    Equal tensors: their size as the packing granularity. Otherwise the mean size of all
    but the last tensor, and the last one (an input embedding) as ``final_tensor_bytes``.
    """
    sizes = non_negative_array("tensor_bytes", tensor_bytes, error=CommInputError)
    if np.all(sizes == sizes[0]):
        return {"tensor_bytes": float(sizes[0])}
    return {"tensor_bytes": float(sizes[:-1].mean()), "final_tensor_bytes": float(sizes[-1])}


def candidate_bucket_sizes(grad_bytes: float, *, min_bytes: float = 2**16) -> FloatArray:
    """Powers of two from ``min_bytes`` up to the whole gradient, plus the whole gradient."""
    total = positive("grad_bytes", grad_bytes, error=CommInputError)
    top = max(int(np.floor(np.log2(total))), int(np.log2(min_bytes)))
    sizes = 2.0 ** np.arange(int(np.log2(min_bytes)), top + 1)
    return np.unique(np.append(sizes[sizes < total], total))


def best_bucket_size(*, backward_s: float, grad_bytes: float, allreduce_s: AllReduceCost,
                     candidates: ArrayLike | None = None, tensor_bytes: float = 0.0,
                     final_tensor_bytes: float = 0.0) -> tuple[float, float]:
    """(bucket bytes, exposed seconds) minimising :func:`exposed_comm_time` over ``candidates``
    (default :func:`candidate_bucket_sizes`).

    Ties go to the larger bucket (fewer kernel launches in practice).
    """
    sizes = (candidate_bucket_sizes(grad_bytes) if candidates is None
             else non_negative_array("candidates", candidates, error=CommInputError))
    exposed = exposed_comm_time(backward_s=backward_s, grad_bytes=grad_bytes,
                                bucket_bytes=sizes, allreduce_s=allreduce_s,
                                tensor_bytes=tensor_bytes, final_tensor_bytes=final_tensor_bytes)
    best = int(np.flatnonzero(exposed <= exposed.min() * (1 + 1e-9) + 1e-15)[-1])
    return float(min(sizes[best], grad_bytes)), float(exposed[best])
