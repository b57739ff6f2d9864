"""Ring ReduceScatter, AllGather and AllReduce (reduce-scatter then allgather).

Source: Patarasuk & Yuan, "Bandwidth optimal all-reduce algorithms for clusters
of workstations", JPDC 2009; the NCCL ring.

Convention (fixed; the link-byte predictions depend on it). ``n`` ranks in a ring;
rank ``r`` sends only to ``right = (r + 1) % n`` and receives only from
``left = (r - 1) % n``. The flat buffer of ``numel`` elements is cut into ``n``
chunks with ``numpy.array_split`` semantics (chunks ``0 .. numel % n - 1`` hold
one extra element). Chunk ``i`` is owned by rank ``i``.

* Reduce-scatter, steps ``s = 0 .. n-2``: rank ``r`` sends chunk ``(r - s - 1) % n``
  to the right and receives chunk ``(r - s - 2) % n`` from the left, adding it
  into its own copy. After the last step rank ``r`` holds the full sum of chunk ``r``.
* AllGather, steps ``s = 0 .. n-2``: rank ``r`` sends chunk ``(r - s) % n`` to the
  right and receives chunk ``(r - s - 1) % n`` from the left into place.

So rank ``r`` sends, to the right only: reduce-scatter ``numel - |chunk r|``
elements, allgather ``numel - |chunk (r+1) % n|`` elements. An empty chunk
(``numel < n``, e.g. 3 elements on 4 ranks) is not sent at all. The public
``allgather_ring`` gathers equal per-rank blocks (block ``i`` = rank ``i``'s
input), so each rank sends ``(n - 1) * numel_per_rank`` elements to the right.
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.algorithms.chunks import ByteCounts, chunk_bounds, chunk_sizes, empty_counts
from mlfleet.comm.transport.base import Transport

Bounds = list[tuple[int, int]]


def ring_reduce_scatter_inplace(t: Transport, flat: np.ndarray, bounds: Bounds) -> None:
    """Reduce-scatter ``flat`` in place: afterwards chunk ``t.rank`` holds the sum."""
    n, r = t.world_size, t.rank
    if n == 1:
        return
    scratch = np.empty(max(hi - lo for lo, hi in bounds), flat.dtype)
    for s in range(n - 1):
        slo, shi = bounds[(r - s - 1) % n]
        rlo, rhi = bounds[(r - s - 2) % n]
        incoming = scratch[: rhi - rlo]
        t.sendrecv((r + 1) % n, flat[slo:shi], (r - 1) % n, incoming)
        flat[rlo:rhi] += incoming


def ring_allgather_inplace(t: Transport, flat: np.ndarray, bounds: Bounds) -> None:
    """AllGather in place: each rank contributes chunk ``t.rank``, ends with all chunks."""
    n, r = t.world_size, t.rank
    for s in range(n - 1):
        slo, shi = bounds[(r - s) % n]
        rlo, rhi = bounds[(r - s - 1) % n]
        t.sendrecv((r + 1) % n, flat[slo:shi], (r - 1) % n, flat[rlo:rhi])


def allreduce_ring(t: Transport, x: np.ndarray) -> np.ndarray:
    """Sum of ``x`` over all ranks, same shape, by ring reduce-scatter + allgather."""
    flat = x.reshape(-1).copy()
    bounds = chunk_bounds(flat.size, t.world_size)
    ring_reduce_scatter_inplace(t, flat, bounds)
    ring_allgather_inplace(t, flat, bounds)
    return flat.reshape(x.shape)


def reducescatter_ring(t: Transport, x: np.ndarray) -> np.ndarray:
    """Chunk ``t.rank`` (array_split of the flat ``x``) of the sum over ranks."""
    flat = x.reshape(-1).copy()
    bounds = chunk_bounds(flat.size, t.world_size)
    ring_reduce_scatter_inplace(t, flat, bounds)
    lo, hi = bounds[t.rank]
    return flat[lo:hi].copy()


def allgather_ring(t: Transport, x: np.ndarray) -> np.ndarray:
    """Every rank's flat ``x`` (same size on all ranks), concatenated in rank order."""
    n, m = t.world_size, x.size
    out = np.empty(n * m, x.dtype)
    out[t.rank * m:(t.rank + 1) * m] = x.reshape(-1)
    ring_allgather_inplace(t, out, [(i * m, (i + 1) * m) for i in range(n)])
    return out


def predicted_bytes_allreduce_ring(n_ranks: int, numel: int, itemsize: int) -> ByteCounts:
    """Per rank, payload bytes sent to each peer by :func:`allreduce_ring`."""
    counts = empty_counts(n_ranks)
    if n_ranks > 1:
        sizes = chunk_sizes(numel, n_ranks)
        for r in range(n_ranks):
            right = (r + 1) % n_ranks
            counts[r][right] += itemsize * (2 * numel - sizes[r] - sizes[right])
    return counts


def predicted_bytes_reducescatter_ring(n_ranks: int, numel: int, itemsize: int) -> ByteCounts:
    """Per rank, payload bytes sent by :func:`reducescatter_ring` (``numel``: input size)."""
    counts = empty_counts(n_ranks)
    if n_ranks > 1:
        sizes = chunk_sizes(numel, n_ranks)
        for r in range(n_ranks):
            counts[r][(r + 1) % n_ranks] += itemsize * (numel - sizes[r])
    return counts


def predicted_bytes_allgather_ring(n_ranks: int, numel: int, itemsize: int) -> ByteCounts:
    """Per rank, payload bytes sent by :func:`allgather_ring` (``numel``: per-rank input)."""
    counts = empty_counts(n_ranks)
    if n_ranks > 1:
        for r in range(n_ranks):
            counts[r][(r + 1) % n_ranks] += itemsize * (n_ranks - 1) * numel
    return counts
