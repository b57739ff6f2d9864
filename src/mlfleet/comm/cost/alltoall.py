"""AlltoAll (personalised exchange) on one class of link, uniform or skewed.

``size_bytes`` is what each rank sends in total (S/n to every rank, itself
included), as nccl-tests reports it. ``skew`` is the busiest rank's traffic over
the mean (1 = uniform): in MoE a hot expert's rank receives ``skew`` times the
average, and the exchange ends when the busiest rank is done, so the bandwidth term
scales by the max, not the mean. Sources: Thakur, Rabenseifner & Gropp 2005 §3.7
(pairwise exchange for long messages, Bruck for short).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray
from mlfleet.comm.cost.inputs import link_terms, ranks, sizes
from mlfleet.comm.cost.rounds import ceil_log2
from mlfleet.errors import CommInputError


def _skew(skew: ArrayLike) -> FloatArray:
    values = np.asarray(skew, dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 1.0)
    if bad.any():
        raise CommInputError(f"skew(={values[bad].flat[0]:g}) must be >= 1 (max/mean load)")
    return values


def pairwise_alltoall_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                           bw_bytes_per_s: float, skew: ArrayLike = 1.0) -> FloatArray:
    """Pairwise exchange: n-1 rounds, one S/n block to and from a different peer each.

    T = (n-1)α + skew·(n-1)/n·S·β.
    """
    n, s = ranks(n_ranks), sizes(size_bytes)
    alpha, beta, _ = link_terms(alpha_s, bw_bytes_per_s)
    return (n - 1.0) * alpha + _skew(skew) * (n - 1.0) / n * s * beta


def bruck_alltoall_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                        bw_bytes_per_s: float, skew: ArrayLike = 1.0) -> FloatArray:
    """Bruck: ⌈lg n⌉ rounds, each forwarding half of all blocks.

    T = ⌈lg n⌉(α + skew·S/2·β): fewer messages, more bytes (store-and-forward).
    """
    n, s = ranks(n_ranks), sizes(size_bytes)
    alpha, beta, _ = link_terms(alpha_s, bw_bytes_per_s)
    return ceil_log2(n) * (alpha + _skew(skew) * s / 2.0 * beta)


def skew_from_loads(loads: ArrayLike) -> float:
    """Max over mean of per-rank loads (tokens or bytes); CommInputError if empty or all zero."""
    values = np.asarray(loads, dtype=np.float64)
    if values.size == 0 or values.mean() <= 0 or (values < 0).any():
        raise CommInputError(f"loads(={values.tolist()!r}) must be non-empty, >= 0, not all 0")
    return float(values.max() / values.mean())


ALLTOALL_ALGORITHMS = {
    "pairwise": pairwise_alltoall_time,
    "bruck": bruck_alltoall_time,
}
"""AlltoAll models by name."""
