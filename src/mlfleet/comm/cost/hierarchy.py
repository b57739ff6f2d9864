"""Hierarchical (multi-level) AllReduce: reduce-scatter down the levels, allreduce at the top, allgather back up.

Levels run from the innermost (GPUs in a node, on NVLink/NVSwitch) outwards (nodes
in a rack/leaf on InfiniBand, racks across the spine). Level l has m_l members
and each rank handles S_l = S / (m_1 ··· m_{l-1}) bytes there. A ring
reduce-scatter plus ring allgather at level l costs exactly a ring AllReduce of
S_l among m_l ranks, so

    T = Σ_l [2(m_l - 1)α_l + 2(m_l - 1)/m_l·S_l·β_l + (m_l - 1)/m_l·S_l·γ]

with the outermost level optionally using another AllReduce algorithm. β_l is
per GPU: at level l > 1 every GPU of a node runs its own ring at once, so it gets
its share of the node's NICs (rails / GPUs per node). A level with one member
costs nothing, so one node reduces to the flat ring.

Sources: Sergeev & Del Balso 2018, "Horovod: fast and easy distributed deep
learning in TensorFlow", arXiv:1802.05799 (hierarchical allreduce: intra-node
NCCL, inter-node MPI); Thakur, Rabenseifner & Gropp 2005 (the ring phases);
Patarasuk & Yuan 2009 (ring bandwidth optimality within a level).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, non_negative, one_of, positive, positive_int
from mlfleet.comm.cost.allreduce import ALLREDUCE_ALGORITHMS
from mlfleet.comm.cost.inputs import sizes
from mlfleet.errors import CommInputError


@dataclass(frozen=True, kw_only=True)
class LevelLink:
    """One level of a hierarchy as the cost model sees it."""

    members: int
    """Ranks (or groups) that meet at this level: GPUs per node, nodes per rack, racks."""
    alpha_s: float
    """Per-message latency on this level's links."""
    bw_bytes_per_s: float
    """Per-GPU bandwidth at this level, per direction."""

    def __post_init__(self) -> None:
        positive_int("members", self.members, error=CommInputError)
        positive("bw_bytes_per_s", self.bw_bytes_per_s, error=CommInputError)
        non_negative("alpha_s", self.alpha_s, error=CommInputError)


def _ring_level(level: LevelLink, size: FloatArray, gamma: float) -> FloatArray:
    m = float(level.members)
    frac = (m - 1.0) / m
    return (2.0 * (m - 1.0) * level.alpha_s + 2.0 * frac * size / level.bw_bytes_per_s
            + frac * size * gamma)


def multilevel_allreduce_time(size_bytes: ArrayLike, *, levels: Sequence[LevelLink],
                              gamma_s_per_byte: float = 0.0,
                              top_algorithm: str = "ring") -> FloatArray:
    """Seconds for a hierarchical AllReduce over ``levels`` (innermost first).

    The outermost level with more than one member runs ``top_algorithm`` (a name in
    ``ALLREDUCE_ALGORITHMS``); every other level runs ring reduce-scatter/allgather.
    """
    one_of("top_algorithm", top_algorithm, ALLREDUCE_ALGORITHMS, error=CommInputError)
    size = sizes(size_bytes)
    active = [lv for lv in levels if lv.members > 1]
    total = np.zeros_like(size)
    shard = size.copy()
    for i, level in enumerate(active):
        if i == len(active) - 1 and top_algorithm != "ring":
            total = total + ALLREDUCE_ALGORITHMS[top_algorithm](
                level.members, shard, alpha_s=level.alpha_s,
                bw_bytes_per_s=level.bw_bytes_per_s, gamma_s_per_byte=gamma_s_per_byte)
        else:
            total = total + _ring_level(level, shard, gamma_s_per_byte)
        shard = shard / level.members
    return total


def hierarchical_allreduce_time(size_bytes: ArrayLike, *, gpus_per_node: int, nodes: int,
                                intra_alpha_s: float, intra_bw_bytes_per_s: float,
                                inter_alpha_s: float, inter_bw_bytes_per_s: float,
                                gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Two levels: ring RS inside the node, ring AllReduce of S/g across nodes, ring AG.

    T = 2(g-1)α₁ + 2(g-1)/g·S·β₁ + 2(N-1)α₂ + 2(N-1)/N·(S/g)·β₂ (+ γ terms), with β₂ the
    per-GPU share of the node's scale-out bandwidth (Sergeev & Del Balso 2018).
    """
    return multilevel_allreduce_time(size_bytes, levels=[
        LevelLink(members=gpus_per_node, alpha_s=intra_alpha_s, bw_bytes_per_s=intra_bw_bytes_per_s),
        LevelLink(members=nodes, alpha_s=inter_alpha_s, bw_bytes_per_s=inter_bw_bytes_per_s),
    ], gamma_s_per_byte=gamma_s_per_byte)


def rack_aware_allreduce_time(size_bytes: ArrayLike, *, gpus_per_node: int, nodes_per_rack: int,
                              racks: int, intra_alpha_s: float, intra_bw_bytes_per_s: float,
                              rack_alpha_s: float, rack_bw_bytes_per_s: float,
                              spine_alpha_s: float, spine_bw_bytes_per_s: float,
                              gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Three levels: node (NVLink), rack/leaf (IB, non-blocking), spine (IB, oversubscribed).

    Only S/(g·nodes_per_rack) per GPU crosses the spine, so an oversubscribed spine
    costs little; the latency term is 2(g-1)α₁ + 2(r-1)α₂ + 2(R-1)α₃ instead of a
    flat ring's 2(n-1)α.
    """
    return multilevel_allreduce_time(size_bytes, levels=[
        LevelLink(members=gpus_per_node, alpha_s=intra_alpha_s, bw_bytes_per_s=intra_bw_bytes_per_s),
        LevelLink(members=nodes_per_rack, alpha_s=rack_alpha_s, bw_bytes_per_s=rack_bw_bytes_per_s),
        LevelLink(members=racks, alpha_s=spine_alpha_s, bw_bytes_per_s=spine_bw_bytes_per_s),
    ], gamma_s_per_byte=gamma_s_per_byte)
