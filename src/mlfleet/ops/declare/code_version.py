"""The code version of a run: the git commit, whether the checkout is dirty, and a hash of
the uncommitted changes; or the installed package version when the code is not a git
checkout (or git is absent).

The diff hash covers ``git diff HEAD --binary`` (tracked changes) and the names and
contents of untracked, not-ignored files, read as a stream.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from mlfleet.ops.declare.content_hash import file_sha256

GIT_TIMEOUT_S = 60.0
"""Longest one git command may take."""


@dataclass(frozen=True, kw_only=True)
class CodeVersion:
    """Which code ran."""

    source: str
    """``git`` or ``package``."""
    root: str | None
    """The checkout's top directory (git), else None."""
    commit: str | None
    dirty: bool | None
    """Uncommitted changes (tracked or untracked) were present."""
    diff_sha256: str | None
    """SHA-256 of the uncommitted changes (equal for equal changes; None if clean)."""
    package_version: str | None
    """The installed mlfleet version (None when it is not installed as a package)."""


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _package_version() -> str | None:
    try:
        return metadata.version("mlfleet")
    except metadata.PackageNotFoundError:
        return None


def _diff_sha256(top: Path) -> str:
    digest = hashlib.sha256()
    with subprocess.Popen(["git", "-C", str(top), "diff", "HEAD", "--binary"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 20):
            digest.update(chunk)
    untracked = (_git(top, "ls-files", "--others", "--exclude-standard", "-z") or b"").split(b"\0")
    for name in sorted(n for n in untracked if n):
        path = top / name.decode(errors="surrogateescape")
        content = file_sha256(path) if path.is_file() else "-"
        digest.update(name + b"\0" + content.encode() + b"\n")
    return digest.hexdigest()


def code_version(root: Path | None) -> CodeVersion:
    """The version of the code in ``root`` (a directory inside a git checkout), or the
    package version when ``root`` is None or not a checkout."""
    top = None if root is None else _git(root, "rev-parse", "--show-toplevel")
    commit = None if root is None else _git(root, "rev-parse", "HEAD")
    if top is None or commit is None:
        return CodeVersion(source="package", root=None, commit=None, dirty=None,
                           diff_sha256=None, package_version=_package_version())
    top_path = Path(top.decode().strip())
    status = _git(top_path, "status", "--porcelain", "--untracked-files=normal")
    dirty = bool(status and status.strip())
    return CodeVersion(source="git", root=str(top_path), commit=commit.decode().strip(),
                       dirty=dirty, diff_sha256=_diff_sha256(top_path) if dirty else None,
                       package_version=_package_version())


def running_code_root() -> Path:
    """The directory the mlfleet package is imported from (a checkout's ``src/mlfleet``)."""
    import mlfleet

    return Path(mlfleet.__file__).resolve().parent
