"""Where a job's GPUs go: the placement helpers every policy shares.

Free capacity is a list of free GPUs per node (``free[n]``); a placement is the sorted
node index of each GPU held (:data:`~mlfleet.infra.scheduling.types.Placement`).

- :func:`pack`: fewest nodes, then best fit (the fullest nodes that still take the
  job), so large holes stay open for large jobs. Tiresias and the Pollux artifact's
  baselines place this way; it keeps the gradient AllReduce inside a node when it can.
- :func:`spread`: one GPU per node, the emptiest nodes first (load balancing across
  nodes at the price of locality).
- :func:`consolidation_moves`: Gandiva's migration, jobs spread over more nodes than
  they need that now fit on the minimum (Xiao et al., OSDI'18, Sec. 3.3).
- :func:`fastest`: the candidate placement with the highest throughput by the engine's
  speed model (``JobView.throughput``), so a policy weighs packing against spreading.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from mlfleet.infra.scheduling.types import ClusterView, Placement


def free_after(cluster: ClusterView, held: Iterable[Placement]) -> list[int]:
    """Free GPUs per node on ``cluster`` once the placements ``held`` are taken.

    Raises ``ValueError`` naming the node when ``held`` overfills one (a policy bug).
    """
    free = [cluster.gpus_per_node] * cluster.nodes
    for placement in held:
        take(free, placement)
    return free


def take(free: list[int], placement: Placement) -> None:
    """Remove ``placement``'s GPUs from ``free`` in place; ``ValueError`` (``free``
    unchanged) if a node has too few."""
    for i, node in enumerate(placement):
        if free[node] <= 0:
            for taken in placement[:i]:
                free[taken] += 1
            raise ValueError(f"node {node} has {free[node]} free GPUs, placement needs "
                             f"{placement.count(node)}")
        free[node] -= 1


def give_back(free: list[int], placement: Placement) -> None:
    """Return ``placement``'s GPUs to ``free`` in place."""
    for node in placement:
        free[node] += 1


def nodes_spanned(placement: Placement) -> int:
    """Distinct nodes a placement touches."""
    return len(set(placement))


def min_nodes(gpus: int, gpus_per_node: int) -> int:
    """Fewest nodes that can hold ``gpus`` GPUs."""
    return math.ceil(gpus / gpus_per_node)


def is_consolidated(placement: Placement, gpus_per_node: int) -> bool:
    """True when the placement spans no more nodes than it must."""
    return nodes_spanned(placement) <= min_nodes(len(placement), gpus_per_node)


def pack(free: Sequence[int], gpus: int) -> Placement | None:
    """The job's GPUs on the fewest nodes, best fit; None when fewer than ``gpus`` are free.

    Whole nodes are filled largest-free first (that minimises the node count); the
    remainder goes to the node with the *least* free GPUs that still holds it (best fit),
    lowest index on ties.
    """
    if gpus <= 0 or sum(free) < gpus:
        return None if gpus > 0 else ()
    order = sorted(range(len(free)), key=lambda n: (-free[n], n))
    chosen: list[int] = []
    left = gpus
    for node in order:
        if free[node] >= left:
            break
        chosen.extend([node] * free[node])
        left -= free[node]
    used = set(chosen)
    fits = [n for n in range(len(free)) if n not in used and free[n] >= left]
    last = min(fits, key=lambda n: (free[n], n))
    return tuple(sorted(chosen + [last] * left))


def spread(free: Sequence[int], gpus: int) -> Placement | None:
    """One GPU per node round after round, emptiest nodes first; None when too few free."""
    if sum(free) < gpus:
        return None
    left = list(free)
    chosen: list[int] = []
    while len(chosen) < gpus:
        for node in sorted(range(len(left)), key=lambda n: (-left[n], n)):
            if left[node] > 0 and len(chosen) < gpus:
                chosen.append(node)
                left[node] -= 1
    return tuple(sorted(chosen))


def fastest(candidates: Iterable[Placement | None],
            throughput: Callable[[Placement], float]) -> Placement | None:
    """The candidate with the highest ``throughput`` (first on ties); None if none."""
    best: Placement | None = None
    best_rate = -math.inf
    for candidate in candidates:
        if candidate is None:
            continue
        rate = throughput(candidate)
        if rate > best_rate:
            best, best_rate = candidate, rate
    return best


def consolidation_moves(held: Mapping[str, Placement], free: Sequence[int],
                        gpus_per_node: int, *,
                        worth: Callable[[str, Placement], bool] | None = None,
                        ) -> dict[str, Placement]:
    """Gandiva's migration: spread jobs that now fit on their minimum node count.

    Jobs are tried widest first; a move is kept when ``worth(name, target)`` (default:
    always) and applied to the free list before the next is tried, so the moves
    returned are compatible with one another.
    """
    left = list(free)
    moves: dict[str, Placement] = {}
    spread_jobs = [name for name, p in held.items() if p and not is_consolidated(p, gpus_per_node)]
    for name in sorted(spread_jobs, key=lambda n: (-nodes_spanned(held[n]), n)):
        placement = held[name]
        give_back(left, placement)
        target = pack(left, len(placement))
        if target is not None and is_consolidated(target, gpus_per_node) \
                and (worth is None or worth(name, target)):
            take(left, target)
            moves[name] = target
        else:
            take(left, placement)
    return moves
