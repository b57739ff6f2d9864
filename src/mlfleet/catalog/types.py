"""Typed, frozen views of catalog entries, used by the models.

Each ``from_name`` looks the entry up in the catalog (with 'did you mean' errors)
and reads the fields the models need; optional fields are ``None`` when the
catalog has no sourced value for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlfleet import catalog
from mlfleet.errors import CatalogError

PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8")
"""Precisions the catalog gives dense peak FLOP/s for (where the device defines them)."""


@dataclass(frozen=True, kw_only=True)
class Accelerator:
    """An accelerator chip (GPU, TPU, Gaudi) or a host CPU."""

    name: str
    peak_flops_per_s: dict[str, float]
    """Dense peak FLOP/s by precision (no structured sparsity)."""
    hbm_bytes: float
    """On-package memory capacity (HBM, or DRAM for a CPU)."""
    hbm_bw_bytes_per_s: float
    """Peak memory bandwidth."""
    tdp_w: float | None = None
    """Thermal design power of one chip (or module); None where the vendor publishes none."""
    scaleup_bw_bytes_per_s: float | None = None
    """Per-direction chip-to-chip bandwidth of the scale-up fabric (NVLink, ICI, ...)."""
    cloud_usd_per_h: tuple[float, float] | None = None
    """Public on-demand cloud price range per chip-hour (low, high)."""
    purchase_usd: tuple[float, float] | None = None
    """Public purchase price range per chip (low, high)."""

    def flops_per_s(self, precision: str) -> float:
        """Dense peak FLOP/s at ``precision``; CatalogError listing what the chip defines."""
        if precision not in self.peak_flops_per_s:
            raise CatalogError(
                f"{self.name} has no {precision!r} peak; defined: {', '.join(self.peak_flops_per_s)}"
            )
        return self.peak_flops_per_s[precision]

    @classmethod
    def from_name(cls, name: str) -> Accelerator:
        e = catalog.get(name, kind="accelerator")
        return cls(
            name=e.name,
            peak_flops_per_s=e.group("flops_per_s"),
            hbm_bytes=e.require("hbm_bytes"),
            hbm_bw_bytes_per_s=e.require("hbm_bw_bytes_per_s"),
            tdp_w=e.get("tdp_w"),
            scaleup_bw_bytes_per_s=e.get("scaleup_bw_bytes_per_s"),
            cloud_usd_per_h=_range(e, "price.cloud_usd_per_h"),
            purchase_usd=_range(e, "price.purchase_usd"),
        )


def _range(entry: catalog.Entry, stem: str) -> tuple[float, float] | None:
    low, high = entry.get(stem + "_low"), entry.get(stem + "_high")
    if low is None or high is None:
        return None
    return (float(low), float(high))


@dataclass(frozen=True, kw_only=True)
class Interconnect:
    """A link technology: bandwidth per direction and typical latency."""

    name: str
    bw_bytes_per_s: float
    """Per-direction bandwidth of one link/port as the catalog defines it (see summary)."""
    latency_s: float
    """Typical one-way small-message latency (switch hop + software, as cited)."""
    scope: str
    """'scale-up' (inside a node/pod) or 'scale-out' (between nodes)."""

    @classmethod
    def from_name(cls, name: str) -> Interconnect:
        e = catalog.get(name, kind="interconnect")
        return cls(name=e.name, bw_bytes_per_s=e.require("bw_bytes_per_s"),
                   latency_s=e.require("latency_s"), scope=str(e.get("scope", "scale-out")))


@dataclass(frozen=True, kw_only=True)
class StorageMedium:
    """A storage device or service."""

    name: str
    read_bw_bytes_per_s: float
    write_bw_bytes_per_s: float
    latency_s: float
    read_iops: float | None = None
    usd_per_gb_month: float | None = None

    @classmethod
    def from_name(cls, name: str) -> StorageMedium:
        e = catalog.get(name, kind="storage")
        return cls(name=e.name, read_bw_bytes_per_s=e.require("read_bw_bytes_per_s"),
                   write_bw_bytes_per_s=e.require("write_bw_bytes_per_s"),
                   latency_s=e.require("latency_s"), read_iops=e.get("read_iops"),
                   usd_per_gb_month=e.get("cost_usd_per_gb_month"))


@dataclass(frozen=True, kw_only=True)
class Workload:
    """A model: parameters, FLOPs and bytes per unit of work (token or sample)."""

    name: str
    family: str
    """llm, moe, recsys, vision, speech or gnn."""
    unit: str
    """What one unit of work is: 'token' or 'sample'."""
    params: float
    """Total parameter count."""
    active_params: float
    """Parameters touched per unit (differs from params for MoE)."""
    fwd_flop: float
    """Forward FLOP per unit."""
    bwd_flop: float
    """Backward FLOP per unit (about 2x forward)."""
    activation_bytes: float | None = None
    """Activation memory per unit at training, without recomputation (as cited)."""
    embedding_bytes: float | None = None
    """Total embedding-table bytes (RecSys, LLM vocab)."""
    shape: dict[str, float] = field(default_factory=dict)
    """Layer shapes where models need them (layers, d_model, n_heads, ...)."""

    @classmethod
    def from_name(cls, name: str) -> Workload:
        e = catalog.get(name, kind="workload")
        params = float(e.require("params"))
        return cls(name=e.name, family=str(e.require("family")), unit=str(e.require("unit")),
                   params=params, active_params=float(e.get("active_params", params)),
                   fwd_flop=e.require("fwd_flop"), bwd_flop=e.require("bwd_flop"),
                   activation_bytes=e.get("activation_bytes"),
                   embedding_bytes=e.get("embedding_bytes"), shape=e.group("shape"))


@dataclass(frozen=True, kw_only=True)
class Cluster:
    """A cluster: nodes of accelerators, a scale-up fabric inside a node, a scale-out network."""

    name: str
    accelerator: Accelerator
    nodes: int
    gpus_per_node: int
    scaleup: Interconnect
    scaleout: Interconnect
    rails_per_node: int
    """Scale-out NICs (rails) per node."""
    oversubscription: float
    """Ratio of downlink to uplink bandwidth at the leaf switches (1.0 = non-blocking)."""
    topology: str

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def node_scaleout_bw_bytes_per_s(self) -> float:
        """Per-direction scale-out bandwidth of one node (all rails)."""
        return self.rails_per_node * self.scaleout.bw_bytes_per_s

    @classmethod
    def from_name(cls, name: str, *, oversubscription: float | None = None) -> Cluster:
        e = catalog.get(name, kind="cluster")
        ratio = float(e.get("oversubscription", 1.0)) if oversubscription is None else oversubscription
        return cls(name=e.name, accelerator=Accelerator.from_name(e.require("accelerator")),
                   nodes=int(e.require("nodes")), gpus_per_node=int(e.require("gpus_per_node")),
                   scaleup=Interconnect.from_name(e.require("scaleup")),
                   scaleout=Interconnect.from_name(e.require("scaleout")),
                   rails_per_node=int(e.get("rails_per_node", 1)), oversubscription=ratio,
                   topology=str(e.get("topology", "fat-tree")))


@dataclass(frozen=True, kw_only=True)
class FailureCause:
    """A cause of job-interrupting failures: one unit's mean time between them, in service."""

    name: str
    summary: str
    category: str
    """gpu, network, host, software, unknown, or fleet (all causes of one fleet together)."""
    scope: str
    """'gpu' (one unit per accelerator) or 'node' (one unit per server)."""
    unit_mtbf_h: float
    """Hours between failures of one unit (the catalog value: a fit or a fleet measurement)."""
    source: str
    independent_unit_mtbf_h: float | None = None
    """The same from a fleet other than the one ``unit_mtbf_h`` was fitted on, where known."""
    independent_source: str | None = None

    @classmethod
    def from_name(cls, name: str) -> FailureCause:
        e = catalog.get(name, kind="failure")
        independent = e.values.get("independent_unit_mtbf_h")
        return cls(name=e.name, summary=e.summary, category=str(e.require("category")),
                   scope=str(e.require("scope")), unit_mtbf_h=float(e.require("unit_mtbf_h")),
                   source=e.values["unit_mtbf_h"].source,
                   independent_unit_mtbf_h=None if independent is None else float(independent.value),
                   independent_source=None if independent is None else independent.source)
