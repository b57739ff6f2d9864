"""``mlfleet comm``: collective cost models, algorithm selection, crossovers, ZeRO, buckets, patterns.

Every command takes a catalog cluster (``--cluster DGX-H100 --ranks 8``) or explicit
link numbers (``--alpha 5us --bw 25GB/s``; add ``--gpus-per-node`` with
``--intra-alpha/--intra-bw`` for two levels, ``--bw`` then being a node's scale-out
bandwidth). ``--json`` prints a stable JSON document instead of tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click
import numpy as np

from mlfleet import units
from mlfleet.catalog.cluster_size import too_many_gpus
from mlfleet.catalog.types import Cluster, Workload
from mlfleet.comm import bucket as bucket_model
from mlfleet.comm import patterns as patterns_model
from mlfleet.comm import select, topology, zero
from mlfleet.errors import CommInputError


def _size(text: str, option: str) -> float:
    value = units.parse_quantity(text, "bytes")
    if value <= 0:
        raise CommInputError(f"{option}(={text!r}) must be a size > 0 bytes, e.g. 64KB or 1GiB")
    return value


def _quantity(text: str | None, target: str, option: str) -> float | None:
    if text is None:
        return None
    value = units.parse_quantity(text, target)
    if value < 0 or (target == "bytes_per_s" and value == 0):
        raise CommInputError(f"{option}(={text!r}) must be {'> 0' if target != 's' else '>= 0'}")
    return value


def topology_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options that describe where the collective runs: a catalog cluster or explicit links."""
    options = [
        click.option("--cluster", help="Catalog cluster name (see `mlfleet catalog list cluster`)."),
        click.option("--ranks", type=int, help="GPUs taking part (default: all of the cluster)."),
        click.option("--alpha", help="Per-message latency without --cluster, e.g. 5us."),
        click.option("--bw", help="Link bandwidth per direction without --cluster, e.g. 25GB/s."),
        click.option("--gpus-per-node", type=int, help="With --alpha/--bw: GPUs per node."),
        click.option("--intra-alpha", help="With --gpus-per-node: scale-up latency."),
        click.option("--intra-bw", help="With --gpus-per-node: per-GPU scale-up bandwidth."),
        click.option("--nodes-per-leaf", type=int, help="Nodes under one leaf switch."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_topology(*, cluster: str | None, ranks: int | None, alpha: str | None, bw: str | None,
                   gpus_per_node: int | None, intra_alpha: str | None, intra_bw: str | None,
                   nodes_per_leaf: int | None) -> topology.Topology:
    """The Topology the options describe; CommInputError naming what is missing or bad."""
    if cluster is not None:
        if alpha is not None or bw is not None:
            raise CommInputError("give --cluster or --alpha/--bw, not both")
        spec = Cluster.from_name(cluster)
        n = spec.gpus if ranks is None else _gpus_on(
            spec, ranks, "--ranks", minimum=2,
            custom="give --alpha, --bw, --ranks and --gpus-per-node instead of --cluster")
        return topology.from_cluster(spec, ranks=n, nodes_per_leaf=nodes_per_leaf)
    alpha_s, bw_bps = _quantity(alpha, "s", "--alpha"), _quantity(bw, "bytes_per_s", "--bw")
    if alpha_s is None or bw_bps is None or ranks is None:
        raise CommInputError("give --cluster NAME, or --alpha, --bw and --ranks")
    if gpus_per_node is None or gpus_per_node >= ranks:
        return topology.flat(ranks=ranks, alpha_s=alpha_s, bw_bytes_per_s=bw_bps)
    intra_a = _quantity(intra_alpha, "s", "--intra-alpha")
    intra_b = _quantity(intra_bw, "bytes_per_s", "--intra-bw")
    if intra_a is None or intra_b is None:
        raise CommInputError("--gpus-per-node needs --intra-alpha and --intra-bw")
    return topology.Topology(
        name=f"{gpus_per_node}-GPU nodes", ranks=ranks, gpus_per_node=gpus_per_node,
        intra_alpha_s=intra_a, intra_bw_bytes_per_s=intra_b, inter_alpha_s=alpha_s,
        node_bw_bytes_per_s=bw_bps, rails_per_node=gpus_per_node,
        nodes_per_leaf=nodes_per_leaf or topology.DEFAULT_NODES_PER_LEAF)


def _gpus_on(spec: Cluster, gpus: int, option: str, *, minimum: int, custom: str) -> int:
    """``gpus`` if the catalog cluster has that many (the scenario's rule too), else a
    CommInputError naming ``option``."""
    if gpus < minimum:
        raise CommInputError(f"{option}(={gpus}) must be >= {minimum}")
    reason = too_many_gpus(cluster=spec.name, cluster_gpus=spec.gpus, gpus=gpus, custom=custom)
    if reason is not None:
        raise CommInputError(f"{option}(={gpus}) {reason}")
    return gpus


def _topology_dict(topo: topology.Topology) -> dict[str, Any]:
    return {**dataclasses.asdict(topo), "nodes": topo.nodes, "leaves": topo.leaves,
            "levels": [dataclasses.asdict(lv) for lv in topology.levels(topo)]}


def _table(headers: list[str], rows: list[list[Any]], title: str) -> None:
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)


def _emit(payload: Any) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)


def _dur(seconds: float) -> str:
    return units.format_duration(seconds)


def _bytes(n: float) -> str:
    return units.format_bytes(n)


@click.group("comm")
def comm_group() -> None:
    """Collective communication: cost models, algorithm choice, crossovers, ZeRO, buckets."""


@comm_group.command("allreduce")
@topology_options
@click.option("--size", required=True, help="Per-rank buffer, e.g. 64KB, 256MiB, 64K (=65536 B).")
@click.option("--ps-servers", type=int, default=1, show_default=True,
              help="Parameter-server shards.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def allreduce_command(size: str, ps_servers: int, as_json: bool, **where: Any) -> None:
    """Every AllReduce algorithm's predicted time, algbw and busbw, and the choice."""
    topo = build_topology(**where)
    if ps_servers < 1:
        raise CommInputError(f"--ps-servers(={ps_servers}) must be >= 1")
    sel = select.compare_allreduce(topo, _size(size, "--size"), ps_servers=ps_servers)
    if as_json:
        _emit({"fidelity": "model", "topology": _topology_dict(topo), **sel.to_dict()})
        return
    rows = [[("* " if r.algorithm == sel.best else "  ") + r.algorithm, _dur(r.time_s),
             units.format_rate(r.algbw_bytes_per_s), units.format_rate(r.busbw_bytes_per_s),
             f"{r.latency_share:.0%}"] for r in sel.rows]
    _table(["algorithm", "time", "algbw", "busbw", "latency share"], rows,
           f"AllReduce of {_bytes(sel.size_bytes)} on {topo.ranks} ranks of {topo.name} (model)")
    click.echo(f"choice: {sel.reason}")


@comm_group.command("crossover")
@topology_options
@click.option("--min-size", default="1B", show_default=True)
@click.option("--max-size", default="16GiB", show_default=True)
@click.option("--tie-tolerance", type=float, default=select.TIE_TOLERANCE, show_default=True,
              help="Times within this fraction of the fastest tie; the ring wins ties.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def crossover_command(min_size: str, max_size: str, tie_tolerance: float, as_json: bool,
                      **where: Any) -> None:
    """Which AllReduce algorithm wins each message-size range, and where pairs cross."""
    topo = build_topology(**where)
    if not 0 <= tie_tolerance < 1:
        raise CommInputError(f"--tie-tolerance(={tie_tolerance}) must be in [0, 1)")
    table = select.crossover(topo, min_bytes=_size(min_size, "--min-size"),
                             max_bytes=_size(max_size, "--max-size"), tie_tolerance=tie_tolerance)
    if as_json:
        _emit({"fidelity": "model", "topology": _topology_dict(topo), **table.to_dict()})
        return
    _table(["from", "to", "winner"],
           [[_bytes(r.from_bytes), _bytes(r.to_bytes), r.algorithm] for r in table.ranges],
           f"AllReduce winner by size, {topo.ranks} ranks of {topo.name} (model)")
    _table(["size", "algorithms", "smaller messages"],
           [[_bytes(c.size_bytes), f"{c.first} = {c.second}", c.below] for c in table.pairwise],
           "Pairwise crossovers (equal predicted time)")


@comm_group.command("patterns")
@click.option("--gpus", type=int, default=8, show_default=True)
@click.option("--precision-bytes", type=float, default=2.0, show_default=True,
              help="Bytes per exchanged value (2 = bf16).")
@click.option("--tokens-per-gpu", type=float, help="MoE tokens per GPU per step (default seq_len).")
@click.option("--samples-per-gpu", type=float, default=patterns_model.DEFAULT_SAMPLES_PER_GPU,
              show_default=True, help="RecSys samples / GNN seeds per GPU per step.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def patterns_command(gpus: int, precision_bytes: float, tokens_per_gpu: float | None,
                     samples_per_gpu: float, as_json: bool) -> None:
    """The model-specific collective patterns table, computed from the catalog's workloads."""
    rows = patterns_model.model_patterns(n_gpus=gpus, value_bytes=precision_bytes,
                                         tokens_per_gpu=tokens_per_gpu,
                                         samples_per_gpu=samples_per_gpu)
    if as_json:
        _emit({"fidelity": "model", "gpus": gpus, "patterns": [
            {**p.to_dict(), "volume_class": patterns_model.volume_class(p.primary_bytes)}
            for p in rows]})
        return
    _table(["workload", "model type", "primary", "gradient", "bytes/step/GPU", "volume",
            "secondary", "depends on"],
           [[p.workload, p.model_type, p.primary, p.gradient_type, _bytes(p.primary_bytes),
             patterns_model.volume_class(p.primary_bytes),
             f"{p.secondary} {_bytes(p.secondary_bytes)}" if p.secondary else "",
             p.depends_on] for p in rows],
           f"Model-specific collective patterns ({gpus} GPUs, {precision_bytes:g} B values)")
    for p in rows:
        if p.assumptions:
            click.echo(f"{p.workload}: {p.formula}; assumes {p.assumptions}")


@comm_group.command("zero")
@click.option("--workload", required=True, help="Catalog workload name.")
@click.option("--gpus", type=int, required=True, help="Data-parallel GPUs.")
@click.option("--cluster", help="Catalog cluster: adds collective times and the HBM fit.")
@click.option("--precision-bytes", type=float, default=2.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def zero_command(workload: str, gpus: int, cluster: str | None, precision_bytes: float,
                 as_json: bool) -> None:
    """ZeRO-1/2/3 and FSDP: model-state memory and communication per GPU per step."""
    model = Workload.from_name(workload)
    if gpus < 1:
        raise CommInputError(f"--gpus(={gpus}) must be >= 1")
    stages = zero.zero_stages(model.params, gpus, param_bytes=precision_bytes,
                              grad_bytes=precision_bytes)
    rows: list[dict[str, Any]] = [dataclasses.asdict(s) for s in stages]
    if cluster is not None:
        spec = Cluster.from_name(cluster)
        _gpus_on(spec, gpus, "--gpus", minimum=1,
                 custom="leave out --cluster (memory and volumes need no cluster)")
        topo = topology.from_cluster(spec, ranks=gpus) if gpus > 1 else None
        for row, stage in zip(rows, stages, strict=True):  # one GPU communicates nothing
            row["comm_time_s"] = 0.0 if topo is None else sum(
                _collective_time(topo, n, b) for n, b in stage.collectives)
            row["fits_hbm"] = stage.memory_bytes_per_gpu <= spec.accelerator.hbm_bytes
    if as_json:
        _emit({"fidelity": "model", "workload": model.name, "params": model.params, "gpus": gpus,
               "stages": rows})
        return
    headers = ["stage", "memory/GPU", "sent/GPU/step", "collectives"]
    headers += ["comm time", "fits HBM"] if cluster else []
    _table(headers, [[r["label"], _bytes(r["memory_bytes_per_gpu"]),
                      _bytes(r["comm_bytes_per_gpu"]), " + ".join(n for n, _ in r["collectives"])]
                     + ([_dur(r["comm_time_s"]), "yes" if r["fits_hbm"] else "no"]
                        if cluster else []) for r in rows],
           f"{model.name} ({model.params:.3g} params) on {gpus} GPUs: ZeRO / FSDP (model)")


def _collective_time(topo: topology.Topology, name: str, size_bytes: float) -> float:
    if name == "allreduce":
        return float(select.best_allreduce_time(topo, size_bytes))
    if name == "allgather":
        return float(select.allgather_time_on(topo, size_bytes))
    return float(select.reduce_scatter_time_on(topo, size_bytes))


@comm_group.command("bucket")
@topology_options
@click.option("--backward-time", required=True, help="Backward compute time per step, e.g. 200ms.")
@click.option("--workload", help="Catalog workload: gradients = params x --precision-bytes.")
@click.option("--grad-size", help="Gradient bytes instead of --workload, e.g. 1GB.")
@click.option("--precision-bytes", type=float, default=2.0, show_default=True)
@click.option("--tensors", type=int, help="Equal gradient tensors to simulate (default: the "
              "workload's decoder tensors, else 256).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bucket_command(backward_time: str, workload: str | None, grad_size: str | None,
                   precision_bytes: float, tensors: int | None, as_json: bool,
                   **where: Any) -> None:
    """DDP bucket size vs exposed communication: closed form vs step simulation."""
    topo = build_topology(**where)
    backward_s = _quantity(backward_time, "s", "--backward-time")
    assert backward_s is not None
    grad_bytes, sizes_b, compute_s, source = _gradient_tensors(
        workload, grad_size, precision_bytes, tensors, backward_s)
    cost: bucket_model.AllReduceCost = lambda b: select.best_allreduce_time(topo, b)  # noqa: E731
    buckets = bucket_model.candidate_bucket_sizes(grad_bytes)
    shape = bucket_model.closed_form_shape(sizes_b)
    closed = bucket_model.exposed_comm_time(backward_s=backward_s, grad_bytes=grad_bytes,
                                            bucket_bytes=buckets, allreduce_s=cost, **shape)
    runs = [bucket_model.simulate_buckets(layer_backward_s=compute_s, layer_grad_bytes=sizes_b,
                                          bucket_bytes=float(b), allreduce_s=cost)
            for b in buckets]
    best_b, best_s = bucket_model.best_bucket_size(backward_s=backward_s, grad_bytes=grad_bytes,
                                                   allreduce_s=cost, candidates=buckets, **shape)
    rows = [{"bucket_bytes": float(b), "exposed_s": float(c), "simulated_exposed_s": r.exposed_s,
             "simulated_buckets": len(r.bucket_bytes)}
            for b, c, r in zip(buckets, closed, runs, strict=True)]
    no_overlap = float(cost(np.asarray(grad_bytes)))
    if as_json:
        _emit({"fidelity": "model", "topology": _topology_dict(topo), "grad_bytes": grad_bytes,
               "backward_s": backward_s, "simulated_tensors": source, "rows": rows,
               "best_bucket_bytes": best_b, "best_exposed_s": best_s,
               "no_overlap_exposed_s": no_overlap})
        return
    _table(["bucket cap", "exposed (closed form)", "exposed (simulated)", "buckets (simulated)"],
           [[_bytes(r["bucket_bytes"]), _dur(r["exposed_s"]), _dur(r["simulated_exposed_s"]),
             r["simulated_buckets"]] for r in rows],
           f"{_bytes(grad_bytes)} of gradients, {_dur(backward_s)} backward, {topo.ranks} ranks "
           f"of {topo.name}; simulated with {source}")
    click.echo(f"best bucket (closed form): {_bytes(best_b)} leaves {_dur(best_s)} exposed "
               f"(no overlap: {_dur(no_overlap)})")


def _gradient_tensors(workload: str | None, grad_size: str | None, precision_bytes: float,
                      tensors: int | None,
                      backward_s: float) -> tuple[float, np.ndarray, np.ndarray, str]:
    """(gradient bytes, tensor bytes, tensor backward seconds, description) in backward order."""
    if (workload is None) == (grad_size is None):
        raise CommInputError("give exactly one of --workload NAME or --grad-size SIZE")
    if workload is not None:
        sizes, compute, text = bucket_model.workload_gradient_tensors(
            Workload.from_name(workload), precision_bytes=precision_bytes,
            backward_s=backward_s, tensors=tensors)
    else:
        sizes, compute, text = bucket_model.equal_tensors(
            _size(str(grad_size), "--grad-size"), backward_s=backward_s, tensors=tensors or 256)
    return float(sizes.sum()), sizes, compute, text


@comm_group.command("topology")
@topology_options
@click.option("--size", default="1GB", show_default=True, help="AllReduce buffer per rank.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def topology_command(size: str, as_json: bool, **where: Any) -> None:
    """Effective α and bandwidth per level, and the bytes each algorithm puts on each link class."""
    topo = build_topology(**where)
    size_bytes = _size(size, "--size")
    algos = ["ring", "double_binary_tree", "tree", "recursive_doubling", "rabenseifner",
             "hierarchical", "hierarchical3", "alltoall"]
    traffic = {a: topology.link_traffic(a, topo, size_bytes) for a in algos}
    if as_json:
        _emit({"fidelity": "model", "topology": _topology_dict(topo), "size_bytes": size_bytes,
               "traffic": {a: {k: float(v) for k, v in dataclasses.asdict(t).items()}
                           for a, t in traffic.items()}})
        return
    _table(["level", "link", "members", "α", "bandwidth per GPU"],
           [[lv.name, lv.link, lv.members, _dur(lv.alpha_s), units.format_rate(lv.bw_bytes_per_s)]
            for lv in topology.levels(topo)], f"{topo.name}, {topo.ranks} ranks")
    _table(["algorithm", "NVLink per GPU", "NIC per rail", "spine per node"],
           [[a, _bytes(float(t.scaleup_bytes_per_gpu)), _bytes(float(t.scaleout_bytes_per_nic)),
             _bytes(float(t.spine_bytes_per_node))] for a, t in traffic.items()],
           f"Bytes sent per link class for {_bytes(size_bytes)} (AlltoAll: total per rank)")
