"""Case studies: the DGX SuperPOD H100 compute fabric and the TPU v4 pod, published vs ours.

Published numbers are copied from the cited documents (with the row they come from);
computed numbers come from :mod:`.cost` (closed form), :mod:`.formulas` and the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.infra.topology.cost import clos_counts, fabric_bill
from mlfleet.infra.topology.formulas import (
    torus_bisection_links,
    torus_diameter_links,
    torus_links,
    torus_mean_hops,
)

SUPERPOD_H100 = ("NVIDIA DGX SuperPOD Reference Architecture with DGX H100, Table 4 "
                 "'Compute fabric component count' (2023), https://docs.nvidia.com/dgx-superpod/"
                 "reference-architecture-scalable-infrastructure-h100/latest/network-fabrics.html")
SUPERPOD_LARGE = ("NVIDIA DGX SuperPOD Reference Architecture with DGX B200, 'Larger DGX "
                  "SuperPOD component counts' (2024), https://docs.nvidia.com/dgx-superpod/"
                  "reference-architecture-scalable-infrastructure-b200/latest/"
                  "dgx-superpod-architecture.html")
TPU_V4 = ("Jouppi et al., TPU v4: An Optically Reconfigurable Supercomputer for Machine "
          "Learning with Hardware Support for Embeddings, ISCA (2023), "
          "https://arxiv.org/abs/2304.01433")

# SUs -> (GPUs, leaf, spine, core, node-leaf, leaf-spine, spine-core cables) as published. The
# H100 table lists 31/63/95/127 nodes (one slot per SU group holds UFM) and counts the UFM
# links with the compute links (252 = 248 + 4); the fabric is built for full SUs.
PUBLISHED_SUPERPOD: dict[int, tuple[int, int, int, int, int, int, int]] = {
    1: (248, 8, 4, 0, 252, 256, 0), 2: (504, 16, 8, 0, 508, 512, 0),
    3: (760, 24, 16, 0, 764, 768, 0), 4: (1016, 32, 16, 0, 1020, 1024, 0),
    16: (4096, 128, 128, 64, 4096, 4096, 4096), 32: (8192, 256, 256, 128, 8192, 8192, 8192),
    64: (16384, 512, 512, 256, 16384, 16384, 16384)}


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """One quantity as published and as computed here."""

    quantity: str
    published: float | None
    computed: float
    source: str
    note: str = ""

    @property
    def rel_error(self) -> float | None:
        """computed / published − 1 (None where nothing is published)."""
        return None if not self.published else self.computed / self.published - 1.0


def superpod_h100(scalable_units: int) -> list[Comparison]:
    """Switches and cables of the compute fabric for ``scalable_units`` SUs (32 DGX H100,
    256 GPUs, 8 rails each), QM9700 leaves/spines/cores, non-blocking."""
    if scalable_units not in PUBLISHED_SUPERPOD:
        from mlfleet.infra.topology.errors import TopologyInputError

        raise TopologyInputError(f"scalable_units(={scalable_units}) must be one of the "
                                 f"published sizes {sorted(PUBLISHED_SUPERPOD)}")
    gpus, leaf, spine, core, node_leaf, leaf_spine, spine_core = PUBLISHED_SUPERPOD[
        scalable_units]
    source = SUPERPOD_H100 if scalable_units <= 4 else SUPERPOD_LARGE
    bill = fabric_bill(endpoints=256 * scalable_units, kind="rail-optimized", rails=8)
    counts = clos_counts(endpoints=256 * scalable_units, radix=64, rails=8)
    tiers = bill.switches_by_tier
    full = 256 * scalable_units
    return [
        Comparison(quantity="GPUs", published=gpus, computed=full, source=source,
                   note="ours wires full SUs; the H100 RA leaves one node slot per SU for UFM"),
        Comparison(quantity="leaf switches", published=leaf, computed=tiers["leaf"], source=source),
        Comparison(quantity="spine switches", published=spine, computed=tiers["spine"],
                   source=source),
        Comparison(quantity="core switches", published=core, computed=tiers.get("core", 0),
                   source=source),
        Comparison(quantity="node-leaf cables", published=node_leaf, computed=full, source=source,
                   note="published count includes the UFM links, excludes the empty slots"),
        Comparison(quantity="leaf-spine cables", published=leaf_spine,
                   computed=counts.leaf_spine_links, source=source),
        Comparison(quantity="spine-core cables", published=spine_core,
                   computed=counts.spine_core_links, source=source),
        Comparison(quantity="bisection (TB/s per direction)", published=None,
                   computed=bill.bisection_bw_bytes_per_s / 1e12, source=source,
                   note="the RA states a full (non-blocking) fat-tree: N·b/2"),
        Comparison(quantity="max links between GPUs", published=None, computed=bill.max_hops,
                   source=source),
    ]


def tpu_v4_pod(*, link_bw_bytes_per_s: float = 45e9) -> list[Comparison]:
    """The 4096-chip TPU v4 pod: 64 cubes of 4x4x4 chips joined by optical circuit switches
    into a 16x16x16 torus. Links crossing a cube face are optical, one OCS port per end."""
    dims, cube = (16, 16, 16), 4
    optical = sum((d // cube) * (4096 // d) for d in dims)  # cube boundaries per ring x rings
    return [
        Comparison(quantity="chips", published=4096, computed=16**3, source=TPU_V4),
        Comparison(quantity="4x4x4 cubes (racks)", published=64, computed=4096 // cube**3,
                   source=TPU_V4),
        Comparison(quantity="ICI links per chip", published=6, computed=2 * torus_links(dims) / 4096,
                   source=TPU_V4),
        Comparison(quantity="optical (inter-cube) links", published=None, computed=optical,
                   source=TPU_V4, note="6 faces x 16 links x 64 cubes / 2"),
        Comparison(quantity="optical circuit switches", published=48, computed=2 * optical / 128,
                   source=TPU_V4, note="one OCS port per optical link end, 128 ports used per "
                                       "OCS (assumed: the 136-port OCS less spares)"),
        Comparison(quantity="electrical (in-cube) links", published=None,
                   computed=torus_links(dims) - optical, source=TPU_V4),
        Comparison(quantity="bisection links (16x16x16 torus)", published=None,
                   computed=torus_bisection_links(dims), source=TPU_V4,
                   note="2·N/k across a dimension; wraparound doubles the cut"),
        Comparison(quantity="bisection (TB/s per direction)", published=None,
                   computed=torus_bisection_links(dims) * link_bw_bytes_per_s / 1e12,
                   source=TPU_V4, note="45 GB/s per link per direction (catalog TPU-ICI-v4)"),
        Comparison(quantity="diameter (links)", published=None,
                   computed=torus_diameter_links(dims), source=TPU_V4),
        Comparison(quantity="mean links between chips", published=None,
                   computed=torus_mean_hops(dims), source=TPU_V4),
    ]
