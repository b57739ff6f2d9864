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
