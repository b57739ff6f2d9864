"""Closed-form cost models of collective operations (the "model" fidelity of chapter 5).

One module per collective family: :mod:`allreduce`, :mod:`allgather`,
:mod:`reduce_scatter`, :mod:`alltoall`, :mod:`broadcast` (Broadcast and Reduce),
:mod:`hierarchy` (multi-level AllReduce), :mod:`parameter_server`, plus
:mod:`bandwidth` (algbw/busbw as nccl-tests defines them). Every model is a pure,
vectorised function of explicit numbers: ranks, bytes, α (s), B (bytes/s), γ (s/byte).

:func:`collective_time` and :func:`allreduce_time` are the entry points for a
single link class (one α, one B), e.g. to put a prediction beside a measurement.
Topology-aware times (NVLink inside a node, InfiniBand between nodes) are in
:mod:`mlfleet.comm.select`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, one_of
from mlfleet.comm.cost.allgather import ALLGATHER_ALGORITHMS
from mlfleet.comm.cost.allreduce import ALLREDUCE_ALGORITHMS
from mlfleet.comm.cost.alltoall import ALLTOALL_ALGORITHMS
from mlfleet.comm.cost.bandwidth import (
    COLLECTIVES,
    algbw_bytes_per_s,
    bus_factor,
    busbw_bytes_per_s,
)
from mlfleet.comm.cost.broadcast import BROADCAST_ALGORITHMS, REDUCE_ALGORITHMS
from mlfleet.comm.cost.hierarchy import hierarchical_allreduce_time
from mlfleet.comm.cost.inputs import ranks
from mlfleet.comm.cost.parameter_server import parameter_server_allreduce_time
from mlfleet.comm.cost.reduce_scatter import REDUCE_SCATTER_ALGORITHMS
from mlfleet.errors import CommInputError

__all__ = [
    "ALGORITHMS", "COLLECTIVES", "CommInputError", "algbw_bytes_per_s", "allreduce_time",
    "bus_factor", "busbw_bytes_per_s", "collective_time",
]

_REDUCING = ("allreduce", "reduce_scatter", "reduce")

ALGORITHMS: dict[str, tuple[str, ...]] = {
    "allreduce": (*ALLREDUCE_ALGORITHMS, "hierarchical", "parameter_server"),
    "allgather": tuple(ALLGATHER_ALGORITHMS),
    "reduce_scatter": tuple(REDUCE_SCATTER_ALGORITHMS),
    "alltoall": tuple(ALLTOALL_ALGORITHMS),
    "broadcast": tuple(BROADCAST_ALGORITHMS),
    "reduce": tuple(REDUCE_ALGORITHMS),
}
"""Algorithm names per collective, as :func:`collective_time` accepts them."""

_TABLES: dict[str, dict[str, Callable[..., FloatArray]]] = {
    "allreduce": ALLREDUCE_ALGORITHMS, "allgather": ALLGATHER_ALGORITHMS,
    "reduce_scatter": REDUCE_SCATTER_ALGORITHMS, "alltoall": ALLTOALL_ALGORITHMS,
    "broadcast": BROADCAST_ALGORITHMS, "reduce": REDUCE_ALGORITHMS,
}


def allreduce_time(algorithm: str, n_ranks: ArrayLike, size_bytes: ArrayLike, *,
                   alpha_s: float, bw_bytes_per_s: float, gamma_s_per_byte: float = 0.0,
                   ranks_per_node: int | None = None, servers: int = 1) -> FloatArray:
    """Predicted seconds of AllReduce ``algorithm`` with every link of latency α and bandwidth B.

    ``hierarchical`` needs ``ranks_per_node`` (dividing n); both of its levels then use
    the same α and B. ``parameter_server`` uses ``servers`` dedicated shards with the
    workers' bandwidth. Raises CommInputError for an unknown algorithm (listing the
    known ones), n < 2, a negative size or a non-positive bandwidth.
    """
    return collective_time("allreduce", algorithm, n_ranks, size_bytes, alpha_s=alpha_s,
                           bw_bytes_per_s=bw_bytes_per_s, gamma_s_per_byte=gamma_s_per_byte,
                           ranks_per_node=ranks_per_node, servers=servers)


def collective_time(collective: str, algorithm: str, n_ranks: ArrayLike, size_bytes: ArrayLike,
                    *, alpha_s: float, bw_bytes_per_s: float, gamma_s_per_byte: float = 0.0,
                    skew: ArrayLike = 1.0, ranks_per_node: int | None = None,
                    servers: int = 1) -> FloatArray:
    """Predicted seconds of ``collective`` by ``algorithm`` on one link class.

    ``size_bytes`` follows nccl-tests: the per-rank buffer for AllReduce, the gathered
    output for AllGather, the input for ReduceScatter, the total sent per rank for
    AlltoAll, the root's message for Broadcast/Reduce. ``gamma_s_per_byte`` applies to
    reducing collectives, ``skew`` (max/mean load >= 1) to AlltoAll.
    """
    one_of("collective", collective, COLLECTIVES, error=CommInputError)
    one_of("algorithm", algorithm, ALGORITHMS[collective], error=CommInputError)
    link = {"alpha_s": alpha_s, "bw_bytes_per_s": bw_bytes_per_s}
    if algorithm == "hierarchical":
        return _flat_hierarchical(n_ranks, size_bytes, ranks_per_node, link, gamma_s_per_byte)
    if algorithm == "parameter_server":
        return parameter_server_allreduce_time(
            n_ranks, size_bytes, alpha_s=alpha_s, worker_bw_bytes_per_s=bw_bytes_per_s,
            servers=servers, gamma_s_per_byte=gamma_s_per_byte)
    fn = _TABLES[collective][algorithm]
    if collective in _REDUCING:
        return fn(n_ranks, size_bytes, gamma_s_per_byte=gamma_s_per_byte, **link)
    if collective == "alltoall":
        return fn(n_ranks, size_bytes, skew=skew, **link)
    return fn(n_ranks, size_bytes, **link)


def _flat_hierarchical(n_ranks: ArrayLike, size_bytes: ArrayLike, ranks_per_node: int | None,
                       link: dict[str, float], gamma_s_per_byte: float) -> FloatArray:
    n = ranks(n_ranks)
    if ranks_per_node is None or ranks_per_node < 1 or np.any(n % ranks_per_node):
        raise CommInputError(
            f"ranks_per_node(={ranks_per_node!r}) must be given and divide n_ranks "
            f"(={n.tolist()!r}) for algorithm 'hierarchical'")
    if n.ndim:
        return np.asarray([_flat_hierarchical(float(x), size_bytes, ranks_per_node, link,
                                              gamma_s_per_byte) for x in n])
    return hierarchical_allreduce_time(
        size_bytes, gpus_per_node=ranks_per_node, nodes=int(n) // ranks_per_node,
        intra_alpha_s=link["alpha_s"], intra_bw_bytes_per_s=link["bw_bytes_per_s"],
        inter_alpha_s=link["alpha_s"], inter_bw_bytes_per_s=link["bw_bytes_per_s"],
        gamma_s_per_byte=gamma_s_per_byte)
