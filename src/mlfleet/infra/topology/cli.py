"""``mlfleet infra topology``: build fabrics as graphs, bisection, route collectives (ECMP),
the trade-off tables, the SuperPOD / TPU v4 case studies, and the bill of a fabric."""

from __future__ import annotations

from typing import Any

import click

from mlfleet.infra.topology.cli_fabric import (
    MAX_ALLTOALL_RANKS,
    MAX_ROUTE_RANKS,
    build_fabric,
    endpoint_count,
    fabric_options,
)
from mlfleet.infra.topology.errors import TopologyInputError

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("topology", context_settings={"help_option_names": ["-h", "--help"]})
def topology_group() -> None:
    """Network topologies as graphs: bisection, hops, cost, collectives routed (ECMP).

    \b
    mlfleet infra topology build --kind rail-optimized --nodes 32
    mlfleet infra topology bisection --kind fat-tree --k 16 -o 2
    mlfleet infra topology route --kind fat-tree --k 4 -o 2 --algorithm ring --placement strided
    mlfleet infra topology compare --table rail
    mlfleet infra topology case-study superpod --sus 4
    mlfleet infra topology cost --endpoints 1024 --kind rail-optimized --rails 8
    """


def _emit(payload: dict[str, Any], as_json: bool, rows: list[list[Any]], headers: list[str],
          title: str) -> None:
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(payload)
        return
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.4g}"


@topology_group.command("build")
@fabric_options
@_JSON
def build_command(as_json: bool, **opts: Any) -> None:
    """Build a fabric: nodes by kind, links by tier, bisection (closed form and max-flow), hops."""
    from mlfleet.infra.topology.report import build_report

    report = build_report(build_fabric(opts))
    rows = [[k, _num(v)] for k, v in report["counts"].items()]
    _emit(report, as_json, rows, ["quantity", "value"], f"{report['fabric']} (graph)")


@topology_group.command("bisection")
@fabric_options
@_JSON
def bisection_command(as_json: bool, **opts: Any) -> None:
    """Bisection bandwidth: the closed form beside the max-flow on the graph (or, for a
    fat-tree too large to build, on its symmetry quotient)."""
    from mlfleet.infra.topology.report import bisection_report

    endpoint_count(opts)
    report = bisection_report(opts)
    rows = [[r["method"], f"{r['bisection_bw_bytes_per_s'] / 1e12:.4g} TB/s"]
            for r in report["methods"]]
    _emit(report, as_json, rows, ["method", "bisection (per direction)"], report["fabric"])


@topology_group.command("route")
@fabric_options
@click.option("--algorithm", "-a", default="ring", show_default=True,
              help="ring, tree, double_binary_tree, hierarchical or alltoall.")
@click.option("--size", default="1GB", show_default=True,
              help="Per-rank buffer (AlltoAll: what each rank sends in total).")
@click.option("--placement", default="node-major", show_default=True,
              help="node-major, or strided (consecutive ranks in different pods/servers).")
@click.option("--channels", type=int, default=1, show_default=True,
              help="Concurrent rings / tree pairs (NCCL uses one per NIC).")
@click.option("--pxn", is_flag=True, help="Relay cross-rail traffic over NVLink first (NCCL PXN).")
@click.option("--mode", default="split", show_default=True,
              help="ECMP: split (fluid) or hash (one random path per flow, seeded).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --mode hash.")
@click.option("--top", type=int, default=5, show_default=True, help="Busiest links to list.")
@_JSON
def route_command(as_json: bool, **opts: Any) -> None:
    """Route a collective's flows with ECMP: time, the bottleneck link, the busiest links."""
    from mlfleet.infra.topology.report import route_report
    from mlfleet.units import parse_quantity

    count = endpoint_count(opts)
    limit = MAX_ALLTOALL_RANKS if opts["algorithm"] == "alltoall" else MAX_ROUTE_RANKS
    if count > limit:
        raise TopologyInputError(f"{count:,} ranks is more than the {limit:,} routed here for "
                                 f"{opts['algorithm']!r}; use a smaller fabric")
    for name in ("channels", "top"):
        if not 1 <= opts[name] <= 64:
            raise TopologyInputError(f"--{name}(={opts[name]}) must be from 1 to 64")
    size = parse_quantity(opts["size"], "bytes")
    report = route_report(build_fabric(opts), opts, size)
    rows = [[link["link"], link["tier"], _num(link["load_bytes"]), f"{link['time_s']:.4g}"]
            for link in report["busiest_links"]]
    title = (f"{report['algorithm']} on {report['fabric']}: {report['time_s'] * 1e3:.4g} ms, "
             f"bottleneck {report['bottleneck']['link'] if report['bottleneck'] else '-'}")
    _emit(report, as_json, rows, ["link", "tier", "bytes", "drain s"], title)


@topology_group.command("compare")
@click.option("--table", "table", default="rail", show_default=True,
              help="rail (fat-tree vs rail-optimized), oversubscription, or comm "
                   "(graph vs the mlfleet comm hierarchy).")
@click.option("--nodes", type=int, default=None, help="GPU servers (rail: 32, comm: 4; <= 32).")
@click.option("--oversubscription", "-o", type=float, default=2.0, show_default=True,
              help="Spine oversubscription of the rail table.")
@click.option("--size", default="1GB", show_default=True, help="Collective size.")
@_JSON
def compare_command(table: str, nodes: int | None, oversubscription: float, size: str,
                    as_json: bool) -> None:
    """The chapter's trade-off tables, routed and priced."""
    from mlfleet.infra.topology.report import compare_report
    from mlfleet.units import parse_quantity

    if table not in ("rail", "oversubscription", "comm"):
        raise TopologyInputError(f"--table(={table!r}) must be one of rail, oversubscription, comm")
    if nodes is not None and not 1 <= nodes <= 32:
        raise TopologyInputError(f"--nodes(={nodes}) must be from 1 to 32")
    report = compare_report(table, nodes=nodes, oversubscription=oversubscription,
                            size_bytes=parse_quantity(size, "bytes"))
    rows = [[r["metric"], r["unit"], *(_num(v) for v in r["values"])] for r in report["rows"]]
    _emit(report, as_json, rows, ["metric", "unit", *report["columns"]], report["title"])


@topology_group.command("case-study")
@click.argument("name")
@click.option("--sus", type=int, default=4, show_default=True,
              help="superpod: scalable units (1, 2, 3, 4, 16, 32 or 64 as published).")
@_JSON
def case_study_command(name: str, sus: int, as_json: bool) -> None:
    """Published vs computed: 'superpod' (DGX SuperPOD H100 compute fabric) or 'tpu-v4'."""
    from mlfleet.infra.topology import cases

    if name not in ("superpod", "tpu-v4"):
        raise TopologyInputError(f"case study {name!r} must be 'superpod' or 'tpu-v4'")
    rows = cases.superpod_h100(sus) if name == "superpod" else cases.tpu_v4_pod()
    payload = {"case": name, "rows": [{**vars(r), "rel_error": r.rel_error} for r in rows]}
    table = [[r.quantity, "-" if r.published is None else _num(r.published), _num(r.computed),
              "-" if r.rel_error is None else f"{r.rel_error:+.1%}"] for r in rows]
    _emit(payload, as_json, table, ["quantity", "published", "computed", "error"],
          f"{name}: published vs computed ({rows[0].source.split(',')[0]})")


@topology_group.command("cost")
@click.option("--endpoints", type=int, required=True, help="NIC ports to connect.")
@click.option("--kind", default="fat-tree", show_default=True,
              help="fat-tree, leaf-spine or rail-optimized.")
@click.option("--oversubscription", "-o", type=float, default=1.0, show_default=True)
@click.option("--switch", default=None, help="Catalog switch (default QM9700).")
@click.option("--rails", type=int, default=1, show_default=True, help="rail-optimized: rails.")
@click.option("--endpoint-dac", is_flag=True, help="Copper DACs to the endpoints (in-rack leaves).")
@_JSON
def cost_command(as_json: bool, **opts: Any) -> None:
    """Switches, cables, transceivers, capex, power, bisection and hops (closed form)."""
    from dataclasses import asdict

    from mlfleet.infra.topology.cost import fabric_bill

    bill = fabric_bill(**opts)
    rows = [[k, _num(v) if isinstance(v, int | float) else v] for k, v in asdict(bill).items()]
    _emit(asdict(bill), as_json, rows, ["quantity", "value"],
          f"{bill.kind} fabric of {bill.endpoints:,} endpoints (closed form, indicative prices)")
