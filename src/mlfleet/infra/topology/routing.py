"""Route flows over a :class:`~mlfleet.infra.topology.graph.Fabric` with ECMP: per-link load.

Shortest paths use each link's ``cost`` (1 per scale-up hop, 2 per network hop) and never
pass through a non-transit node (a host or GPU does not forward packets). ECMP, as switches
do it hop by hop (RFC 2992), sends a flow to every next hop that lies on a shortest path:

* ``split``: the fluid limit of many flowlets, each switch divides what it receives equally
  over those next hops (the per-link load is the expectation of hashing);
* ``hash``: each flow takes one path, a uniformly random next hop at every switch drawn from
  a seeded numpy Generator, so hash collisions show up as they do with few large flows.

Loads are bytes per direction: ``loads[(u, v)]`` is what crosses the link from u to v.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import one_of, positive_int
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.graph import Fabric

MODES = ("split", "hash")
Link = tuple[str, str]


@dataclass(frozen=True, kw_only=True)
class Flow:
    """``size_bytes`` from endpoint ``src`` to endpoint ``dst``."""

    src: str
    dst: str
    size_bytes: float


def distances_to(fabric: Fabric, dst: str, *, weight: str = "cost") -> dict[str, float]:
    """Shortest distance from every node to ``dst`` (Dijkstra from ``dst``), relaxing only
    through transit nodes: a non-transit node gets a distance but passes none on. Cached on
    the fabric: callers must not modify the returned mapping."""
    cached = fabric.distance_cache.get((dst, weight))
    if cached is None:
        cached = fabric.distance_cache[(dst, weight)] = _dijkstra(fabric, dst, weight)
    return cached


def _dijkstra(fabric: Fabric, dst: str, weight: str) -> dict[str, float]:
    g = fabric.graph
    dist: dict[str, float] = {dst: 0.0}
    heap: list[tuple[float, str]] = [(0.0, dst)]
    done: set[str] = set()
    while heap:
        d, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u != dst and not g.nodes[u]["transit"]:
            continue
        for v, attrs in g[u].items():
            nd = d + (attrs[weight] if weight else 1.0)
            if nd < dist.get(v, float("inf")):
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


def next_hops(fabric: Fabric, u: str, dst: str, dist: dict[str, float]) -> list[str]:
    """Neighbours of ``u`` on a shortest path to ``dst`` (transit nodes or ``dst`` itself)."""
    g = fabric.graph
    return sorted(v for v, attrs in g[u].items()
                  if v in dist and (v == dst or g.nodes[v]["transit"])
                  and abs(dist[v] + attrs["cost"] - dist[u]) < 1e-9)


def _check(fabric: Fabric, flows: Iterable[Flow]) -> list[Flow]:
    out = list(flows)
    for f in out:
        for end in (f.src, f.dst):
            if end not in fabric.graph:
                raise TopologyInputError(f"flow endpoint {end!r} is not a node of {fabric.name}")
        if not f.size_bytes >= 0:
            raise TopologyInputError(f"flow size_bytes(={f.size_bytes!r}) must be >= 0")
    return out


def _split_to(fabric: Fabric, dst: str, sources: dict[str, float],
              loads: dict[Link, float]) -> None:
    """Superpose every flow into ``dst``: push bytes down the shortest-path DAG, farthest first."""
    dist = distances_to(fabric, dst)
    pending = dict(sources)
    heap = [(-dist.get(n, -1.0), n) for n in pending]
    heapq.heapify(heap)
    while heap:
        _, u = heapq.heappop(heap)
        amount = pending.pop(u, 0.0)
        if u == dst or amount == 0.0:
            continue
        hops = next_hops(fabric, u, dst, dist)
        if not hops:
            raise TopologyInputError(f"{dst!r} is unreachable from {u!r} in {fabric.name}")
        share = amount / len(hops)
        for v in hops:
            loads[(u, v)] += share
            if v not in pending:
                heapq.heappush(heap, (-dist[v], v))
            pending[v] = pending.get(v, 0.0) + share


def _hash_path(fabric: Fabric, flow: Flow, dist: dict[str, float], rng: np.random.Generator,
               loads: dict[Link, float]) -> None:
    u = flow.src
    while u != flow.dst:
        hops = next_hops(fabric, u, flow.dst, dist)
        if not hops:
            raise TopologyInputError(f"{flow.dst!r} is unreachable from {u!r} in {fabric.name}")
        v = hops[int(rng.integers(len(hops)))] if len(hops) > 1 else hops[0]
        loads[(u, v)] += flow.size_bytes
        u = v


def ecmp_loads(fabric: Fabric, flows: Iterable[Flow], *, mode: str = "split",
               seed: int = 0) -> dict[Link, float]:
    """Bytes per directed link when ``flows`` are routed with ECMP (``split`` or ``hash``)."""
    one_of("mode", mode, MODES, error=TopologyInputError)
    positive_int("seed", seed, minimum=0, error=TopologyInputError)
    checked = _check(fabric, flows)
    loads: dict[Link, float] = defaultdict(float)
    by_dst: dict[str, list[Flow]] = defaultdict(list)
    for f in checked:
        if f.src != f.dst:
            by_dst[f.dst].append(f)
    rng = np.random.default_rng(seed)
    for dst in sorted(by_dst):
        if mode == "split":
            sources: dict[str, float] = defaultdict(float)
            for f in by_dst[dst]:
                sources[f.src] += f.size_bytes
            _split_to(fabric, dst, sources, loads)
        else:
            dist = distances_to(fabric, dst)
            for f in by_dst[dst]:
                _hash_path(fabric, f, dist, rng, loads)
    return dict(loads)


@dataclass(frozen=True, kw_only=True)
class Bottleneck:
    """The link that takes longest to drain its load."""

    link: Link
    tier: str
    load_bytes: float
    bw_bytes_per_s: float

    @property
    def time_s(self) -> float:
        return self.load_bytes / self.bw_bytes_per_s


def bottleneck(fabric: Fabric, loads: dict[Link, float]) -> Bottleneck | None:
    """The link with the largest load / bandwidth (ties: the first in sorted order)."""
    if not loads:
        return None
    link = max(sorted(loads), key=lambda e: loads[e] / fabric.link_bw(*e))
    return Bottleneck(link=link, tier=str(fabric.graph.edges[link]["tier"]),
                      load_bytes=loads[link], bw_bytes_per_s=fabric.link_bw(*link))


def path_latency_s(fabric: Fabric, src: str, dst: str) -> float:
    """Latency of one shortest path from ``src`` to ``dst`` (ECMP paths in these fabrics all
    cross the same tiers, so one suffices); memoised per destination on the fabric."""
    memo = fabric.distance_cache.setdefault((dst, "__latency__"), {dst: 0.0})
    dist = distances_to(fabric, dst)
    walked: list[tuple[str, float]] = []
    u = src
    while u not in memo:
        hops = next_hops(fabric, u, dst, dist)
        if not hops:
            raise TopologyInputError(f"{dst!r} is unreachable from {src!r} in {fabric.name}")
        walked.append((u, float(fabric.graph.edges[u, hops[0]]["latency_s"])))
        u = hops[0]
    total = memo[u]
    for node, latency in reversed(walked):
        total += latency
        memo[node] = total
    return memo[src]
