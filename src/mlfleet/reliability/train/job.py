"""The training job's parameters and the per-attempt header the supervisor sends each rank."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mlfleet.reliability.train.model import ModelSpec

BALLAST_NAME = ".disk-full-ballast"
"""The file the disk-full injection fills the checkpoint file system with (then removed)."""


@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """What to train and how often to checkpoint (identical for every attempt)."""

    steps: int
    """Optimizer steps of the whole job."""
    ckpt_every: int
    """Steps between checkpoints (a checkpoint is also taken after the last step)."""
    seed: int = 0
    """Seed of the data, the initial weights and every rank's generators."""
    per_rank_batch: int = 32
    """Samples per rank per step."""
    lr: float = 0.01
    """Adam's learning rate at the initial world size (cosine-annealed over the run)."""
    model: ModelSpec = field(default_factory=ModelSpec)
    """The MLP and its dataset."""
    async_ckpt: bool = False
    """Snapshot in memory on the training path, write in a background thread."""
    compression: str | None = None
    """Shard compression codec of the store (None: raw safetensors)."""
    keep_last: int = 3
    """Retention: newest checkpoints kept."""
    keep_every: int = 0
    """Retention: also keep every checkpoint whose step is a multiple of this (0: none)."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainSpec:
        return cls(**{**d, "model": ModelSpec(**d["model"])})


@dataclass(frozen=True, kw_only=True)
class RankJob:
    """One rank's header for one attempt (sent as a JSON line on its stdin)."""

    spec: TrainSpec
    rank: int
    world: int
    ckpt_root: str
    """The checkpoint store's root directory."""
    rendezvous_path: str
    """The torch.distributed FileStore file of this attempt (fresh per attempt)."""
    resume_step: int | None
    """Checkpoint to restore (None: start from step 0)."""
    stop_step: int
    """Last step of this attempt (the job's last step, or an elastic regrow point)."""
    lr_scale: float
    """Learning-rate multiplier for this world size (linear scaling rule, or 1)."""
    kill_step: int | None = None
    """SIGKILL itself on reaching this step."""
    hang_step: int | None = None
    """SIGSTOP itself on reaching this step."""
    fill_disk_step: int | None = None
    """Before this step's checkpoint rank 0 fills the checkpoint file system (disk-full)."""
    slow_factor: float = 1.0
    """Stretch every step's compute to this multiple (straggler)."""
    nan_step: int | None = None
    """Make this rank's gradient NaN at this step (the optimizer step is then skipped)."""
    spike_step: int | None = None
    """Scale this rank's inputs by ``spike_factor`` at this step (a loss spike)."""
    spike_factor: float = 1.0
    log_dir: str | None = None
    """Write this rank's spans to ``LOG_DIR/rank-NNNNN.jsonl`` (None: no log)."""
    heartbeat_s: float = 0.2
    """Seconds between heartbeats."""
    collective_timeout_s: float = 120.0
    """torch.distributed timeout of a collective."""

    def as_json_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "spec": self.spec.as_dict()}

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> RankJob:
        return cls(**{**d, "spec": TrainSpec.from_dict(d["spec"])})
