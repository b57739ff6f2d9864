"""Hop counts on the graph: links on the shortest paths from an endpoint to all others.

Shortest in links, through transit nodes only (a host or GPU relays nothing); checked
against the closed forms of :mod:`mlfleet.infra.topology.formulas`. By the symmetry of a
fat-tree or torus one source suffices; other fabrics pass several.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlfleet.infra.topology.graph import Fabric
from mlfleet.infra.topology.routing import distances_to


@dataclass(frozen=True, kw_only=True)
class HopStats:
    """Links between endpoints: the farthest pair, and the mean over pairs."""

    max_links: int
    mean_links: float
    """Mean over ordered pairs of distinct endpoints (``include_self`` adds the zero pairs)."""
    sources: int


def hop_stats(fabric: Fabric, sources: Sequence[str] | None = None, *,
              include_self: bool = False) -> HopStats:
    """Max and mean links from each of ``sources`` (default: the first endpoint) to every
    endpoint; hop counts are symmetric, so distances to a source equal distances from it."""
    chosen = list(sources) if sources is not None else [fabric.endpoints[0]]
    total, count, farthest = 0.0, 0, 0
    for src in chosen:
        dist = distances_to(fabric, src, weight="")
        for end in fabric.endpoints:
            if end == src and not include_self:
                continue
            links = int(dist[end])
            total, count, farthest = total + links, count + 1, max(farthest, links)
    return HopStats(max_links=farthest, mean_links=total / count if count else 0.0,
                    sources=len(chosen))
