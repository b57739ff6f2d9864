"""Content versions of data and model artifacts: SHA-256 of files and directory trees.

Files are read in 1 MiB chunks, so memory stays bounded whatever their size. A
directory's hash covers each regular file's relative path, size and SHA-256, in sorted
path order (a Merkle-style list: renaming, adding or changing a file changes it);
up to :data:`MAX_LISTED_FILES` per-file hashes are kept so a verification can name the
files that changed. A directory holding a Delta table (``_delta_log/``) also records its
Delta version (the storage chapter's dataset versions).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from mlfleet.errors import InputError

CHUNK_BYTES = 1 << 20
"""Bytes read at a time."""
MAX_LISTED_FILES = 10_000
"""Most per-file hashes a directory's version keeps (its tree hash covers them all)."""


@dataclass(frozen=True, kw_only=True)
class ContentVersion:
    """What a file or directory held when it was hashed."""

    path: str
    """Absolute path."""
    kind: str
    """``file`` or ``directory``."""
    sha256: str
    """The file's SHA-256, or the tree hash of a directory."""
    files: int
    total_bytes: int
    delta_version: int | None = None
    """The Delta table version, when the directory is one (and ``deltalake`` is installed)."""
    file_sha256: dict[str, str] | None = field(default=None)
    """Relative path -> SHA-256 for a directory of at most :data:`MAX_LISTED_FILES` files."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _regular_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirs, names in os.walk(root):
        subdirs.sort()
        found += [Path(directory, n) for n in sorted(names) if Path(directory, n).is_file()]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _tree_version(root: Path) -> ContentVersion:
    tree = hashlib.sha256()
    listed: dict[str, str] = {}
    files = total = 0
    for path in _regular_files(root):
        rel, digest, size = path.relative_to(root).as_posix(), file_sha256(path), path.stat().st_size
        tree.update(f"{rel}\0{size}\0{digest}\n".encode())
        files, total = files + 1, total + size
        if files <= MAX_LISTED_FILES:
            listed[rel] = digest
    return ContentVersion(path=str(root), kind="directory", sha256=tree.hexdigest(), files=files,
                          total_bytes=total, delta_version=_delta_version(root),
                          file_sha256=listed if files <= MAX_LISTED_FILES else None)


def _delta_version(root: Path) -> int | None:
    if not (root / "_delta_log").is_dir():
        return None
    try:
        from mlfleet.storage.datasets.versions import latest_version
    except ImportError:  # the data extra is not installed: the tree hash still versions it
        return None
    try:
        return latest_version(root)
    except InputError:
        return None


def content_version(path: Path) -> ContentVersion:
    """Hash a file or a directory tree. Raises :class:`InputError` when ``path`` is
    neither, or cannot be read."""
    resolved = path.resolve()
    if resolved.parts[1:2] in (("proc",), ("sys",), ("dev",)):
        raise InputError(f"{str(path)!r} is a kernel pseudo-file system; give the data or "
                         "model artifact a run read")
    try:
        if resolved.is_file():
            return ContentVersion(path=str(resolved), kind="file", sha256=file_sha256(resolved),
                                  files=1, total_bytes=resolved.stat().st_size)
        if resolved.is_dir():
            return _tree_version(resolved)
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    raise InputError(f"{str(path)!r} is not a file or directory; give the data or model "
                     "artifact a run read")


def changed_files(old: ContentVersion, new: ContentVersion) -> list[str]:
    """Relative paths added, removed or changed between two versions of a directory
    (empty when either did not keep its per-file hashes)."""
    if old.file_sha256 is None or new.file_sha256 is None:
        return []
    names = sorted(set(old.file_sha256) | set(new.file_sha256))
    return [n for n in names if old.file_sha256.get(n) != new.file_sha256.get(n)]
