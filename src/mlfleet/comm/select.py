"""Collective algorithm selection on a topology: predicted times, the best choice, crossovers.

For ranks placed on a :class:`~mlfleet.comm.topology.Topology`, every AllReduce
algorithm gets a time from its closed form with the α and bandwidth of the links
it crosses (:mod:`mlfleet.comm.topology` explains which): small messages are
decided by the number of message rounds (recursive doubling, trees), large ones by
the bytes on the slowest link (ring, Rabenseifner, hierarchical), and multi-node
jobs by how much crosses the nodes at all (hierarchical). :func:`crossover`
finds the message sizes where the winner changes by a log-spaced sweep refined by
bisection. This mirrors what NCCL's tuner does with its own cost tables
(NCCL 2.4 blog, Jeaugey 2019) and MPICH's size thresholds (Thakur et al. 2005).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mlfleet import units
from mlfleet.checks import FloatArray, non_negative_array, one_of
from mlfleet.comm.cost.allgather import ring_allgather_time
from mlfleet.comm.cost.allreduce import (
    double_binary_tree_allreduce_time,
    ring_allreduce_time,
)
from mlfleet.comm.cost.bandwidth import algbw_bytes_per_s, busbw_bytes_per_s
from mlfleet.comm.cost.hierarchy import LevelLink, multilevel_allreduce_time
from mlfleet.comm.cost.parameter_server import parameter_server_allreduce_time
from mlfleet.comm.cost.reduce_scatter import ring_reduce_scatter_time
from mlfleet.comm.topology import (
    Topology,
    ring_link,
    schedule_time,
    step_schedule,
)
from mlfleet.errors import CommInputError

ALLREDUCE_CHOICES = ("ring", "tree", "double_binary_tree", "recursive_doubling", "rabenseifner",
                     "hierarchical", "hierarchical3", "parameter_server")
"""AllReduce algorithms the selector compares, in order of preference when times tie."""

TIE_TOLERANCE = 0.02
"""Times within 2% of the fastest count as a tie, won by the earliest in
:data:`ALLREDUCE_CHOICES`: the ring first, because it uses only neighbour links and is
contention-free on any tree topology (Patarasuk & Yuan 2009), which the α-β model
cannot see (there Rabenseifner ties the ring's bandwidth with fewer rounds)."""

TimeFn = Callable[[Topology, FloatArray], FloatArray]


def _ring(topo: Topology, size: FloatArray) -> FloatArray:
    alpha, bw = ring_link(topo)
    return ring_allreduce_time(topo.ranks, size, alpha_s=alpha, bw_bytes_per_s=bw,
                               gamma_s_per_byte=topo.gamma_s_per_byte)


def _double_binary_tree(topo: Topology, size: FloatArray) -> FloatArray:
    alpha, bw = ring_link(topo)  # pipelined like a ring: one channel per rail off-node
    return double_binary_tree_allreduce_time(topo.ranks, size, alpha_s=alpha, bw_bytes_per_s=bw,
                                             gamma_s_per_byte=topo.gamma_s_per_byte)


def _scheduled(algorithm: str) -> TimeFn:
    return lambda topo, size: schedule_time(topo, step_schedule(algorithm, topo.ranks), size)


def _hierarchy_levels(topo: Topology, *, three_level: bool) -> list[LevelLink]:
    out = [LevelLink(members=topo.local_ranks, alpha_s=topo.intra_alpha_s,
                     bw_bytes_per_s=topo.intra_bw_bytes_per_s)]
    if topo.nodes == 1:
        return out
    if three_level and topo.leaves > 1:
        return out + [
            LevelLink(members=topo.leaf_nodes, alpha_s=topo.inter_alpha_s,
                      bw_bytes_per_s=topo.inter_bw_per_gpu),
            LevelLink(members=topo.leaves, alpha_s=topo.inter_alpha_s,
                      bw_bytes_per_s=topo.spine_bw_per_gpu)]
    # one rail ring per local rank: only one hop per leaf crosses the spine
    return out + [LevelLink(members=topo.nodes, alpha_s=topo.inter_alpha_s,
                            bw_bytes_per_s=topo.inter_bw_per_gpu)]


def _parameter_server(topo: Topology, size: FloatArray, servers: int) -> FloatArray:
    multi = topo.nodes > 1
    return parameter_server_allreduce_time(
        topo.ranks, size, alpha_s=ring_link(topo)[0],
        worker_bw_bytes_per_s=topo.inter_bw_per_gpu if multi else topo.intra_bw_bytes_per_s,
        server_bw_bytes_per_s=topo.node_bw_bytes_per_s if multi else topo.intra_bw_bytes_per_s,
        servers=servers, gamma_s_per_byte=topo.gamma_s_per_byte)


def _time_fns(ps_servers: int) -> dict[str, TimeFn]:
    return {
        "ring": _ring,
        "tree": _scheduled("tree"),
        "double_binary_tree": _double_binary_tree,
        "recursive_doubling": _scheduled("recursive_doubling"),
        "rabenseifner": _scheduled("rabenseifner"),
        "hierarchical": lambda t, s: multilevel_allreduce_time(
            s, levels=_hierarchy_levels(t, three_level=False), gamma_s_per_byte=t.gamma_s_per_byte),
        "hierarchical3": lambda t, s: multilevel_allreduce_time(
            s, levels=_hierarchy_levels(t, three_level=True), gamma_s_per_byte=t.gamma_s_per_byte),
        "parameter_server": lambda t, s: _parameter_server(t, s, ps_servers),
    }


def default_algorithms(topo: Topology) -> tuple[str, ...]:
    """The algorithms worth comparing on ``topo``: hierarchical ones only where they differ
    from the flat ring (more than one node; three levels only across leaves)."""
    skip = {"hierarchical"} if topo.nodes == 1 else set()
    if topo.leaves == 1:
        skip.add("hierarchical3")
    return tuple(name for name in ALLREDUCE_CHOICES if name not in skip)


def allreduce_times(topo: Topology, size_bytes: ArrayLike, *,
                    algorithms: Sequence[str] | None = None,
                    ps_servers: int = 1) -> dict[str, FloatArray]:
    """Predicted seconds of each AllReduce algorithm on ``topo`` (vectorised over sizes).

    ``algorithms`` defaults to :func:`default_algorithms`.
    """
    names = tuple(algorithms) if algorithms is not None else default_algorithms(topo)
    for name in names:
        one_of("algorithms", name, ALLREDUCE_CHOICES, error=CommInputError)
    size = non_negative_array("size_bytes", size_bytes, error=CommInputError)
    fns = _time_fns(ps_servers)
    return {name: np.asarray(fns[name](topo, size), dtype=np.float64) for name in names}


def best_allreduce_time(topo: Topology, size_bytes: ArrayLike, *,
                        algorithms: Sequence[str] | None = None) -> FloatArray:
    """Seconds of the fastest algorithm at each size (what an ideal tuner achieves)."""
    times = allreduce_times(topo, size_bytes, algorithms=algorithms)
    return np.asarray(np.min(np.stack(list(times.values())), axis=0), dtype=np.float64)


# --- other collectives on a topology (ring schedules; AlltoAll by level) ---

def allgather_time_on(topo: Topology, size_bytes: ArrayLike) -> FloatArray:
    """Ring AllGather of ``size_bytes`` (gathered output) over all ranks of ``topo``."""
    alpha, bw = ring_link(topo)
    return ring_allgather_time(topo.ranks, size_bytes, alpha_s=alpha, bw_bytes_per_s=bw)


def reduce_scatter_time_on(topo: Topology, size_bytes: ArrayLike) -> FloatArray:
    """Ring ReduceScatter of ``size_bytes`` (input) over all ranks of ``topo``."""
    alpha, bw = ring_link(topo)
    return ring_reduce_scatter_time(topo.ranks, size_bytes, alpha_s=alpha, bw_bytes_per_s=bw,
                                    gamma_s_per_byte=topo.gamma_s_per_byte)


def alltoall_time_on(topo: Topology, size_bytes: ArrayLike, *, skew: float = 1.0) -> FloatArray:
    """Pairwise AlltoAll: g-1 rounds on NVLink, n-g off-node; NVLink, NICs and spine in parallel.

    The busiest rank moves ``skew`` times the mean (hot expert); the slowest link class
    sets the bandwidth term.
    """
    size = non_negative_array("size_bytes", size_bytes, error=CommInputError)
    n, g = topo.ranks, topo.local_ranks
    latency = (g - 1) * topo.intra_alpha_s + (n - g) * topo.inter_alpha_s
    per_link = [(g - 1) / n * size / topo.intra_bw_bytes_per_s]
    if topo.nodes > 1:
        per_link.append((n - g) / n * size / topo.inter_bw_per_gpu)
    if topo.leaves > 1:
        per_link.append((n - g * topo.leaf_nodes) / n * size / topo.spine_bw_per_gpu)
    return np.asarray(latency + skew * np.maximum.reduce(per_link), dtype=np.float64)


# --- selection for one size ---

@dataclass(frozen=True, kw_only=True)
class AlgorithmTime:
    """One algorithm's prediction at one size."""

    algorithm: str
    time_s: float
    algbw_bytes_per_s: float
    busbw_bytes_per_s: float
    latency_share: float
    """Fraction of the time that is latency (the time of a zero-byte message)."""


@dataclass(frozen=True, kw_only=True)
class Selection:
    """Every algorithm's prediction at one size, fastest first, and the choice with its reason."""

    topology: str
    ranks: int
    size_bytes: float
    rows: list[AlgorithmTime]
    best: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pick(times: FloatArray, *, tie_tolerance: float = TIE_TOLERANCE) -> FloatArray:
    """Index (along axis 0) of the chosen algorithm: the first within ``tie_tolerance`` of the
    fastest. ``times`` is (algorithms, ...) in order of preference."""
    within = times <= (1.0 + tie_tolerance) * np.min(times, axis=0)
    return np.asarray(np.argmax(within, axis=0))


def compare_allreduce(topo: Topology, size_bytes: float, *,
                      algorithms: Sequence[str] | None = None, ps_servers: int = 1,
                      tie_tolerance: float = TIE_TOLERANCE) -> Selection:
    """Predict every algorithm at ``size_bytes``; choose the fastest, ties by :func:`pick`.

    ``rows`` are sorted fastest first; ``best`` names the chosen one.
    """
    size = float(non_negative_array("size_bytes", size_bytes, error=CommInputError))
    times = allreduce_times(topo, size, algorithms=algorithms, ps_servers=ps_servers)
    zero = allreduce_times(topo, 0.0, algorithms=list(times), ps_servers=ps_servers)
    rows = [AlgorithmTime(
        algorithm=name, time_s=float(t),
        algbw_bytes_per_s=float(algbw_bytes_per_s(size, t)),
        busbw_bytes_per_s=float(busbw_bytes_per_s("allreduce", topo.ranks, size, t)),
        latency_share=float(zero[name] / t) if t > 0 else 1.0) for name, t in times.items()]
    chosen = rows[int(pick(np.array([r.time_s for r in rows]), tie_tolerance=tie_tolerance))]
    rows.sort(key=lambda r: r.time_s)
    return Selection(topology=topo.name, ranks=topo.ranks, size_bytes=size, rows=rows,
                     best=chosen.algorithm, reason=_reason(topo, size, chosen, rows))


def _reason(topo: Topology, size: float, best: AlgorithmTime, rows: list[AlgorithmTime]) -> str:
    where = f"{units.format_bytes(size)} on {topo.ranks} ranks ({topo.nodes} node(s))"
    text = f"{best.algorithm} for {where}: {units.format_duration(best.time_s)}"
    if rows[0].algorithm != best.algorithm:
        gap = best.time_s / rows[0].time_s - 1.0
        text += (f", within {gap:.1%} of {rows[0].algorithm}, a tie the contention-free "
                 "ring wins")
    elif len(rows) > 1:
        ratio = rows[1].time_s / best.time_s if best.time_s > 0 else 1.0
        text += f", {ratio:.2f}x ahead of {rows[1].algorithm}"
    if best.latency_share >= 0.5:
        return text + f"; {best.latency_share:.0%} of it is latency, so fewest message rounds win"
    if best.algorithm.startswith("hierarchical"):
        return text + "; bandwidth-bound, and only S/g per GPU crosses the slow inter-node links"
    return text + f"; {1 - best.latency_share:.0%} of it is bytes on the slowest link"


# --- crossovers ---

@dataclass(frozen=True, kw_only=True)
class SizeRange:
    """A message-size range and the algorithm that wins it."""

    from_bytes: float
    to_bytes: float
    algorithm: str


@dataclass(frozen=True, kw_only=True)
class Crossing:
    """A size where two algorithms' times are equal; ``below`` wins smaller messages."""

    first: str
    second: str
    size_bytes: float
    below: str


@dataclass(frozen=True, kw_only=True)
class Crossover:
    """The winner per size range and every pairwise crossing in [min, max] bytes."""

    topology: str
    ranks: int
    ranges: list[SizeRange]
    pairwise: list[Crossing] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _refine(same_as_left: Callable[[FloatArray], np.ndarray], lo: float, hi: float, *,
            rounds: int = 4, points: int = 33) -> float:
    """Size in [lo, hi] where ``same_as_left`` (vectorised, True at ``lo``) turns False.

    Each round evaluates ``points`` log-spaced sizes and keeps the bracket around the
    first change, so the bracket shrinks by (points - 1)^rounds (about 1e-6 here).
    """
    for _ in range(rounds):
        sizes = np.logspace(np.log10(lo), np.log10(hi), points)
        state = np.asarray(same_as_left(sizes), dtype=bool)
        flips = np.flatnonzero(~state)
        if flips.size == 0 or flips[0] == 0:
            break
        lo, hi = float(sizes[flips[0] - 1]), float(sizes[flips[0]])
    return float(np.sqrt(lo * hi))


def crossover(topo: Topology, *, min_bytes: float = 1.0, max_bytes: float = 2.0**34,
              algorithms: Sequence[str] | None = None, points_per_decade: int = 40,
              ps_servers: int = 1, tie_tolerance: float = TIE_TOLERANCE) -> Crossover:
    """Winner per size range and pairwise crossing sizes between ``min_bytes`` and ``max_bytes``.

    Ranges use :func:`pick` (ties within ``tie_tolerance`` go to the preferred algorithm);
    pairwise crossings are exact equal-time sizes. Both are found on a log-spaced sweep
    and refined to a relative error below 1e-5.
    """
    if not 0 < min_bytes < max_bytes:
        raise CommInputError(f"need 0 < min_bytes(={min_bytes:g}) < max_bytes(={max_bytes:g})")
    grid = np.logspace(np.log10(min_bytes), np.log10(max_bytes),
                       int(points_per_decade * np.log10(max_bytes / min_bytes)) + 2)
    names = list(allreduce_times(topo, 0.0, algorithms=algorithms))

    def times_at(size: ArrayLike) -> FloatArray:
        at = allreduce_times(topo, size, algorithms=names, ps_servers=ps_servers)
        return np.stack([at[n] for n in names])

    table = times_at(grid)
    winner = pick(table, tie_tolerance=tie_tolerance)
    ranges: list[SizeRange] = []
    start = float(grid[0])
    for i in np.flatnonzero(winner[1:] != winner[:-1]):
        w = int(winner[i])

        def still_winning(s: FloatArray, w: int = w) -> np.ndarray:
            return np.asarray(pick(times_at(s), tie_tolerance=tie_tolerance) == w)

        edge = _refine(still_winning, float(grid[i]), float(grid[i + 1]))
        ranges.append(SizeRange(from_bytes=start, to_bytes=edge, algorithm=names[w]))
        start = edge
    ranges.append(SizeRange(from_bytes=start, to_bytes=float(grid[-1]),
                            algorithm=names[int(winner[-1])]))
    def pair_diff(size: FloatArray, a: str, b: str) -> FloatArray:
        at = allreduce_times(topo, size, algorithms=[a, b], ps_servers=ps_servers)
        return at[a] - at[b]

    return Crossover(topology=topo.name, ranks=topo.ranks, ranges=ranges,
                     pairwise=_pairwise(names, table, grid, pair_diff))


def _pairwise(names: list[str], table: FloatArray, grid: FloatArray,
              pair_diff: Callable[[FloatArray, str, str], FloatArray]) -> list[Crossing]:
    out: list[Crossing] = []
    for (i, a), (j, b) in itertools.combinations(enumerate(names), 2):
        delta = table[i] - table[j]
        scale = np.maximum(table[i], table[j])
        sign = np.where(np.abs(delta) <= 1e-9 * scale, 0.0, np.sign(delta))
        for k in np.flatnonzero(sign[1:] * sign[:-1] < 0):
            def same(s: FloatArray, a: str = a, b: str = b, left: float = sign[k]) -> np.ndarray:
                return np.asarray(np.sign(pair_diff(s, a, b)) == left)

            size = _refine(same, float(grid[k]), float(grid[k + 1]))
            out.append(Crossing(first=a, second=b, size_bytes=size,
                                below=a if sign[k] < 0 else b))
    return sorted(out, key=lambda c: c.size_bytes)
