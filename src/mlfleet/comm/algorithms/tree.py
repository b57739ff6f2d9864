"""Binary-tree AllReduce: reduce up a binary tree to rank 0, then broadcast down.

Source: the textbook tree reduction (e.g. Thakur, Rabenseifner & Gropp,
"Optimization of collective communication operations in MPICH", IJHPCA 2005).

Tree: heap numbering; rank ``r``'s parent is ``(r - 1) // 2``, its children
``2r + 1`` and ``2r + 2`` (those < n). Reduce: a rank receives its children's
partial sums (left child first), adds them, and sends the result to its parent.
Broadcast: the root's total travels back down the same edges. The whole buffer
moves on every edge in both directions, unsegmented: each non-root rank sends
``numel`` elements to its parent, and every rank sends ``numel`` elements to each
child. Latency O(log n), bandwidth term 2·S per level (not bandwidth-optimal).
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.algorithms.chunks import ByteCounts, empty_counts
from mlfleet.comm.transport.base import Transport


def _children(rank: int, n_ranks: int) -> list[int]:
    return [c for c in (2 * rank + 1, 2 * rank + 2) if c < n_ranks]


def allreduce_tree(t: Transport, x: np.ndarray) -> np.ndarray:
    """Sum of ``x`` over all ranks by binary-tree reduce + broadcast."""
    r, n = t.rank, t.world_size
    flat = x.reshape(-1).copy()
    incoming = np.empty_like(flat)
    for child in _children(r, n):
        t.recv(child, incoming)
        flat += incoming
    if r > 0:
        parent = (r - 1) // 2
        t.send(parent, flat)
        t.recv(parent, flat)
    for child in _children(r, n):
        t.send(child, flat)
    return flat.reshape(x.shape)


def predicted_bytes_allreduce_tree(n_ranks: int, numel: int, itemsize: int) -> ByteCounts:
    """Per rank, payload bytes sent to each peer by :func:`allreduce_tree`."""
    counts = empty_counts(n_ranks)
    for r in range(1, n_ranks):
        parent = (r - 1) // 2
        counts[r][parent] += numel * itemsize
        counts[parent][r] += numel * itemsize
    return counts
