"""The supervisor's side of a checkpoint: commit a step once every rank's shard is durable.

Each rank stages its shard itself and reports ``shard`` (with its stall, write time and
bytes) or ``ckpt-error``; when every rank of the world has reported, :class:`Committer`
commits the step through the store (manifest last), records a
:class:`~mlfleet.reliability.train.record.CheckpointEvent`, removes a disk-full ballast
(the operator freed the disk) and applies a ``corrupt`` injection to the committed step.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlfleet.errors import one_line
from mlfleet.reliability.train.inject import Injection
from mlfleet.reliability.train.job import BALLAST_NAME
from mlfleet.reliability.train.rank_state import shard_name
from mlfleet.reliability.train.record import CheckpointEvent, RunRecord
from mlfleet.storage.checkpoint import CheckpointStore, CheckpointWriteError


class Committer:
    """Commits checkpoint steps for the supervisor (see the module docstring)."""

    def __init__(self, store: CheckpointStore, record: RunRecord,
                 injections: Sequence[Injection], fired: set[int]) -> None:
        """``fired``: indexes of ``injections`` already caused (shared with the supervisor)."""
        self.store, self.record, self.injections, self.fired = store, record, injections, fired

    def complete(self, step: int, world: int, results: Mapping[int, Mapping[str, Any]]) -> None:
        """Every rank of ``world`` reported on ``step``: commit it unless a write failed."""
        errors = [str(r["message"]) for r in results.values() if r["event"] == "ckpt-error"]
        written = [r for r in results.values() if r["event"] == "shard"]
        error = errors[0] if errors else None
        if error is None:
            try:
                self.store.commit(step, [shard_name(r) for r in range(world)], {"world": world})
            except CheckpointWriteError as exc:
                error = one_line(str(exc))
        self.record.checkpoints.append(CheckpointEvent(
            step=step, world=world, committed=error is None,
            stall_s=max((float(r["stall_s"]) for r in written), default=None),
            write_s=max((float(r["write_s"]) for r in written), default=None),
            bytes=sum(int(r["bytes"]) for r in written), error=error))
        with contextlib.suppress(FileNotFoundError):
            (self.store.root / BALLAST_NAME).unlink()
        if error is None:
            self._maybe_corrupt(step)

    def _maybe_corrupt(self, step: int) -> None:
        for i, inj in enumerate(self.injections):
            if inj.kind == "corrupt" and inj.step == step and i not in self.fired:
                self.fired.add(i)
                info = self.store.info(step)
                path = info.path / info.shard(shard_name(0)).file
                flip_byte(path, path.stat().st_size // 2)
                self.record.injected.append(f"corrupt: flipped a byte of {path.name} of the "
                                            f"step-{step} checkpoint")


def flip_byte(path: Path, offset: int) -> None:
    """Invert one byte of ``path`` in place (durably)."""
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))
        f.flush()
        os.fsync(f.fileno())
