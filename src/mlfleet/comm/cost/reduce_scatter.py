"""ReduceScatter on one class of link (α-β-γ models).

``size_bytes`` is each rank's input (n blocks; each rank ends with one reduced
S/n block), as nccl-tests reports it. Sources: Thakur, Rabenseifner & Gropp 2005
§4.1 (ring / pairwise, recursive halving, and folding for non-powers of two).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray
from mlfleet.comm.cost.inputs import link_terms, ranks, sizes
from mlfleet.comm.cost.rounds import floor_pow2


def ring_reduce_scatter_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                             bw_bytes_per_s: float,
                             gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Ring: n-1 steps, each sending and reducing one S/n block.

    T = (n-1)α + (n-1)/n·S·(β + γ).
    """
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, g = link_terms(alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    return (n - 1.0) * a + (n - 1.0) / n * s * (b + g)


def recursive_halving_reduce_scatter_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *,
                                          alpha_s: float, bw_bytes_per_s: float,
                                          gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Recursive halving: lg p' rounds exchanging half of what is left.

    T = lg p'·α + (p'-1)/p'·S·(β + γ), p' = 2^⌊lg n⌋; when n ≠ p' the n - p' surplus
    ranks first fold their vector into a partner (α + S(β + γ)) and get their block
    back at the end (α + S/n·β)  (Thakur et al. 2005 §4.1, §4.4).
    """
    n, s = ranks(n_ranks), sizes(size_bytes)
    a, b, g = link_terms(alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    p2 = floor_pow2(n)
    extra = np.where(n > p2, 2.0 * a + s * (b + g) + s / n * b, 0.0)
    return np.log2(p2) * a + (p2 - 1.0) / p2 * s * (b + g) + extra


REDUCE_SCATTER_ALGORITHMS = {
    "ring": ring_reduce_scatter_time,
    "recursive_halving": recursive_halving_reduce_scatter_time,
}
"""ReduceScatter models by name."""
