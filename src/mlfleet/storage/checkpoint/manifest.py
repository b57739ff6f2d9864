"""The records a checkpoint is described by: one per shard, one manifest per checkpoint.

The manifest (``MANIFEST.json``) is written last; a step directory without one is not a
checkpoint. Each shard also gets a small sidecar (``<shard>.json``) when it is staged, so
that the process committing the step need not be the one that wrote the shard.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CorruptCheckpointError

FORMAT = "mlfleet-checkpoint/1"
MANIFEST_NAME = "MANIFEST.json"


@dataclass(frozen=True, kw_only=True)
class ShardRecord:
    """One staged or committed shard."""

    name: str
    """Shard name, e.g. 'rank-00002'."""
    file: str
    """File name inside the step directory."""
    bytes: int
    """Bytes on disk (after compression)."""
    sha256: str
    """Checksum of the bytes on disk: SHA-256 over their 64 MiB blocks' SHA-256 (tree_hash.py)."""
    compression: str | None = None
    base_step: int | None = None
    """For a delta shard, the committed step it is a delta against; None for a full shard."""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "bytes": self.bytes,
                "sha256": self.sha256, "compression": self.compression,
                "base_step": self.base_step}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ShardRecord:
        return cls(name=str(d["name"]), file=str(d["file"]), bytes=int(d["bytes"]),
                   sha256=str(d["sha256"]), compression=d.get("compression"),
                   base_step=None if d.get("base_step") is None else int(d["base_step"]))


@dataclass(frozen=True, kw_only=True)
class CheckpointInfo:
    """A committed checkpoint: its step, directory, shards and the caller's metadata."""

    step: int
    path: Path
    shards: tuple[ShardRecord, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(s.bytes for s in self.shards)

    @property
    def shard_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.shards)

    def shard(self, name: str) -> ShardRecord:
        for s in self.shards:
            if s.name == name:
                return s
        raise CorruptCheckpointError(f"checkpoint {self.path} has no shard {name!r}; it has "
                                     f"{', '.join(self.shard_names) or 'none'}")

    def manifest_json(self) -> str:
        return json.dumps({"format": FORMAT, "step": self.step,
                           "shards": [s.as_dict() for s in self.shards],
                           "meta": dict(self.meta)}, indent=1, allow_nan=False)


def read_manifest(step_dir: Path) -> CheckpointInfo:
    """The checkpoint described by ``step_dir/MANIFEST.json``; CorruptCheckpointError if unreadable."""
    path = step_dir / MANIFEST_NAME
    try:
        d = json.loads(path.read_text())
        if d.get("format") != FORMAT:
            raise ValueError(f"format {d.get('format')!r} is not {FORMAT!r}")
        return CheckpointInfo(step=int(d["step"]), path=step_dir,
                              shards=tuple(ShardRecord.from_dict(s) for s in d["shards"]),
                              meta=d.get("meta") or {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptCheckpointError(f"checkpoint manifest {path} is unreadable: {exc}") from None
