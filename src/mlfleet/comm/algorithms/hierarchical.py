"""Two-level (hierarchical) AllReduce: fast links inside a node, slow links between.

Source: the 2D / hierarchical allreduce of Horovod and NCCL (Sergeev & Del Balso,
"Horovod", 2018; Jia et al., "Highly scalable deep learning training system with
mixed-precision", 2018).

Ranks are grouped into nodes of ``ranks_per_node = g`` consecutive ranks (node
``k`` = ranks ``k·g .. k·g + g - 1``; ``n`` must be a multiple of ``g``); the rank
with local index ``l`` in every node forms inter-node group ``l``.

``mode="shard"`` (bandwidth-optimal, default):
  1. intra-node ring reduce-scatter of the flat buffer cut into ``g`` chunks
     (array_split; local rank ``l`` owns chunk ``l``);
  2. inter-node ring AllReduce of chunk ``l`` among the ranks with local index ``l``
     (that chunk cut again into ``n/g`` pieces, array_split);
  3. intra-node ring allgather of the ``g`` chunks.
``mode="leader"``:
  1. intra-node binomial Reduce to local rank 0 (the node leader);
  2. ring AllReduce of the whole buffer among the leaders;
  3. intra-node binomial Broadcast from the leader.

Every step is the flat algorithm of ``ring.py`` / ``binomial.py`` run on a
:class:`~mlfleet.comm.transport.group.GroupTransport`, so the byte prediction is
those algorithms' predictions mapped onto world ranks.
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.algorithms.binomial import (
    broadcast_binomial,
    predicted_bytes_broadcast_binomial,
    predicted_bytes_reduce_binomial,
    reduce_binomial,
)
from mlfleet.comm.algorithms.chunks import (
    ByteCounts,
    chunk_bounds,
    chunk_sizes,
    embed,
    empty_counts,
)
from mlfleet.comm.algorithms.ring import (
    allreduce_ring,
    predicted_bytes_allreduce_ring,
    predicted_bytes_reducescatter_ring,
    ring_allgather_inplace,
    ring_reduce_scatter_inplace,
)
from mlfleet.comm.transport.base import Transport
from mlfleet.comm.transport.group import GroupTransport
from mlfleet.errors import InputError

MODES = ("shard", "leader")


def node_groups(n_ranks: int, ranks_per_node: int) -> tuple[list[list[int]], list[list[int]]]:
    """``(intra, inter)``: the ranks of each node, and of each local index across nodes."""
    if not isinstance(ranks_per_node, int) or ranks_per_node < 1 or n_ranks % ranks_per_node:
        raise InputError(f"ranks_per_node(={ranks_per_node!r}) must divide the rank count "
                         f"{n_ranks}")
    g, n_nodes = ranks_per_node, n_ranks // ranks_per_node
    intra = [list(range(k * g, (k + 1) * g)) for k in range(n_nodes)]
    inter = [[k * g + local for k in range(n_nodes)] for local in range(g)]
    return intra, inter


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InputError(f"mode(={mode!r}) must be one of {', '.join(MODES)}")


def allreduce_hierarchical(t: Transport, x: np.ndarray, *, ranks_per_node: int = 2,
                           mode: str = "shard") -> np.ndarray:
    """Sum of ``x`` over all ranks, two-level (see the module docstring)."""
    _check_mode(mode)
    intra_ranks, inter_ranks = node_groups(t.world_size, ranks_per_node)
    node, local = divmod(t.rank, ranks_per_node)
    intra = GroupTransport(t, intra_ranks[node])
    inter = GroupTransport(t, inter_ranks[local])
    flat = x.reshape(-1).copy()
    if mode == "leader":
        partial = reduce_binomial(intra, flat, root=0)
        if local == 0:
            partial = allreduce_ring(inter, partial)
        return broadcast_binomial(intra, partial, root=0).reshape(x.shape)
    bounds = chunk_bounds(flat.size, ranks_per_node)
    ring_reduce_scatter_inplace(intra, flat, bounds)
    lo, hi = bounds[local]
    flat[lo:hi] = allreduce_ring(inter, flat[lo:hi])
    ring_allgather_inplace(intra, flat, bounds)
    return flat.reshape(x.shape)


def predicted_bytes_allreduce_hierarchical(n_ranks: int, numel: int, itemsize: int, *,
                                           ranks_per_node: int = 2,
                                           mode: str = "shard") -> ByteCounts:
    """Per rank, payload bytes sent to each peer by :func:`allreduce_hierarchical`."""
    _check_mode(mode)
    intra, inter = node_groups(n_ranks, ranks_per_node)
    g, n_nodes = ranks_per_node, n_ranks // ranks_per_node
    counts = empty_counts(n_ranks)
    if mode == "leader":
        for ranks in intra:
            embed(counts, predicted_bytes_reduce_binomial(g, numel, itemsize), ranks)
            embed(counts, predicted_bytes_broadcast_binomial(g, numel, itemsize), ranks)
        embed(counts, predicted_bytes_allreduce_ring(n_nodes, numel, itemsize), inter[0])
        return counts
    for ranks in intra:
        embed(counts, predicted_bytes_reducescatter_ring(g, numel, itemsize), ranks)
        _add_allgather_of_chunks(counts, ranks, numel, itemsize)
    for local, ranks in enumerate(inter):
        shard = chunk_sizes(numel, g)[local]
        embed(counts, predicted_bytes_allreduce_ring(n_nodes, shard, itemsize), ranks)
    return counts


def _add_allgather_of_chunks(counts: ByteCounts, ranks: list[int], numel: int,
                             itemsize: int) -> None:
    """Ring allgather of unequal array_split chunks: rank l sends all but chunk l+1."""
    g = len(ranks)
    if g == 1:
        return
    sizes = chunk_sizes(numel, g)
    for local, rank in enumerate(ranks):
        right = (local + 1) % g
        counts[rank][ranks[right]] += itemsize * (numel - sizes[right])

