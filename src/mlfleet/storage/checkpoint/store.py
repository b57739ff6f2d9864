"""The checkpoint store: sharded, checksummed checkpoints committed atomically on a filesystem.

Layout under ``root``::

    step-00000120/rank-00000.safetensors   committed shards
    step-00000120/MANIFEST.json            written last: no manifest, no checkpoint
    .staging-step-00000140/                shards (and their .json sidecars) being written

Commit protocol: each shard goes to a temporary file, is fsynced and renamed into the
step's staging directory; the committer checks every named shard is staged, writes the
manifest (temp -> fsync -> rename), fsyncs the staging directory, renames it to
``step-N`` and fsyncs the root. A crash before that last rename leaves only a staging
directory, which is never read: the previous checkpoint stays the latest one.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import torch

from mlfleet.checks import one_of, positive_int

from .compression import CODECS, SUFFIX
from .delta import apply_delta, encode_delta
from .errors import CheckpointError, CorruptCheckpointError
from .fs import check_writable, fsync_dir, parse_step, remove_quietly, remove_strays, write_error
from .manifest import MANIFEST_NAME, CheckpointInfo, ShardRecord, read_manifest
from .retention import steps_to_keep
from .shard_file import read_shard_file, verify_shard_file, write_shard_file

_STEP_PREFIX = "step-"
_STAGING_PREFIX = ".staging-step-"
_META_KEY = "mlfleet_meta"
_DELTA_KEY = "mlfleet_delta_removed"


def step_dir_name(step: int) -> str:
    return f"{_STEP_PREFIX}{step:08d}"


class CheckpointStore:
    """Checkpoints under one root directory; see the module docstring for the protocol."""

    def __init__(self, root: str | os.PathLike[str], *, keep_last: int | None = 3,
                 keep_every: int = 0, compression: str | None = None,
                 fsync: bool = True) -> None:
        """Create ``root`` if needed; CheckpointError if it cannot be written or an option is bad."""
        if keep_last is not None:
            positive_int("keep_last", keep_last, error=CheckpointError)
        self.keep_last = keep_last
        self.keep_every = positive_int("keep_every", keep_every, minimum=0, error=CheckpointError)
        if compression is not None:
            one_of("compression", compression, CODECS, error=CheckpointError)
        self.compression = compression
        self.fsync = fsync
        self.root = Path(root)
        check_writable(self.root)

    # -- paths -----------------------------------------------------------------------------
    def step_path(self, step: int) -> Path:
        return self.root / step_dir_name(step)

    def staging_path(self, step: int) -> Path:
        return self.root / f"{_STAGING_PREFIX}{step:08d}"

    def _shard_file(self, name: str) -> str:
        if not name or "/" in name or name.startswith(".") or name == MANIFEST_NAME:
            raise CheckpointError(f"shard name(={name!r}) must be a plain file name, e.g. "
                                  "'rank-00002'")
        return name + ".safetensors" + (SUFFIX[self.compression] if self.compression else "")

    # -- writing ---------------------------------------------------------------------------
    def write_shard(self, step: int, name: str, tensors: Mapping[str, torch.Tensor],
                    meta: Mapping[str, Any] | None = None, *,
                    delta_from: int | None = None) -> ShardRecord:
        """Stage one shard of ``step`` durably; CheckpointWriteError (staging left clean) on I/O errors.

        ``delta_from``: a committed step whose shard ``name`` this one is stored as a delta
        against (only changed rows; see delta.py); loading resolves the chain.
        """
        positive_int("step", step, minimum=0, error=CheckpointError)
        file = self._shard_file(name)
        staging = self.staging_path(step)
        header_meta = {_META_KEY: json.dumps(dict(meta or {}), allow_nan=False)}
        if delta_from is not None:
            delta = encode_delta(self.load_shard(delta_from, name)[0], tensors)
            tensors = delta.tensors
            header_meta[_DELTA_KEY] = json.dumps(list(delta.removed))
        target = staging / file
        try:
            staging.mkdir(parents=True, exist_ok=True)
            with self._atomic(target, "wb") as f:
                hashed = write_shard_file(f, tensors, header_meta, compression=self.compression)
            written = hashed()  # the hash ran while the shard was written and fsynced
            rec = ShardRecord(name=name, file=file, bytes=written.bytes, sha256=written.sha256,
                              compression=self.compression, base_step=delta_from)
            with self._atomic(staging / (name + ".json"), "wb") as f:
                f.write(json.dumps(rec.as_dict()).encode())
            if self.fsync:
                fsync_dir(staging)
        except OSError as exc:
            remove_quietly(target)
            raise write_error(target, exc) from None
        return rec

    @contextmanager
    def _atomic(self, path: Path, mode: str) -> Iterator[BinaryIO]:
        """Write ``path`` via a unique temp file: flush, fsync, rename; the temp is removed on error."""
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            with open(tmp, mode) as f:
                yield f  # type: ignore[misc]
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            remove_quietly(tmp)
            raise

    def commit(self, step: int, shard_names: Sequence[str],
               meta: Mapping[str, Any] | None = None) -> CheckpointInfo:
        """Make ``step`` a checkpoint of the named staged shards, then apply retention.

        CorruptCheckpointError if a named shard is not staged; CheckpointWriteError on I/O errors.
        """
        positive_int("step", step, minimum=0, error=CheckpointError)
        staging = self.staging_path(step)
        shards = tuple(self._staged_record(staging, n) for n in shard_names)
        info = CheckpointInfo(step=step, path=self.step_path(step), shards=shards,
                              meta=dict(meta or {}))
        manifest = staging / MANIFEST_NAME
        try:
            remove_strays(staging, shards)
            with self._atomic(manifest, "wb") as f:
                f.write(info.manifest_json().encode())
            if self.fsync:
                fsync_dir(staging)
            self._publish(staging, info.path)
        except OSError as exc:
            raise write_error(manifest, exc) from None
        self.apply_retention()
        return info

    def _staged_record(self, staging: Path, name: str) -> ShardRecord:
        sidecar = staging / (name + ".json")
        try:
            rec = ShardRecord.from_dict(json.loads(sidecar.read_text()))
            size = (staging / rec.file).stat().st_size
        except (OSError, ValueError, KeyError):
            raise CorruptCheckpointError(f"shard {name!r} is not staged in {staging}") from None
        if size != rec.bytes:
            raise CorruptCheckpointError(f"staged shard {staging / rec.file} has {size} bytes, "
                                         f"its record says {rec.bytes}")
        return rec

    def _publish(self, staging: Path, final: Path) -> None:
        """Rename the staging directory into place (replacing an older copy of the same step)."""
        old = None
        if final.exists():
            old = self.root / f".trash-{final.name}-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
        os.replace(staging, final)
        if self.fsync:
            fsync_dir(self.root)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def apply_retention(self) -> list[int]:
        """Delete committed checkpoints the policy does not keep, and stale staging; returns deleted steps."""
        steps = self.steps()
        kept = self._with_bases(steps_to_keep(steps, keep_last=self.keep_last,
                                              keep_every=self.keep_every))
        deleted = [s for s in steps if s not in kept]
        for s in deleted:
            self._delete(self.step_path(s))
        newest = steps[-1] if steps else -1
        for path in self.root.glob(_STAGING_PREFIX + "*"):
            step = parse_step(path.name, _STAGING_PREFIX)
            if step is not None and step < newest:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(".trash-*"):  # left by a crash in the middle of a delete
            shutil.rmtree(path, ignore_errors=True)
        return deleted

    def _with_bases(self, kept: set[int]) -> set[int]:
        """``kept`` plus every step a kept delta shard needs, transitively."""
        todo, out = list(kept), set(kept)
        while todo:
            for rec in read_manifest(self.step_path(todo.pop())).shards:
                if rec.base_step is not None and rec.base_step not in out:
                    out.add(rec.base_step)
                    todo.append(rec.base_step)
        return out

    def _delete(self, path: Path) -> None:
        # Rename first: a half-deleted directory must never look like a checkpoint.
        trash = self.root / f".trash-{path.name}-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(path, trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    # -- reading ---------------------------------------------------------------------------
    def steps(self) -> list[int]:
        """Committed steps (a step directory holding a manifest), ascending."""
        found = []
        for path in self.root.glob(_STEP_PREFIX + "*"):
            step = parse_step(path.name, _STEP_PREFIX)
            if step is not None and (path / MANIFEST_NAME).is_file():
                found.append(step)
        return sorted(found)

    def info(self, step: int) -> CheckpointInfo:
        """The committed checkpoint of ``step``; CheckpointError if there is none."""
        path = self.step_path(step)
        if not (path / MANIFEST_NAME).is_file():
            raise CheckpointError(f"no committed checkpoint for step {step} under {self.root}; "
                                  f"committed: {self.steps() or 'none'}")
        return read_manifest(path)

    def latest(self) -> CheckpointInfo | None:
        """The newest committed checkpoint, or None."""
        steps = self.steps()
        return self.info(steps[-1]) if steps else None

    def load_shard(self, step: int, name: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """``(tensors, meta)`` of one shard, checksum verified; CorruptCheckpointError naming the file."""
        info = self.info(step)
        rec = info.shard(name)
        tensors, header = read_shard_file(info.path / rec.file, sha256=rec.sha256,
                                          compression=rec.compression)
        try:
            meta = json.loads(header.get(_META_KEY, "{}"))
            removed = json.loads(header.get(_DELTA_KEY, "[]"))
        except ValueError:
            raise CorruptCheckpointError(f"checkpoint shard {info.path / rec.file} has "
                                         "unreadable metadata") from None
        if rec.base_step is not None:
            tensors = apply_delta(self.load_shard(rec.base_step, name)[0], tensors, removed)
        return tensors, meta

    def verify(self, step: int, shard_names: Sequence[str] | None = None) -> CheckpointInfo:
        """Check the shards' checksums; the info, or CorruptCheckpointError for the first bad shard."""
        info = self.info(step)
        for name in info.shard_names if shard_names is None else shard_names:
            rec = info.shard(name)
            verify_shard_file(info.path / rec.file, sha256=rec.sha256)
            if rec.base_step is not None:
                self.verify(rec.base_step, [name])
        return info

    def latest_good(self, shard_names: Sequence[str] | None = None, *,
                    on_skip: Callable[[CorruptCheckpointError], None] | None = None,
                    ) -> CheckpointInfo | None:
        """The newest checkpoint whose shards all verify; each one skipped goes to ``on_skip``."""
        for step in reversed(self.steps()):
            try:
                return self.verify(step, shard_names)
            except CorruptCheckpointError as exc:
                if on_skip is not None:
                    on_skip(exc)
        return None
