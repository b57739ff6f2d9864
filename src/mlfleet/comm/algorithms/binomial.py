"""Binomial-tree Broadcast and Reduce, rooted at any rank.

Source: MPICH's binomial algorithms (Thakur, Rabenseifner & Gropp, IJHPCA 2005).

Ranks are renumbered relative to the root, ``v = (rank - root) % n``.
Broadcast: ``v`` receives from ``v - m`` where ``m`` is the lowest set bit of
``v``, then sends to ``v + m'`` for each power of two ``m' < m`` (largest first)
with ``v + m' < n``. Reduce is the mirror image: for ``m = 1, 2, 4, ...`` a rank
with bit ``m`` clear receives (and adds) the partial sum of ``v | m`` if that
exists, and a rank with bit ``m`` set sends its partial sum to ``v - m`` and
stops. Every edge carries the whole buffer once: ``n - 1`` messages of ``numel``
elements, ``ceil(log2 n)`` rounds. Non-root ranks of a Reduce return their input
unchanged. ``allreduce_binomial`` is Reduce to rank 0 followed by Broadcast from it
(the unpipelined "tree" AllReduce of the cost models).
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.algorithms.chunks import ByteCounts, empty_counts
from mlfleet.comm.transport.base import Transport
from mlfleet.errors import InputError


def check_root(root: int, n_ranks: int) -> None:
    """Raise InputError unless ``0 <= root < n_ranks``."""
    if not 0 <= root < n_ranks:
        raise InputError(f"root(={root!r}) must be a rank in 0..{n_ranks - 1}")


def broadcast_edges(n_ranks: int, root: int = 0) -> list[tuple[int, int]]:
    """``(sender, receiver)`` pairs of the binomial broadcast, in rank numbering."""
    check_root(root, n_ranks)
    edges = []
    for v in range(1, n_ranks):
        low_bit = v & -v
        edges.append(((v - low_bit + root) % n_ranks, (v + root) % n_ranks))
    return edges


def broadcast_binomial(t: Transport, x: np.ndarray, *, root: int = 0) -> np.ndarray:
    """The root's ``x`` on every rank."""
    n = t.world_size
    check_root(root, n)
    v = (t.rank - root) % n
    buf = x.reshape(-1).copy()
    mask = 1
    while mask < n:
        if v & mask:
            t.recv((v - mask + root) % n, buf)
            break
        mask <<= 1
    mask >>= 1
    while mask > 0:
        if v + mask < n:
            t.send((v + mask + root) % n, buf)
        mask >>= 1
    return buf.reshape(x.shape)


def reduce_binomial(t: Transport, x: np.ndarray, *, root: int = 0) -> np.ndarray:
    """Sum of ``x`` over all ranks on ``root``; other ranks get their input back."""
    n = t.world_size
    check_root(root, n)
    v = (t.rank - root) % n
    acc = x.reshape(-1).copy()
    incoming = np.empty_like(acc)
    mask = 1
    while mask < n:
        if v & mask:
            t.send((v - mask + root) % n, acc)
            break
        if v | mask < n:
            t.recv(((v | mask) + root) % n, incoming)
            acc += incoming
        mask <<= 1
    return acc.reshape(x.shape) if t.rank == root else x.copy()


def allreduce_binomial(t: Transport, x: np.ndarray) -> np.ndarray:
    """Sum of ``x`` over all ranks: binomial Reduce to rank 0, then binomial Broadcast."""
    return broadcast_binomial(t, reduce_binomial(t, x, root=0), root=0)


def predicted_bytes_broadcast_binomial(n_ranks: int, numel: int, itemsize: int, *,
                                       root: int = 0) -> ByteCounts:
    """Per rank, payload bytes sent to each peer by :func:`broadcast_binomial`."""
    counts = empty_counts(n_ranks)
    for sender, receiver in broadcast_edges(n_ranks, root):
        counts[sender][receiver] += numel * itemsize
    return counts


def predicted_bytes_reduce_binomial(n_ranks: int, numel: int, itemsize: int, *,
                                    root: int = 0) -> ByteCounts:
    """Per rank, payload bytes sent by :func:`reduce_binomial`: the broadcast edges reversed."""
    counts = empty_counts(n_ranks)
    for parent, child in broadcast_edges(n_ranks, root):
        counts[child][parent] += numel * itemsize
    return counts


def predicted_bytes_allreduce_binomial(n_ranks: int, numel: int, itemsize: int) -> ByteCounts:
    """Per rank, payload bytes sent by :func:`allreduce_binomial`: every tree edge, both ways."""
    counts = predicted_bytes_reduce_binomial(n_ranks, numel, itemsize)
    for rank, per_peer in enumerate(predicted_bytes_broadcast_binomial(n_ranks, numel, itemsize)):
        for peer, n_bytes in per_peer.items():
            counts[rank][peer] += n_bytes
    return counts
