"""Rooted collectives, Broadcast and Reduce, on one class of link (α-β-γ models).

``size_bytes`` is the root's message. Sources: Thakur, Rabenseifner & Gropp 2005
§3.2 (binomial tree; van de Geijn's scatter + allgather for long messages) and §4.3
(Rabenseifner's reduce-scatter + gather); pipelined chains as in NCCL's ring
broadcast, with the pipeline analysis of Sanders, Speck & Träff 2009 §2.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray
from mlfleet.comm.cost.inputs import link_terms, ranks, sizes
from mlfleet.comm.cost.pipeline import pipelined_time
from mlfleet.comm.cost.rounds import ceil_log2


def binomial_broadcast_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                            bw_bytes_per_s: float) -> FloatArray:
    """Binomial tree: T = ⌈lg n⌉(α + S·β)  (Thakur et al. 2005 §3.2, short messages)."""
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, _ = link_terms(alpha_s, bw_bytes_per_s, 0.0)
    return ceil_log2(n) * (a + s * b)


def scatter_allgather_broadcast_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *,
                                     alpha_s: float, bw_bytes_per_s: float) -> FloatArray:
    """Binomial scatter then ring allgather (van de Geijn).

    T = (⌈lg n⌉ + n - 1)α + 2(n-1)/n·S·β  (Thakur et al. 2005 §3.2, long messages).
    """
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, _ = link_terms(alpha_s, bw_bytes_per_s, 0.0)
    return (ceil_log2(n) + n - 1.0) * a + 2.0 * (n - 1.0) / n * s * b


def pipelined_chain_broadcast_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                                   bw_bytes_per_s: float,
                                   chunk_bytes: float | None = None) -> FloatArray:
    """Chunks flow down a chain of n-1 hops: T = (n - 1 + k - 1)(α + S·β/k), k optimal."""
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, _ = link_terms(alpha_s, bw_bytes_per_s, 0.0)
    return pipelined_time(steps=n - 1.0, size_bytes=s, alpha_s=a, s_per_byte=b,
                          chunk_bytes=chunk_bytes)


def binomial_reduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                         bw_bytes_per_s: float, gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Binomial tree: T = ⌈lg n⌉(α + S·β + S·γ)  (Thakur et al. 2005 §4.3)."""
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, g = link_terms(alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    return ceil_log2(n) * (a + s * (b + g))


def rabenseifner_reduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                             bw_bytes_per_s: float, gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Recursive-halving reduce-scatter then binomial gather to the root.

    T = 2⌈lg n⌉α + 2(n-1)/n·S·β + (n-1)/n·S·γ  (Thakur et al. 2005 §4.3, powers of two).
    """
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, g = link_terms(alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    frac = (n - 1.0) / n
    return 2.0 * ceil_log2(n) * a + frac * s * (2.0 * b + g)


def pipelined_chain_reduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                                bw_bytes_per_s: float, gamma_s_per_byte: float = 0.0,
                                chunk_bytes: float | None = None) -> FloatArray:
    """Chunks flow up a chain, reduced at every hop: (n - 1 + k - 1)(α + S(β + γ)/k)."""
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, g = link_terms(alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    return pipelined_time(steps=n - 1.0, size_bytes=s, alpha_s=a, s_per_byte=b + g,
                          chunk_bytes=chunk_bytes)


BROADCAST_ALGORITHMS = {
    "binomial": binomial_broadcast_time,
    "scatter_allgather": scatter_allgather_broadcast_time,
    "pipelined_chain": pipelined_chain_broadcast_time,
}
"""Broadcast models by name."""

REDUCE_ALGORITHMS = {
    "binomial": binomial_reduce_time,
    "rabenseifner": rabenseifner_reduce_time,
    "pipelined_chain": pipelined_chain_reduce_time,
}
"""Reduce models by name."""
