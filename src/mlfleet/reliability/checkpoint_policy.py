"""Expected waste and goodput of three checkpoint policies, each put through Daly's model.

Every policy is reduced to the two numbers Daly's expected wall time needs (FGCS 2006,
eq. 20, :mod:`mlfleet.reliability.checkpoint_interval`): the time a checkpoint holds up
training (``delta``) and the time a failure costs beyond the lost segment (``R``).

* ``sync``: training waits while the whole checkpoint is written to persistent storage:
  ``delta = S / B_write``; ``R = detection + restart + S / B_read``.
* ``async``: only the device-to-host snapshot is on the critical path (``delta = S /
  B_snapshot``); the write to storage (``W = S / B_write``) runs in the background and must
  finish before the next snapshot (``tau >= W``). A failure during that write falls back one
  checkpoint more: with the failure uniform in a segment, that adds ``W`` of rework on
  average, charged to ``R``. (Nebula/DCP-style async save.)
* ``in-memory``: the snapshot is replicated into the host memory of ``replicas - 1`` peer
  nodes over the training network (Wang et al., "Gemini", SOSP'23): ``delta = S / B_snapshot``
  (replication overlaps training, so only the local copy stalls it); recovery loads from a
  peer, ``R = detection + restart + S / B_peer``. When every node of a replica group is down
  at once, recovery falls back to the last persistent checkpoint (written asynchronously
  every ``persist_every_s``): with independent failures the chance is about
  ``(replicas - 1) * R / MTBF_node`` per failure, and costs half a persistent period plus a
  load from storage. Correlated failures (a switch taking a group down) raise it; the
  goodput simulation (``mlfleet sim goodput``) covers those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.reliability.checkpoint_interval import daly_goodput, daly_interval_s

POLICIES = ("sync", "async", "in-memory")


@dataclass(frozen=True, kw_only=True)
class CheckpointSetting:
    """What a checkpoint costs on one job, in bytes, bandwidths and seconds."""

    ckpt_bytes: float
    """One full checkpoint of the job (all shards)."""
    write_bw_bytes_per_s: float
    """Aggregate write bandwidth of the job to persistent storage."""
    read_bw_bytes_per_s: float
    """Aggregate read bandwidth from persistent storage at restart."""
    snapshot_bw_bytes_per_s: float
    """Aggregate device-to-host copy bandwidth (all GPUs' PCIe links together)."""
    peer_bw_bytes_per_s: float
    """Aggregate bandwidth for copying shards to and from peers' host memory (all nodes)."""
    mtbf_s: float
    """The whole job's mean time between interruptions."""
    nodes: int
    detection_s: float
    restart_s: float
    """Rescheduling and re-initialising the job, not counting the checkpoint load."""
    replicas: int = 2
    """In-memory policy: copies of each shard, the node's own included (Gemini uses 2)."""
    persist_every_s: float | None = None
    """In-memory policy: period of the persistent checkpoints; None = the sync optimum."""
    min_interval_s: float = 0.0
    """Shortest interval allowed: checkpoints fall on step boundaries (give the step time)."""

    def __post_init__(self) -> None:
        for name in ("ckpt_bytes", "write_bw_bytes_per_s", "read_bw_bytes_per_s",
                     "snapshot_bw_bytes_per_s", "peer_bw_bytes_per_s", "mtbf_s"):
            positive(name, getattr(self, name))
        non_negative("detection_s", self.detection_s)
        non_negative("restart_s", self.restart_s)
        non_negative("min_interval_s", self.min_interval_s)
        positive_int("nodes", self.nodes)
        positive_int("replicas", self.replicas, minimum=2)
        if self.persist_every_s is not None:
            positive("persist_every_s", self.persist_every_s)


@dataclass(frozen=True, kw_only=True)
class PolicyResult:
    """One policy's checkpoint stall, failure cost, optimal interval and goodput."""

    policy: str
    stall_s: float
    """Time one checkpoint holds up training (Daly's delta)."""
    durable_after_s: float
    """Time from the start of a checkpoint until it survives the loss of the node."""
    failure_cost_s: float
    """Time a failure costs beyond the lost segment (Daly's R, adjusted as described)."""
    interval_s: float
    """Work between checkpoints: Daly's optimum, raised where the policy needs more."""
    goodput: float
    """Useful work / wall time (Daly, eq. 20)."""

    @property
    def waste(self) -> float:
        return 1.0 - self.goodput


def safe_goodput(*, interval_s: float, ckpt_s: float, restart_s: float, mtbf_s: float) -> float:
    """Daly's goodput, 0.0 where the expected wall time overflows (the job never finishes)."""
    try:
        return daly_goodput(interval_s=interval_s, ckpt_s=ckpt_s, restart_s=restart_s,
                            mtbf_s=mtbf_s)
    except OverflowError:
        return 0.0


def _daly(policy: str, setting: CheckpointSetting, *, stall_s: float, durable_after_s: float,
          failure_cost_s: float, min_interval_s: float = 0.0,
          interval_s: float | None = None) -> PolicyResult:
    floor_s = max(min_interval_s, setting.min_interval_s)
    tau = interval_s if interval_s is not None else max(
        daly_interval_s(ckpt_s=stall_s, mtbf_s=setting.mtbf_s), floor_s)
    goodput = safe_goodput(interval_s=tau, ckpt_s=stall_s, restart_s=failure_cost_s,
                           mtbf_s=setting.mtbf_s)
    return PolicyResult(policy=policy, stall_s=stall_s, durable_after_s=durable_after_s,
                        failure_cost_s=failure_cost_s, interval_s=tau, goodput=goodput)


def sync_policy(setting: CheckpointSetting, *, interval_s: float | None = None) -> PolicyResult:
    """Blocking write to persistent storage."""
    write_s = setting.ckpt_bytes / setting.write_bw_bytes_per_s
    cost = setting.detection_s + setting.restart_s + setting.ckpt_bytes / setting.read_bw_bytes_per_s
    return _daly("sync", setting, stall_s=write_s, durable_after_s=write_s, failure_cost_s=cost,
                 interval_s=interval_s)


def async_policy(setting: CheckpointSetting, *, interval_s: float | None = None) -> PolicyResult:
    """Snapshot to host memory on the critical path, write to storage in the background."""
    snap_s = setting.ckpt_bytes / setting.snapshot_bw_bytes_per_s
    write_s = setting.ckpt_bytes / setting.write_bw_bytes_per_s
    cost = (setting.detection_s + setting.restart_s
            + setting.ckpt_bytes / setting.read_bw_bytes_per_s + write_s)
    return _daly("async", setting, stall_s=snap_s, durable_after_s=snap_s + write_s,
                 failure_cost_s=cost, min_interval_s=write_s, interval_s=interval_s)


def fallback_probability(setting: CheckpointSetting, *, recovery_s: float) -> float:
    """Chance that a failure's whole replica group is down before it recovers (independent
    node failures): ``1 - exp(-(replicas - 1) * recovery_s / MTBF_node)``; 1 when the job has
    fewer nodes than replicas."""
    if setting.nodes < setting.replicas:  # no room for the copies: every failure falls back
        return 1.0
    node_mtbf_s = setting.mtbf_s * setting.nodes
    return -math.expm1(-(setting.replicas - 1) * recovery_s / node_mtbf_s)


def in_memory_policy(setting: CheckpointSetting, *,
                     interval_s: float | None = None) -> PolicyResult:
    """Snapshot replicated to peers' host memory; persistent checkpoints as a fallback."""
    snap_s = setting.ckpt_bytes / setting.snapshot_bw_bytes_per_s
    replicate_s = (setting.replicas - 1) * setting.ckpt_bytes / setting.peer_bw_bytes_per_s
    recover_s = setting.detection_s + setting.restart_s \
        + setting.ckpt_bytes / setting.peer_bw_bytes_per_s
    persist_s = setting.persist_every_s or sync_policy(setting).interval_s
    p = fallback_probability(setting, recovery_s=recover_s)
    fallback_s = persist_s / 2.0 + setting.ckpt_bytes / setting.read_bw_bytes_per_s
    return _daly("in-memory", setting, stall_s=snap_s, durable_after_s=snap_s + replicate_s,
                 failure_cost_s=recover_s + p * fallback_s, min_interval_s=replicate_s,
                 interval_s=interval_s)


def compare(setting: CheckpointSetting, *,
            interval_s: float | None = None) -> tuple[PolicyResult, ...]:
    """The three policies on one job, each at its own optimum (or at ``interval_s``)."""
    return (sync_policy(setting, interval_s=interval_s),
            async_policy(setting, interval_s=interval_s),
            in_memory_policy(setting, interval_s=interval_s))
