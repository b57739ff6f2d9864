"""AllGather on one class of link (α-β models).

``size_bytes`` is the gathered output per rank (n blocks of S/n), as nccl-tests
reports it. Sources: Thakur, Rabenseifner & Gropp 2005 §3.1 (ring, recursive
doubling, and Bruck's algorithm for non-powers of two).
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from mlfleet.comm.cost.checks import (
    FloatArray,
    as_ranks,
    as_sizes,
    ceil_log2,
    non_negative,
    positive,
)


def ring_allgather_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                        bw_bytes_per_s: float) -> FloatArray:
    """Ring: n-1 steps, each forwarding one S/n block. T = (n-1)α + (n-1)/n·S·β."""
    n, s = as_ranks(n_ranks), as_sizes(size_bytes)
    beta = 1.0 / positive(bw_bytes_per_s, "bw_bytes_per_s")
    return (n - 1.0) * non_negative(alpha_s, "alpha_s") + (n - 1.0) / n * s * beta


def recursive_doubling_allgather_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *,
                                      alpha_s: float, bw_bytes_per_s: float) -> FloatArray:
    """Recursive doubling (Bruck's algorithm when n is not a power of two).

    T = ⌈lg n⌉α + (n-1)/n·S·β: the data doubles each round, so only the latency
    term differs from the ring (Thakur et al. 2005 §3.1).
    """
    n, s = as_ranks(n_ranks), as_sizes(size_bytes)
    beta = 1.0 / positive(bw_bytes_per_s, "bw_bytes_per_s")
    return ceil_log2(n) * non_negative(alpha_s, "alpha_s") + (n - 1.0) / n * s * beta


ALLGATHER_ALGORITHMS = {
    "ring": ring_allgather_time,
    "recursive_doubling": recursive_doubling_allgather_time,
}
"""AllGather models by name."""
