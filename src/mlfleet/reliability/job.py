"""A training job's checkpoint setting from its cluster shape, storage and failure rate.

The stated defaults the models use when the caller gives no number:

* detection 5 min and restart 5 min (10 min together, Daly's own example's restart time;
  PyTorch's default process-group timeout is 10 min, a tuned watchdog detects in minutes);
* snapshot bandwidth per GPU: the catalog's PCIe5-x16 peak (device-to-host copy), an upper
  bound; a measured copy reaches less;
* peer bandwidth per node: the node's scale-out bandwidth (all rails);
* aggregate storage bandwidth: a device medium (NVMe, SSD, HDD) is one drive per node
  (local checkpoints); a service medium scales out: one building block per
  :data:`GPUS_PER_STORAGE_BLOCK` GPUs (parallel-fs) or one connection per GPU (object storage).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.catalog.types import Interconnect, StorageMedium
from mlfleet.checks import positive, positive_int
from mlfleet.reliability.checkpoint_policy import CheckpointSetting

DEFAULT_DETECTION_S = 300.0
DEFAULT_RESTART_S = 300.0
SNAPSHOT_LINK = "PCIe5-x16"
GPUS_PER_STORAGE_BLOCK = 256
"""One parallel-file-system building block per 256 GPUs (32 8-GPU nodes, one DGX SuperPOD
scalable unit): our sizing assumption, stated in docs/reliability.md."""
DEVICE_MEDIA = ("NVMe-Gen4", "SATA-SSD", "HDD")


@dataclass(frozen=True, kw_only=True)
class JobShape:
    """The GPUs of a job and how they sit in nodes."""

    gpus: int
    gpus_per_node: int
    node_net_bw_bytes_per_s: float
    """Per-direction scale-out bandwidth of one node."""

    def __post_init__(self) -> None:
        positive_int("gpus", self.gpus)
        positive_int("gpus_per_node", self.gpus_per_node)
        positive("node_net_bw_bytes_per_s", self.node_net_bw_bytes_per_s)

    @property
    def nodes(self) -> int:
        return math.ceil(self.gpus / self.gpus_per_node)


def storage_bw_bytes_per_s(medium: str, *, gpus: int, gpus_per_node: int) -> tuple[float, float]:
    """Aggregate (write, read) bandwidth of a catalog medium for a job (see module doc)."""
    spec = StorageMedium.from_name(medium)
    if spec.name in DEVICE_MEDIA:
        units = math.ceil(gpus / gpus_per_node)
    elif spec.name == "object-storage":
        units = gpus
    else:
        units = math.ceil(gpus / GPUS_PER_STORAGE_BLOCK)
    return units * spec.write_bw_bytes_per_s, units * spec.read_bw_bytes_per_s


def checkpoint_setting(shape: JobShape, *, ckpt_bytes: float, write_bw_bytes_per_s: float,
                       mtbf_s: float, read_bw_bytes_per_s: float | None = None,
                       snapshot_bw_per_gpu_bytes_per_s: float | None = None,
                       detection_s: float = DEFAULT_DETECTION_S,
                       restart_s: float = DEFAULT_RESTART_S,
                       min_interval_s: float = 0.0) -> CheckpointSetting:
    """The :class:`CheckpointSetting` of a job, filling the stated defaults."""
    snap = snapshot_bw_per_gpu_bytes_per_s or Interconnect.from_name(SNAPSHOT_LINK).bw_bytes_per_s
    return CheckpointSetting(
        ckpt_bytes=ckpt_bytes, write_bw_bytes_per_s=write_bw_bytes_per_s,
        read_bw_bytes_per_s=read_bw_bytes_per_s or write_bw_bytes_per_s,
        snapshot_bw_bytes_per_s=shape.gpus * snap,
        peer_bw_bytes_per_s=shape.nodes * shape.node_net_bw_bytes_per_s,
        mtbf_s=mtbf_s, nodes=shape.nodes, detection_s=detection_s, restart_s=restart_s,
        min_interval_s=min_interval_s)
