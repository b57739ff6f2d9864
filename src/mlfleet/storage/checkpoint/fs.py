"""Filesystem helpers of the checkpoint store: durable renames, cleanup, error messages."""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from .errors import CheckpointError, CheckpointWriteError
from .manifest import MANIFEST_NAME, ShardRecord


def fsync_dir(path: Path) -> None:
    """Make a rename or create inside ``path`` durable (POSIX: fsync the directory)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_error(path: Path, exc: OSError) -> CheckpointWriteError:
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
    return CheckpointWriteError(f"cannot write checkpoint file {path}: {reason}")


def parse_step(name: str, prefix: str) -> int | None:
    rest = name[len(prefix):]
    return int(rest) if name.startswith(prefix) and rest.isdigit() else None


def remove_strays(staging: Path, shards: Sequence[ShardRecord]) -> None:
    """Delete what a crashed earlier attempt left in ``staging`` (temp files, unnamed shards)."""
    wanted = {MANIFEST_NAME} | {s.file for s in shards} | {s.name + ".json" for s in shards}
    for path in staging.iterdir():
        if path.name not in wanted:
            remove_quietly(path)


def remove_quietly(path: Path) -> None:
    with suppress(OSError):
        path.unlink()


def check_writable(root: Path) -> None:
    """CheckpointError naming ``root`` unless a file can be created in it (root ignores modes)."""
    probe = root / f".probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CheckpointError(f"checkpoint directory {root} is not writable: "
                              f"{exc.strerror or exc}") from None
