"""AllGather on one class of link (α-β models).

``size_bytes`` is the gathered output per rank (n blocks of S/n), as nccl-tests
reports it. Sources: Thakur, Rabenseifner & Gropp 2005 §3.1 (ring, recursive
doubling, and Bruck's algorithm for non-powers of two).
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray
from mlfleet.comm.cost.inputs import link_terms, ranks, sizes
from mlfleet.comm.cost.rounds import ceil_log2


def ring_allgather_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                        bw_bytes_per_s: float) -> FloatArray:
    """Ring: n-1 steps, each forwarding one S/n block. T = (n-1)α + (n-1)/n·S·β."""
    n, s = ranks(n_ranks), sizes(size_bytes)
    alpha, beta, _ = link_terms(alpha_s, bw_bytes_per_s)
    return (n - 1.0) * alpha + (n - 1.0) / n * s * beta


def recursive_doubling_allgather_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *,
                                      alpha_s: float, bw_bytes_per_s: float) -> FloatArray:
    """Recursive doubling (Bruck's algorithm when n is not a power of two).

    T = ⌈lg n⌉α + (n-1)/n·S·β: the data doubles each round, so only the latency
    term differs from the ring (Thakur et al. 2005 §3.1).
    """
    n, s = ranks(n_ranks), sizes(size_bytes)
    alpha, beta, _ = link_terms(alpha_s, bw_bytes_per_s)
    return ceil_log2(n) * alpha + (n - 1.0) / n * s * beta


ALLGATHER_ALGORITHMS = {
    "ring": ring_allgather_time,
    "recursive_doubling": recursive_doubling_allgather_time,
}
"""AllGather models by name."""
