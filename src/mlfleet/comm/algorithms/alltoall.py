"""AlltoAll by pairwise exchange, uniform or with per-destination counts (MoE, embeddings).

Source: the pairwise-exchange algorithm of MPICH (Thakur, Rabenseifner & Gropp,
IJHPCA 2005).

``counts[i][j]`` is the number of elements rank ``i`` sends to rank ``j``; rank
``i``'s flat input is the concatenation of its blocks for ranks ``0 .. n-1`` in
order, and its output is the concatenation of the blocks it receives from ranks
``0 .. n-1``. Without ``counts`` every rank's input is cut into ``n`` blocks with
array_split semantics (block ``j`` goes to rank ``j``; all ranks must hold the same
number of elements). In a real MoE layer the counts are exchanged first by a
small all-to-all; here they are an input known to every rank, so the collective
moves payload only.

Steps ``s = 1 .. n-1``: rank ``r`` sends its block for ``(r + s) % n`` and
receives from ``(r - s) % n`` in one ``sendrecv``; the block for itself is a local
copy. Rank ``r`` therefore sends ``counts[r][j]`` elements to each ``j != r``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from mlfleet.comm.algorithms.chunks import ByteCounts, chunk_sizes, empty_counts
from mlfleet.comm.transport.base import Transport
from mlfleet.errors import InputError

Counts = Sequence[Sequence[int]]


def uniform_counts(n_ranks: int, numel: int) -> list[list[int]]:
    """Every rank sends array_split block ``j`` of its ``numel`` elements to rank ``j``."""
    row = chunk_sizes(numel, n_ranks)
    return [list(row) for _ in range(n_ranks)]


def hot_expert_counts(n_ranks: int, numel: int, *, hot_rank: int = 0,
                      hot_fraction: float = 0.5) -> list[list[int]]:
    """Skewed MoE routing: each rank sends ``hot_fraction`` of its tokens to ``hot_rank``.

    The other ``(1 - hot_fraction)`` of each rank's ``numel`` elements is spread
    over all ranks with array_split (so the hot rank gets a share of that too).
    """
    if not 0.0 <= hot_fraction <= 1.0:
        raise InputError(f"hot_fraction(={hot_fraction!r}) must be in [0, 1]")
    if not 0 <= hot_rank < n_ranks:
        raise InputError(f"hot_rank(={hot_rank!r}) must be a rank in 0..{n_ranks - 1}")
    hot = int(round(numel * hot_fraction))
    rows = uniform_counts(n_ranks, numel - hot)
    for row in rows:
        row[hot_rank] += hot
    return rows


def check_counts(counts: Counts, n_ranks: int) -> list[list[int]]:
    """Validate an ``n × n`` matrix of non-negative element counts; return it as lists."""
    matrix = [[int(c) for c in row] for row in counts]
    if len(matrix) != n_ranks or any(len(row) != n_ranks for row in matrix):
        raise InputError(f"counts must be a {n_ranks}x{n_ranks} matrix, got {counts!r}")
    if any(c < 0 for row in matrix for c in row):
        raise InputError(f"counts must be non-negative, got {counts!r}")
    return matrix


def alltoall_pairwise(t: Transport, x: np.ndarray, *,
                      counts: Counts | None = None) -> np.ndarray:
    """Personalised exchange: block ``j`` of this rank's ``x`` ends on rank ``j``."""
    n, r = t.world_size, t.rank
    flat = x.reshape(-1)
    matrix = uniform_counts(n, flat.size) if counts is None else check_counts(counts, n)
    send_counts = matrix[r]
    recv_counts = [matrix[j][r] for j in range(n)]
    if sum(send_counts) != flat.size:
        raise InputError(f"rank {r}: counts row sums to {sum(send_counts)} but the input "
                         f"has {flat.size} elements")
    send_off = [0, *accumulate(send_counts)]
    recv_off = [0, *accumulate(recv_counts)]
    out = np.empty(recv_off[-1], x.dtype)
    out[recv_off[r]:recv_off[r + 1]] = flat[send_off[r]:send_off[r + 1]]
    for s in range(1, n):
        dst, src = (r + s) % n, (r - s) % n
        t.sendrecv(dst, flat[send_off[dst]:send_off[dst + 1]],
                   src, out[recv_off[src]:recv_off[src + 1]])
    return out


def predicted_bytes_alltoall_pairwise(n_ranks: int, numel: int, itemsize: int, *,
                                      counts: Counts | None = None) -> ByteCounts:
    """Per rank, payload bytes sent to each peer (``numel`` unused when counts are given)."""
    matrix = uniform_counts(n_ranks, numel) if counts is None else check_counts(counts, n_ranks)
    result = empty_counts(n_ranks)
    for i in range(n_ranks):
        for j in range(n_ranks):
            if i != j:
                result[i][j] += matrix[i][j] * itemsize
    return result
