"""Errors of the checkpoint store: every one is a single line naming the file and the cause."""

from __future__ import annotations

from mlfleet.errors import InputError


class CheckpointError(InputError):
    """A checkpoint root that cannot be used, or a checkpoint that cannot be read (exit 2)."""


class CorruptCheckpointError(CheckpointError):
    """A shard whose bytes do not match the checksum in its manifest, or a missing shard."""


class CheckpointWriteError(CheckpointError):
    """Writing a shard or a manifest failed (disk full, I/O error): nothing was committed."""

    exit_code = 1
