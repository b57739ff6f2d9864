"""The registry of collective algorithms: ``(collective, name) -> Algorithm``.

Every entry pairs the algorithm (``run(t, x, **params) -> ndarray``, written once
against :class:`~mlfleet.comm.transport.base.Transport`) with its pure byte
prediction ``predicted_bytes_sent(n_ranks, numel, itemsize, **params)``: per
rank, the payload bytes it sends to each peer in one call. ``numel`` is the
element count of one rank's input (AllGather: per-rank input; ReduceScatter: the
full input; AlltoAll: one rank's whole send buffer). Unknown names raise
:class:`~mlfleet.errors.InputError` listing the known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlfleet.comm.algorithms import (
    alltoall,
    binomial,
    builtin,
    halving_doubling,
    hierarchical,
    param_server,
    ring,
    tree,
)
from mlfleet.comm.algorithms.chunks import ByteCounts
from mlfleet.comm.algorithms.definition import COLLECTIVES
from mlfleet.comm.transport.base import Transport
from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    """One registered algorithm for one collective."""

    collective: str
    """Which collective it implements (one of ``COLLECTIVES``)."""
    name: str
    """Its name within the collective (``ring``, ``tree``, ...)."""
    run: Callable[..., np.ndarray]
    """``run(transport, x, **params) -> output`` (see each module for the output)."""
    predicted_bytes_sent: Callable[..., ByteCounts] | None
    """``(n_ranks, numel, itemsize, **params) -> per-rank {peer: bytes}``; None if unknown."""
    params: tuple[str, ...] = ()
    """Keyword parameters ``run`` and ``predicted_bytes_sent`` accept."""
    summary: str = ""
    """One line for listings."""
    backends: tuple[str, ...] = ("socket", "torch")
    """Transports it runs on."""


_ENTRIES = [
    Algorithm(collective="allreduce", name="ring", run=ring.allreduce_ring,
              predicted_bytes_sent=ring.predicted_bytes_allreduce_ring, params=("blocks",),
              summary="ring reduce-scatter + allgather (bandwidth-optimal), pipelined"),
    Algorithm(collective="allreduce", name="tree", run=tree.allreduce_tree,
              predicted_bytes_sent=tree.predicted_bytes_allreduce_tree,
              summary="binary-tree reduce to rank 0 + broadcast"),
    Algorithm(collective="allreduce", name="binomial", run=binomial.allreduce_binomial,
              predicted_bytes_sent=binomial.predicted_bytes_allreduce_binomial,
              summary="binomial-tree reduce to rank 0 + binomial broadcast"),
    Algorithm(collective="allreduce", name="rhd",
              run=halving_doubling.allreduce_halving_doubling,
              predicted_bytes_sent=halving_doubling.predicted_bytes_allreduce_halving_doubling,
              summary="recursive halving-doubling (Rabenseifner), any rank count"),
    Algorithm(collective="allreduce", name="hierarchical",
              run=hierarchical.allreduce_hierarchical,
              predicted_bytes_sent=hierarchical.predicted_bytes_allreduce_hierarchical,
              params=("ranks_per_node", "mode"),
              summary="two-level: intra-node reduce-scatter, inter-node ring, intra allgather"),
    Algorithm(collective="allreduce", name="ps", run=param_server.allreduce_param_server,
              predicted_bytes_sent=param_server.predicted_bytes_allreduce_param_server,
              params=("n_servers",), summary="parameter server: push, sum, pull"),
    Algorithm(collective="allgather", name="ring", run=ring.allgather_ring,
              predicted_bytes_sent=ring.predicted_bytes_allgather_ring, params=("blocks",),
              summary="ring, pipelined"),
    Algorithm(collective="reducescatter", name="ring", run=ring.reducescatter_ring,
              predicted_bytes_sent=ring.predicted_bytes_reducescatter_ring, params=("blocks",),
              summary="ring, pipelined"),
    Algorithm(collective="alltoall", name="pairwise", run=alltoall.alltoall_pairwise,
              predicted_bytes_sent=alltoall.predicted_bytes_alltoall_pairwise,
              params=("counts",), summary="pairwise exchange, uniform or per-destination counts"),
    Algorithm(collective="broadcast", name="binomial", run=binomial.broadcast_binomial,
              predicted_bytes_sent=binomial.predicted_bytes_broadcast_binomial,
              params=("root",), summary="binomial tree"),
    Algorithm(collective="reduce", name="binomial", run=binomial.reduce_binomial,
              predicted_bytes_sent=binomial.predicted_bytes_reduce_binomial,
              params=("root",), summary="binomial tree"),
]
_BUILTIN_PARAMS = {"alltoall": ("counts",), "broadcast": ("root",), "reduce": ("root",)}
_ENTRIES += [
    Algorithm(collective=c, name="builtin", run=fn, predicted_bytes_sent=None,
              params=_BUILTIN_PARAMS.get(c, ()), backends=("torch",),
              summary=f"torch.distributed's own {c} (gloo / NCCL)")
    for c, fn in builtin.BUILTINS.items()
]
ALGORITHMS: dict[tuple[str, str], Algorithm] = {(a.collective, a.name): a for a in _ENTRIES}
DEFAULT_ALGORITHM = {"allreduce": "ring", "allgather": "ring", "reducescatter": "ring",
                     "alltoall": "pairwise", "broadcast": "binomial", "reduce": "binomial"}


def check_collective(collective: str) -> str:
    """Return ``collective`` or raise InputError listing the known ones."""
    if collective not in COLLECTIVES:
        raise InputError(f"unknown collective {collective!r}; known: {', '.join(COLLECTIVES)}")
    return collective


def algorithm_names(collective: str) -> list[str]:
    """Names of the algorithms registered for ``collective``."""
    check_collective(collective)
    return [name for c, name in ALGORITHMS if c == collective]


def get_algorithm(collective: str, name: str) -> Algorithm:
    """The registered algorithm, or InputError naming the known ones."""
    try:
        return ALGORITHMS[(check_collective(collective), name)]
    except KeyError:
        known = ", ".join(algorithm_names(collective))
        raise InputError(f"unknown {collective} algorithm {name!r}; known: {known}") from None


def check_params(algorithm: Algorithm, params: dict[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values; raise InputError for a parameter the algorithm does not take."""
    given = {k: v for k, v in params.items() if v is not None}
    unknown = sorted(set(given) - set(algorithm.params))
    if unknown:
        allowed = ", ".join(algorithm.params) or "none"
        raise InputError(f"{algorithm.collective}/{algorithm.name} takes no parameter "
                         f"{unknown[0]!r}; it takes: {allowed}")
    return given


def run_collective(t: Transport, collective: str, name: str, x: np.ndarray,
                   **params: Any) -> np.ndarray:
    """Run ``collective`` with algorithm ``name`` on ``x`` (one call, all ranks)."""
    algorithm = get_algorithm(collective, name)
    return algorithm.run(t, x, **check_params(algorithm, params))


def predicted_bytes_sent(collective: str, name: str, n_ranks: int, numel: int, itemsize: int,
                         **params: Any) -> ByteCounts:
    """Per rank, predicted payload bytes to each peer for one call (InputError if unknown)."""
    algorithm = get_algorithm(collective, name)
    if algorithm.predicted_bytes_sent is None:
        raise InputError(f"{collective}/{name} has no byte prediction (it bypasses the transport)")
    return algorithm.predicted_bytes_sent(n_ranks, numel, itemsize,
                                          **check_params(algorithm, params))
