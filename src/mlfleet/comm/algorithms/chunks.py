"""How a flat buffer is cut into chunks, and per-rank byte-count bookkeeping.

The one chunking convention of every algorithm here: ``numpy.array_split``
semantics. A buffer of ``numel`` elements split ``k`` ways gives chunks of
``numel // k + 1`` elements for the first ``numel % k`` chunks and
``numel // k`` for the rest, laid out in order. Empty chunks are legal (numel
smaller than k) and are never sent: the transports treat zero-byte messages as
no-ops on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence

ByteCounts = list[dict[int, int]]


def chunk_sizes(numel: int, k: int) -> list[int]:
    """Element counts of the ``k`` chunks of ``numel`` elements (array_split)."""
    assert numel >= 0 and k >= 1, (numel, k)
    q, extra = divmod(numel, k)
    return [q + 1 if i < extra else q for i in range(k)]


def chunk_bounds(numel: int, k: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` element offsets of the ``k`` chunks (array_split)."""
    bounds, start = [], 0
    for size in chunk_sizes(numel, k):
        bounds.append((start, start + size))
        start += size
    return bounds


def empty_counts(n_ranks: int) -> ByteCounts:
    """Per rank, a zero byte count for every other rank."""
    return [{peer: 0 for peer in range(n_ranks) if peer != rank} for rank in range(n_ranks)]


def embed(into: ByteCounts, group_counts: ByteCounts, ranks: Sequence[int]) -> None:
    """Add a sub-group's byte counts (group rank i is world rank ``ranks[i]``) into ``into``."""
    for i, per_peer in enumerate(group_counts):
        for peer, n_bytes in per_peer.items():
            into[ranks[i]][ranks[peer]] += n_bytes
