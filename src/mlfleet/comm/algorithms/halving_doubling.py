"""Recursive halving-doubling AllReduce (Rabenseifner's algorithm).

Source: R. Rabenseifner, "Optimization of collective reduction operations",
ICCS 2004; Thakur, Rabenseifner & Gropp, IJHPCA 2005 (MPICH's handling of
non-power-of-two rank counts).

Let ``p`` be the largest power of two <= n and ``rem = n - p``.

1. Fold (only when ``rem > 0``): among ranks ``0 .. 2·rem - 1`` each even rank
   sends its whole buffer to the next odd rank, which adds it; the even ranks
   then wait. The ``p`` remaining ranks get new ranks ``v``: odd ``r < 2·rem`` →
   ``r // 2``; ``r >= 2·rem`` → ``r - rem``.
2. Reduce-scatter by recursive halving: the buffer is cut into ``p`` blocks
   (array_split). With ``mask = p/2, p/4, .., 1`` a rank pairs with ``v ^ mask``,
   sends the half of its current block range that the partner keeps (the upper
   half if bit ``mask`` of ``v`` is clear, else the lower), receives the half it
   keeps and adds. Afterwards ``v`` holds the sum of block ``v``.
3. AllGather by recursive doubling: with ``mask = 1, 2, .., p/2`` partners swap
   their whole current (contiguous) range, doubling it.
4. Unfold: each odd ``r < 2·rem`` sends the whole result to ``r - 1``.

Per rank sent: fold/unfold ``numel`` elements once, halving ``numel - |block v|``,
doubling the same amount again, in ``2·log2 p`` (+2) messages.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mlfleet.comm.algorithms.chunks import ByteCounts, chunk_bounds, empty_counts
from mlfleet.comm.transport.base import Transport

# One step of the schedule as seen by new rank v: (partner v, send range, recv range),
# ranges in block units [lo, hi).
Step = tuple[int, tuple[int, int], tuple[int, int]]


def _split(n_ranks: int) -> tuple[int, int]:
    p = 1 << (n_ranks.bit_length() - 1)
    return p, n_ranks - p


def _new_rank(rank: int, rem: int) -> int | None:
    """Rank among the ``p`` active ranks, or None for a folded-away even rank."""
    if rank < 2 * rem:
        return rank // 2 if rank % 2 else None
    return rank - rem


def _real_rank(v: int, rem: int) -> int:
    return 2 * v + 1 if v < rem else v + rem


def halving_steps(v: int, p: int) -> Iterator[Step]:
    """Reduce-scatter steps of new rank ``v``: send the partner's half, keep ours."""
    lo, hi, mask = 0, p, p >> 1
    while mask:
        mid = lo + mask
        lower, upper = (lo, mid), (mid, hi)
        keep, give = (lower, upper) if not v & mask else (upper, lower)
        yield v ^ mask, give, keep
        lo, hi = keep
        mask >>= 1


def doubling_steps(v: int, p: int) -> Iterator[Step]:
    """AllGather steps of new rank ``v``: send our range, receive the partner's."""
    lo, hi, mask = v, v + 1, 1
    while mask < p:
        theirs = (hi, hi + mask) if not v & mask else (lo - mask, lo)
        yield v ^ mask, (lo, hi), theirs
        lo, hi = min(lo, theirs[0]), max(hi, theirs[1])
        mask <<= 1


def allreduce_halving_doubling(t: Transport, x: np.ndarray) -> np.ndarray:
    """Sum of ``x`` over all ranks by recursive halving-doubling (any rank count)."""
    r, n = t.rank, t.world_size
    p, rem = _split(n)
    flat = x.reshape(-1).copy()
    v = _new_rank(r, rem)
    if v is None:
        t.send(r + 1, flat)
        t.recv(r + 1, flat)
        return flat.reshape(x.shape)
    scratch = np.empty_like(flat)
    if r < 2 * rem:
        t.recv(r - 1, scratch)
        flat += scratch
    blocks = chunk_bounds(flat.size, p)

    def span(rng: tuple[int, int]) -> slice:
        return slice(blocks[rng[0]][0], blocks[rng[1] - 1][1]) if rng[1] > rng[0] else slice(0, 0)

    for partner, give, keep in halving_steps(v, p):
        kept = flat[span(keep)]
        incoming = scratch[: kept.size]
        t.sendrecv(_real_rank(partner, rem), flat[span(give)], _real_rank(partner, rem), incoming)
        kept += incoming
    for partner, mine, theirs in doubling_steps(v, p):
        peer = _real_rank(partner, rem)
        t.sendrecv(peer, flat[span(mine)], peer, flat[span(theirs)])
    if r < 2 * rem:
        t.send(r - 1, flat)
    return flat.reshape(x.shape)


def predicted_bytes_allreduce_halving_doubling(n_ranks: int, numel: int,
                                               itemsize: int) -> ByteCounts:
    """Per rank, payload bytes sent to each peer by :func:`allreduce_halving_doubling`."""
    counts = empty_counts(n_ranks)
    p, rem = _split(n_ranks)
    blocks = chunk_bounds(numel, p)

    def elements(rng: tuple[int, int]) -> int:
        return sum(hi - lo for lo, hi in blocks[rng[0]:rng[1]])

    for r in range(2 * rem):
        partner = r + 1 if r % 2 == 0 else r - 1
        counts[r][partner] += numel * itemsize
    for v in range(p):
        r = _real_rank(v, rem)
        for partner, give, _ in halving_steps(v, p):
            counts[r][_real_rank(partner, rem)] += elements(give) * itemsize
        for partner, mine, _ in doubling_steps(v, p):
            counts[r][_real_rank(partner, rem)] += elements(mine) * itemsize
    return counts
