"""The fabric options every ``mlfleet infra topology`` command shares, and their checks.

Graph work is bounded here so that a command answers in seconds: builders and max-flow up
to :data:`MAX_GRAPH_ENDPOINTS` endpoints, routing up to :data:`MAX_ROUTE_RANKS` ranks
(AlltoAll, p² flows, up to :data:`MAX_ALLTOALL_RANKS`). Larger fabrics use the closed
forms (``cost``, ``bisection``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from mlfleet.infra.topology.errors import TopologyInputError

MAX_GRAPH_ENDPOINTS = 4096
MAX_ROUTE_RANKS = 1024
MAX_ALLTOALL_RANKS = 256
FABRIC_KINDS = ("fat-tree", "leaf-spine", "rail-optimized", "top-of-rack", "torus")

_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--kind", default="fat-tree", show_default=True,
                 help=f"Topology: {', '.join(FABRIC_KINDS)}."),
    click.option("--k", "k", type=int, default=4, show_default=True,
                 help="fat-tree: switch radix k (even); k³/4 hosts."),
    click.option("--oversubscription", "-o", type=float, default=1.0, show_default=True,
                 help="Leaf down:up bandwidth (1 = non-blocking, 2 = 2:1)."),
    click.option("--nodes", type=int, default=4, show_default=True,
                 help="rail-optimized / top-of-rack: GPU servers."),
    click.option("--gpus-per-node", type=int, default=8, show_default=True,
                 help="rail-optimized / top-of-rack: GPUs (and NICs) per server."),
    click.option("--leaf-ports", type=int, default=32, show_default=True,
                 help="Leaf ports facing NICs (a scalable unit's node count when rail-optimized)."),
    click.option("--spines", type=int, default=4, show_default=True,
                 help="leaf-spine / GPU fabrics: spine switches."),
    click.option("--hosts", type=int, default=16, show_default=True, help="leaf-spine: hosts."),
    click.option("--hosts-per-leaf", type=int, default=4, show_default=True,
                 help="leaf-spine: hosts per rack (leaf)."),
    click.option("--dims", default="4x4x4", show_default=True,
                 help="torus: shape AxB or AxBxC (TPU v4 pod: 16x16x16)."),
    click.option("--link-bw", default="400Gb/s", show_default=True,
                 help="Network (or ICI) link bandwidth per direction, e.g. 400Gb/s, 45GB/s."),
    click.option("--latency", default="1us", show_default=True,
                 help="Latency of one network link (a one-switch path is two links)."),
]


def fabric_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command with the shared fabric options."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def _bounded(name: str, value: int, *, minimum: int = 1, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise TopologyInputError(f"--{name.replace('_', '-')}(={value}) must be an integer "
                                 f"from {minimum} to {maximum:,} here")
    return value


def endpoint_count(opts: dict[str, Any]) -> int:
    """Endpoints the options describe, checked before anything is built."""
    from mlfleet.infra.topology.shapes import check_k, parse_dims

    kind = opts["kind"]
    if kind not in FABRIC_KINDS:
        raise TopologyInputError(f"--kind(={kind!r}) must be one of {', '.join(FABRIC_KINDS)}")
    if kind == "fat-tree":
        return check_k(opts["k"]) ** 3 // 4 if opts["k"] <= 512 else _too_big(opts["k"])
    if kind == "torus":
        chips = math.prod(parse_dims(opts["dims"]))
        if chips > MAX_GRAPH_ENDPOINTS:
            raise TopologyInputError(f"--dims {opts['dims']} has {chips:,} chips; at most "
                                     f"{MAX_GRAPH_ENDPOINTS:,} here")
        return chips
    if kind == "leaf-spine":
        return _bounded("hosts", opts["hosts"], maximum=MAX_GRAPH_ENDPOINTS)
    per_node = _bounded("gpus_per_node", opts["gpus_per_node"], maximum=64)
    return _bounded("nodes", opts["nodes"], maximum=MAX_GRAPH_ENDPOINTS // per_node) * per_node


def _too_big(k: int) -> int:
    raise TopologyInputError(f"--k(={k}) must be at most 512 here")


def build_fabric(opts: dict[str, Any]) -> Any:
    """The :class:`~mlfleet.infra.topology.graph.Fabric` the options describe (bounded)."""
    from mlfleet.infra.topology import graph
    from mlfleet.infra.topology.shapes import parse_dims
    from mlfleet.units import parse_quantity

    count = endpoint_count(opts)
    if count > MAX_GRAPH_ENDPOINTS:
        raise TopologyInputError(f"{count:,} endpoints is more than the {MAX_GRAPH_ENDPOINTS:,} "
                                 "a graph is built for here; use the closed forms "
                                 "(mlfleet infra topology cost / bisection)")
    bw = parse_quantity(opts["link_bw"], "bytes_per_s")
    latency = parse_quantity(opts["latency"], "s")
    if not bw > 0 or not latency >= 0:
        raise TopologyInputError(f"--link-bw(={opts['link_bw']}) must be > 0 and "
                                 f"--latency(={opts['latency']}) >= 0")
    kind, o = opts["kind"], opts["oversubscription"]
    if kind == "fat-tree":
        return graph.fat_tree(opts["k"], link_bw_bytes_per_s=bw, latency_s=latency,
                              oversubscription=o)
    if kind == "torus":
        return graph.torus(parse_dims(opts["dims"]), link_bw_bytes_per_s=bw, latency_s=latency)
    if kind == "leaf-spine":
        return graph.leaf_spine(hosts=opts["hosts"], hosts_per_leaf=opts["hosts_per_leaf"],
                                spines=_bounded("spines", opts["spines"], maximum=512),
                                link_bw_bytes_per_s=bw, latency_s=latency, oversubscription=o)
    spec = graph.GpuNodes(nodes=opts["nodes"], gpus_per_node=opts["gpus_per_node"],
                          leaf_down_ports=_bounded("leaf_ports", opts["leaf_ports"], maximum=512),
                          spines=_bounded("spines", opts["spines"], maximum=512),
                          nic_bw_bytes_per_s=bw, latency_s=latency,
                          scaleup_latency_s=latency, oversubscription=o)
    return graph.rail_optimized(spec) if kind == "rail-optimized" else graph.top_of_rack(spec)
