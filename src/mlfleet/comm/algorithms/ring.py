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

Pipelining (as NCCL's ring moves a chunk in slices). Every chunk is cut into
``k`` blocks (array_split again; :func:`pipeline_blocks` picks ``k`` from the
chunk size) and the 2(n−1) steps run as one stream of ``2(n−1)·k`` block
messages per link: block ``b`` of step ``s + 1`` is sent as soon as block ``b``
of step ``s`` has arrived (and, in the reduce-scatter, been added), while later
blocks are still on the wire. Up to ``k`` receives are posted ahead. So the link
never waits for a whole step to finish: the per-step latency and the additions
overlap the transfer. The messages, and so the bytes per link, are the same
as without pipelining (``k = 1``), only cut finer.

Out of place (as NCCL's ring reads ``sendbuff`` and writes ``recvbuff``). The
functions returning a new array do not copy their input first: step 0 sends
straight from the input, and a reduce-scatter block is received into the output
and the input's block added there. Each rank adds each chunk's own term once,
so the sums are the in-place ones bit for bit; what goes away is a full copy of
the buffer before any byte can leave (16 MiB: several ms in which every link
sits idle, measured in :mod:`benchmarks.bench_lab_busbw`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlfleet.comm.algorithms.chunks import ByteCounts, chunk_bounds, chunk_sizes, empty_counts
from mlfleet.comm.transport.base import Pending, Transport
from mlfleet.errors import InputError

Bounds = list[tuple[int, int]]

#: Most blocks a chunk is cut into. Two already keep a link busy while a block is
#: forwarded, once a block takes longer on the link than the hop's latency; each
#: more block costs a message (~40 µs of CPU here) for a shorter pipeline tail.
MAX_PIPELINE_BLOCKS = 4
#: Smallest block worth a message of its own.
MIN_BLOCK_BYTES = 128 * 2**10


def pipeline_blocks(chunk_bytes: int) -> int:
    """How many blocks a ring chunk of ``chunk_bytes`` is cut into (1: no pipelining)."""
    return max(1, min(MAX_PIPELINE_BLOCKS, math.ceil(chunk_bytes / MIN_BLOCK_BYTES)))


def check_blocks(blocks: int) -> int:
    """``blocks`` if it is a whole number >= 1, else InputError."""
    if isinstance(blocks, bool) or not isinstance(blocks, int | np.integer) or blocks < 1:
        raise InputError(f"blocks(={blocks!r}) must be a whole number >= 1 "
                         "(blocks per ring chunk; 1: no pipelining)")
    return int(blocks)


@dataclass(frozen=True)
class _Step:
    """One ring step: the chunk sent to the right, the chunk received from the left."""

    send: tuple[int, int]
    recv: tuple[int, int]
    reduce: bool


def _reduce_scatter_steps(n: int, r: int, bounds: Bounds) -> list[_Step]:
    return [_Step(bounds[(r - s - 1) % n], bounds[(r - s - 2) % n], True) for s in range(n - 1)]


def _allgather_steps(n: int, r: int, bounds: Bounds) -> list[_Step]:
    return [_Step(bounds[(r - s) % n], bounds[(r - s - 1) % n], False) for s in range(n - 1)]


def _allreduce_steps(n: int, r: int, numel: int) -> list[_Step]:
    """Reduce-scatter then allgather, as one stream of steps."""
    bounds = chunk_bounds(numel, n)
    return _reduce_scatter_steps(n, r, bounds) + _allgather_steps(n, r, bounds)


def _split(span: tuple[int, int], k: int) -> Bounds:
    lo, hi = span
    return [(lo + a, lo + b) for a, b in chunk_bounds(hi - lo, k)]


def run_ring_steps(t: Transport, flat: np.ndarray, steps: list[_Step],
                   blocks: int | None = None, src: np.ndarray | None = None) -> None:
    """Run consecutive ring steps into ``flat``, pipelined in blocks.

    Step ``i + 1`` must send the chunk step ``i`` received (true of the ring's
    reduce-scatter, its allgather, and the two back to back). ``blocks=None``:
    :func:`pipeline_blocks` of the largest chunk.

    ``src=None``: in place, ``flat`` holds this rank's terms and ends with the
    result. Otherwise ``src`` (same size, not written) holds the terms: step 0
    sends from it and every reduction adds its block into ``flat``, so ``flat``
    may start uninitialised as long as the steps write every chunk of it (the
    ring's reduce-scatter followed by its allgather does).
    """
    if not steps:
        return
    n, r = t.world_size, t.rank
    right, left = (r + 1) % n, (r - 1) % n
    largest = max(hi - lo for step in steps for lo, hi in (step.send, step.recv))
    k = check_blocks(blocks) if blocks is not None else pipeline_blocks(largest * flat.itemsize)
    sends_at = [blk for step in steps for blk in _split(step.send, k)]
    recvs_at = [blk for step in steps for blk in _split(step.recv, k)]
    reduce_at = [step.reduce for step in steps for _ in range(k)]
    total, window = len(sends_at), k
    in_place = src is None
    # in place, a reduce-scatter block must land beside this rank's term; out of
    # place it lands in the output, where the term is then added
    scratch = (np.empty((window, max(1, -(-largest // k))), flat.dtype)
               if in_place and any(reduce_at) else None)
    terms = flat if src is None else src
    sent: list[Pending | None] = [None] * total
    sent_from: dict[tuple[int, int], Pending] = {}
    received: list[Pending | None] = [None] * total

    def post_send(j: int) -> None:
        lo, hi = sends_at[j]
        if j < k and not in_place:  # step 0 sends this rank's own terms
            sent[j] = t.isend(right, terms[lo:hi])
            return
        sent[j] = sent_from[(lo, hi)] = t.isend(right, flat[lo:hi])

    def post_recv(j: int) -> None:
        lo, hi = recvs_at[j]
        if reduce_at[j] and scratch is not None:
            received[j] = t.irecv(left, scratch[j % window, :hi - lo])
            return
        earlier = sent_from.pop((lo, hi), None)
        if earlier is not None:  # this block is still being sent from: let it go first
            t.wait(earlier)
        received[j] = t.irecv(left, flat[lo:hi])

    for j in range(min(k, total)):  # step 0 sends data this rank already has
        post_send(j)
    for j in range(min(window, total)):
        post_recv(j)
    for j in range(total):
        pending = received[j]
        assert pending is not None
        t.wait(pending)
        if reduce_at[j]:
            lo, hi = recvs_at[j]
            addend = scratch[j % window, :hi - lo] if scratch is not None else terms[lo:hi]
            flat[lo:hi] += addend
        if j + k < total:
            post_send(j + k)
        if j + window < total:
            post_recv(j + window)
    for pending in sent:
        assert pending is not None
        t.wait(pending)


def ring_reduce_scatter_inplace(t: Transport, flat: np.ndarray, bounds: Bounds,
                                blocks: int | None = None) -> None:
    """Reduce-scatter ``flat`` in place: afterwards chunk ``t.rank`` holds the sum."""
    if t.world_size > 1:
        run_ring_steps(t, flat, _reduce_scatter_steps(t.world_size, t.rank, bounds), blocks)


def ring_allgather_inplace(t: Transport, flat: np.ndarray, bounds: Bounds,
                           blocks: int | None = None) -> None:
    """AllGather in place: each rank contributes chunk ``t.rank``, ends with all chunks."""
    if t.world_size > 1:
        run_ring_steps(t, flat, _allgather_steps(t.world_size, t.rank, bounds), blocks)


def ring_allreduce_inplace(t: Transport, flat: np.ndarray, blocks: int | None = None) -> None:
    """AllReduce ``flat`` in place: reduce-scatter and allgather as one pipelined stream."""
    if t.world_size > 1:
        run_ring_steps(t, flat, _allreduce_steps(t.world_size, t.rank, flat.size), blocks)


def allreduce_ring(t: Transport, x: np.ndarray, blocks: int | None = None) -> np.ndarray:
    """Sum of ``x`` over all ranks, same shape, by ring reduce-scatter + allgather.

    Out of place without a copy of ``x`` first (see the module docstring).
    """
    src = x.reshape(-1)
    if t.world_size == 1:
        return src.copy().reshape(x.shape)
    out = np.empty_like(src)
    run_ring_steps(t, out, _allreduce_steps(t.world_size, t.rank, src.size), blocks, src=src)
    return out.reshape(x.shape)


def reducescatter_ring(t: Transport, x: np.ndarray, blocks: int | None = None) -> np.ndarray:
    """Chunk ``t.rank`` (array_split of the flat ``x``) of the sum over ranks."""
    src = x.reshape(-1)
    bounds = chunk_bounds(src.size, t.world_size)
    lo, hi = bounds[t.rank]
    if t.world_size == 1:
        return src[lo:hi].copy()
    out = np.empty_like(src)  # only the chunks the reduce-scatter writes are read
    run_ring_steps(t, out, _reduce_scatter_steps(t.world_size, t.rank, bounds), blocks, src=src)
    return out[lo:hi].copy()


def allgather_ring(t: Transport, x: np.ndarray, blocks: int | None = None) -> np.ndarray:
    """Every rank's flat ``x`` (same size on all ranks), concatenated in rank order."""
    n, m = t.world_size, x.size
    out = np.empty(n * m, x.dtype)
    out[t.rank * m:(t.rank + 1) * m] = x.reshape(-1)
    ring_allgather_inplace(t, out, [(i * m, (i + 1) * m) for i in range(n)], blocks)
    return out


def _bytes_do_not_depend_on(blocks: int | None) -> None:
    """Validate ``blocks`` for a byte prediction: pipelining cuts the same messages finer."""
    if blocks is not None:
        check_blocks(blocks)


def predicted_bytes_allreduce_ring(n_ranks: int, numel: int, itemsize: int,
                                 blocks: int | None = None) -> ByteCounts:
    """Per rank, payload bytes sent to each peer by :func:`allreduce_ring`."""
    _bytes_do_not_depend_on(blocks)
    counts = empty_counts(n_ranks)
    if n_ranks > 1:
        sizes = chunk_sizes(numel, n_ranks)
        for r in range(n_ranks):
            right = (r + 1) % n_ranks
            counts[r][right] += itemsize * (2 * numel - sizes[r] - sizes[right])
    return counts


def predicted_bytes_reducescatter_ring(n_ranks: int, numel: int, itemsize: int,
                                 blocks: int | None = None) -> ByteCounts:
    """Per rank, payload bytes sent by :func:`reducescatter_ring` (``numel``: input size)."""
    _bytes_do_not_depend_on(blocks)
    counts = empty_counts(n_ranks)
    if n_ranks > 1:
        sizes = chunk_sizes(numel, n_ranks)
        for r in range(n_ranks):
            counts[r][(r + 1) % n_ranks] += itemsize * (numel - sizes[r])
    return counts


def predicted_bytes_allgather_ring(n_ranks: int, numel: int, itemsize: int,
                                 blocks: int | None = None) -> ByteCounts:
    """Per rank, payload bytes sent by :func:`allgather_ring` (``numel``: per-rank input)."""
    _bytes_do_not_depend_on(blocks)
    counts = empty_counts(n_ranks)
    if n_ranks > 1:
        for r in range(n_ranks):
            counts[r][(r + 1) % n_ranks] += itemsize * (n_ranks - 1) * numel
    return counts
