"""Parameter-server AllReduce: workers push to servers, servers sum, workers pull.

Source: Li et al., "Scaling distributed machine learning with the parameter
server", OSDI 2014 (here the synchronous, sum-only core).

Ranks ``0 .. n_servers - 1`` are servers and also workers (co-located servers;
for a dedicated server give it a zero buffer). The flat buffer is cut into
``n_servers`` shards (array_split); shard ``s`` lives on server ``s``.

1. Push: every rank sends shard ``s`` to server ``s`` (all ``s`` != itself);
   each server receives that shard from every other rank, all at once
   (``Transport.exchange``), and sums them in rank order.
2. Pull: every server sends its summed shard to every other rank.

Per rank sent: ``|shard s|`` to each other server ``s`` (push), and for a server
``s``, ``|shard s|`` to each of the ``n - 1`` other ranks (pull). With one server
its link carries ``2(n-1)·S`` bytes: the scalability ceiling of the design.
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.algorithms.chunks import ByteCounts, chunk_bounds, chunk_sizes, empty_counts
from mlfleet.comm.transport.base import Transport
from mlfleet.errors import InputError


def _check_servers(n_servers: int, n_ranks: int) -> None:
    if not isinstance(n_servers, int) or not 1 <= n_servers <= n_ranks:
        raise InputError(f"n_servers(={n_servers!r}) must be in 1..{n_ranks}")


def allreduce_param_server(t: Transport, x: np.ndarray, *, n_servers: int = 1) -> np.ndarray:
    """Sum of ``x`` over all ranks through ``n_servers`` parameter servers."""
    n, r = t.world_size, t.rank
    _check_servers(n_servers, n)
    flat = x.reshape(-1).copy()
    shards = [flat[lo:hi] for lo, hi in chunk_bounds(flat.size, n_servers)]
    others = [w for w in range(n) if w != r]
    is_server = r < n_servers
    pushes = [(s, shards[s]) for s in range(n_servers) if s != r]
    incoming = [(w, np.empty_like(shards[r])) for w in others] if is_server else []
    t.exchange(pushes, incoming)
    if is_server:
        for _, part in incoming:
            shards[r] += part
    pulls = [(w, shards[r]) for w in others] if is_server else []
    t.exchange(pulls, [(s, shards[s]) for s in range(n_servers) if s != r])
    return flat.reshape(x.shape)


def predicted_bytes_allreduce_param_server(n_ranks: int, numel: int, itemsize: int, *,
                                           n_servers: int = 1) -> ByteCounts:
    """Per rank, payload bytes sent to each peer by :func:`allreduce_param_server`."""
    _check_servers(n_servers, n_ranks)
    sizes = chunk_sizes(numel, n_servers)
    counts = empty_counts(n_ranks)
    for s in range(n_servers):
        for w in range(n_ranks):
            if w != s:
                counts[w][s] += sizes[s] * itemsize
                counts[s][w] += sizes[s] * itemsize
    return counts
