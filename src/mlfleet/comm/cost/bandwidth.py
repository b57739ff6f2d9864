"""Algorithm bandwidth and bus bandwidth, as nccl-tests reports them.

algbw = S / t. busbw = algbw × a factor that makes the number comparable to the
hardware's peak link bandwidth whatever the rank count: the fraction of S each rank
must move over its busiest link in an optimal algorithm. Source: NVIDIA nccl-tests,
doc/PERFORMANCE.md ("Bus bandwidth").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, one_of
from mlfleet.comm.cost.inputs import ranks, sizes
from mlfleet.errors import CommInputError

COLLECTIVES = ("allreduce", "allgather", "reduce_scatter", "alltoall", "broadcast", "reduce")
"""Collective names the models and helpers know."""


def bus_factor(collective: str, n_ranks: ArrayLike) -> FloatArray:
    """busbw/algbw: 2(n-1)/n for AllReduce, (n-1)/n for AllGather, ReduceScatter and
    AlltoAll, 1 for Broadcast and Reduce (nccl-tests PERFORMANCE.md)."""
    one_of("collective", collective, COLLECTIVES, error=CommInputError)
    n = ranks(n_ranks, minimum=1)
    if collective == "allreduce":
        return 2.0 * (n - 1.0) / n
    if collective in ("allgather", "reduce_scatter", "alltoall"):
        return (n - 1.0) / n
    return np.ones_like(n)


def algbw_bytes_per_s(size_bytes: ArrayLike, time_s: ArrayLike) -> FloatArray:
    """Algorithm bandwidth S / t (inf where t == 0)."""
    s = sizes(size_bytes)
    t = np.asarray(time_s, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t > 0, s / np.where(t > 0, t, 1.0), np.inf)


def busbw_bytes_per_s(collective: str, n_ranks: ArrayLike, size_bytes: ArrayLike,
                      time_s: ArrayLike) -> FloatArray:
    """Bus bandwidth: algbw × :func:`bus_factor` (nccl-tests PERFORMANCE.md)."""
    return algbw_bytes_per_s(size_bytes, time_s) * bus_factor(collective, n_ranks)
