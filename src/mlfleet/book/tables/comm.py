"""Communication tables: AllReduce algorithms by message size, bus-bandwidth utilisation.

Every number comes from :mod:`mlfleet.comm.select` on a catalog cluster
(``mlfleet comm allreduce`` / ``mlfleet comm crossover``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlfleet.book.table import BookTable, CatalogInput, Cell, Column

if TYPE_CHECKING:
    from mlfleet.comm.topology import Topology

CLUSTER = "H100-1k-fat-tree"
RANKS = 512
SIZES_BYTES = (4e3, 64e3, 1e6, 16e6, 256e6, 1e9)
"""Message sizes of the comparison (4 kB to 1 GB)."""


def _topology() -> Topology:
    from mlfleet.catalog.types import Cluster
    from mlfleet.comm.topology import from_cluster

    return from_cluster(Cluster.from_name(CLUSTER), ranks=RANKS)


def _inputs() -> tuple[CatalogInput, ...]:
    from mlfleet import catalog

    cluster = catalog.get(CLUSTER, kind="cluster")
    links = [str(cluster.get(k)) for k in ("scaleup", "scaleout") if cluster.get(k)]
    return (CatalogInput(entry=CLUSTER), *(CatalogInput(entry=n) for n in links))


def _size(size: float) -> str:
    return f"{size / 1e9:g} GB" if size >= 1e9 else f"{size / 1e6:g} MB" if size >= 1e6 \
        else f"{size / 1e3:g} kB"


_NOTE = ("Model: α-β cost of each algorithm with the α and bandwidth of the links it crosses "
         "(Thakur, Rabenseifner & Gropp, IJHPCA 2005; Patarasuk & Yuan 2009 for the ring; "
         "NCCL's double binary tree, Jeaugey 2019); mlfleet.comm.select.")


def allreduce_algorithms() -> BookTable:
    """Predicted AllReduce time of every algorithm at each message size, and the choice."""
    import numpy as np

    from mlfleet.comm.select import allreduce_times, pick

    topo = _topology()
    times = allreduce_times(topo, list(SIZES_BYTES))
    names = list(times)
    body: list[tuple[Cell, ...]] = [(n, *(float(t) * 1e6 for t in times[n])) for n in names]
    chosen = pick(np.stack([times[n] for n in names]))
    body.append(("chosen (within 2 % of the fastest)", *(names[int(i)] for i in chosen)))
    return BookTable(
        id="comm.allreduce-algorithms",
        title=f"AllReduce time by algorithm and message size: {RANKS} GPUs of {CLUSTER}",
        columns=(Column(name="algorithm"),
                 *(Column(name=_size(s), unit="µs", fidelity="model") for s in SIZES_BYTES)),
        rows=tuple(body), inputs=_inputs(),
        notes=(_NOTE, "Ties within 2 % go to the earlier algorithm in the list (the ring "
               "first: contention-free on a tree fabric)."))


def bus_bandwidth() -> BookTable:
    """Bus bandwidth of the chosen algorithm against the ring's link, and the latency share."""
    from mlfleet.comm.select import compare_allreduce
    from mlfleet.comm.topology import ring_link

    topo = _topology()
    _, link_bw = ring_link(topo)
    body: list[tuple[Cell, ...]] = []
    for size in SIZES_BYTES:
        sel = compare_allreduce(topo, size)
        best = next(r for r in sel.rows if r.algorithm == sel.best)
        body.append((_size(size), sel.best, best.time_s * 1e6, best.algbw_bytes_per_s / 1e9,
                     best.busbw_bytes_per_s / 1e9, best.busbw_bytes_per_s / link_bw,
                     best.latency_share))
    return BookTable(
        id="comm.bus-bandwidth",
        title=f"AllReduce bandwidth utilisation by message size: {RANKS} GPUs of {CLUSTER}, "
              f"ring link {link_bw / 1e9:g} GB/s",
        columns=(Column(name="message"), Column(name="algorithm chosen"),
                 Column(name="time", unit="µs", fidelity="model"),
                 Column(name="algorithm bandwidth", unit="GB/s", fidelity="model"),
                 Column(name="bus bandwidth", unit="GB/s", fidelity="model"),
                 Column(name="bus bandwidth / link bandwidth", unit="fraction",
                        fidelity="model"),
                 Column(name="latency share of the time", unit="fraction", fidelity="model")),
        rows=tuple(body), inputs=_inputs(),
        notes=(_NOTE, "Bus bandwidth = size / time x 2(n-1)/n, as nccl-tests reports it "
               "(NVIDIA nccl-tests PERFORMANCE.md); latency share = time of a zero-byte "
               "message / time."))


PATTERN_GPUS = 8
"""Data/expert-parallel GPUs the patterns are computed for (``mlfleet comm patterns``)."""


def collective_by_model_type() -> BookTable:
    """The outline's "Model-Specific Collective Patterns" table, from the catalog's
    workloads (:mod:`mlfleet.comm.patterns`): one row per workload."""
    from mlfleet.comm.patterns import DEFAULT_SAMPLES_PER_GPU, model_patterns, volume_class

    patterns = model_patterns(n_gpus=PATTERN_GPUS, value_bytes=2.0)
    body: list[tuple[Cell, ...]] = [
        (p.model_type, p.workload, p.primary, p.gradient_type, p.primary_bytes / 1e6,
         volume_class(p.primary_bytes), p.depends_on, p.secondary or "–",
         p.secondary_bytes / 1e6 if p.secondary else None)
        for p in patterns]
    return BookTable(
        id="comm.collective-by-model-type",
        title=f"Collective pattern by model type: bytes per GPU per training step, "
              f"{PATTERN_GPUS} GPUs, 2-byte values",
        columns=(Column(name="model type"), Column(name="workload"),
                 Column(name="primary collective"), Column(name="gradient type"),
                 Column(name="primary volume", unit="MB", fidelity="model"),
                 Column(name="volume class"), Column(name="volume scales with"),
                 Column(name="secondary collective"),
                 Column(name="secondary volume", unit="MB", fidelity="model")),
        rows=tuple(body),
        inputs=tuple(_pattern_inputs(p.workload) for p in patterns),
        notes=("Model: dense models AllReduce every gradient, params x 2 B (Li et al., "
               "PyTorch Distributed, VLDB 2020); MoE AlltoAll of routed tokens, tokens x "
               "d_model x top_k x 2 (dispatch + combine) x layers x 2 (forward + backward) x "
               "2 B (Lepikhin et al. 2021, GShard; Fedus et al. 2022, Switch Transformer); "
               "recommendation AlltoAll of pooled embeddings, samples x tables x dim x 2 x "
               "2 B (Naumov et al. 2019, DLRM); GNN halo exchange of sampled neighbours' "
               "features held elsewhere (Hamilton et al. 2017, GraphSAGE); "
               "mlfleet.comm.patterns.",
               "Volume class: High >= 1 GB, Moderate >= 10 MB, else Low (the outline's "
               "words, made numeric).",
               f"Assumptions: one sequence (shape.seq_len tokens) per GPU per step for MoE; "
               f"{DEFAULT_SAMPLES_PER_GPU} samples (recommendation) or seed nodes (GNN) per "
               f"GPU per step; recommendation tables sharded over the GPUs; GNN graph "
               f"partitioned at random ((P-1)/P of neighbours remote); every MoE layer "
               f"routed."))


_PATTERN_VALUES = ("family", "params", "active_params", "shape.d_model", "shape.layers",
                   "shape.seq_len", "shape.experts", "shape.experts_per_token", "shape.tables",
                   "shape.embedding_dim", "shape.rows_total", "shape.in_features",
                   "shape.n_heads")
"""The catalog values :mod:`mlfleet.comm.patterns` reads (those an entry has)."""


def _pattern_inputs(name: str) -> CatalogInput:
    from mlfleet import catalog

    values = catalog.get(name).values
    fanouts = tuple(k for k in values if k.startswith("shape.fanout_"))
    return CatalogInput(entry=name, paths=tuple(k for k in _PATTERN_VALUES if k in values)
                        + fanouts)
