"""Output files written whole or not at all, and output paths refused before any work.

A file is written to a temporary name beside it (same file system) and renamed over the
target with ``os.replace``, an atomic step on POSIX: a reader sees the old file or the new
one, never a part, and an error or Ctrl-C mid-write leaves no partial file (the temporary
is removed on every exit path). Errors are one line naming the path, raised as the
caller's :class:`~mlfleet.errors.InputError` subclass so the CLI exits 2.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from mlfleet.errors import InputError


def temporary_beside(path: Path) -> Path:
    """A hidden temporary name in ``path``'s directory, unique to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def replace_atomically(path: Path, write: Callable[[Path], object], *,
                       error: type[InputError] = InputError, option: str = "--out",
                       fsync: bool = False, mkdir: bool = False) -> None:
    """Call ``write(tmp)`` to produce the file at a temporary name, then rename it over
    ``path``. ``error`` (one line) when ``path`` is a directory or cannot be written;
    ``fsync``: flush the data to disk before the rename (survives a power cut);
    ``mkdir``: create the missing parent directories first."""
    if path.is_dir():
        raise error(f"{option} {str(path)!r} is a directory; give a file path")
    tmp = temporary_beside(path)
    try:
        if mkdir:
            path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise error(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text_atomically(path: Path, text: str, *, error: type[InputError] = InputError,
                          option: str = "--out", fsync: bool = False,
                          mkdir: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all (:func:`replace_atomically`)."""
    replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), error=error,
                       option=option, fsync=fsync, mkdir=mkdir)


def check_writable(path: Path, *, error: type[InputError] = InputError,
                   option: str = "--out", mkdir: bool = False) -> None:
    """Refuse now, before any work, a ``path`` that cannot be written: a directory, a
    missing directory (created instead with ``mkdir``), a directory that takes no new file
    (probed with a real file: permission bits do not tell root or /proc apart), or an
    existing file that is not writable."""
    if path.is_dir():
        raise error(f"{option} {str(path)!r} is a directory; give a file path")
    parent = path.parent if str(path.parent) else Path(".")
    if mkdir:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise error(f"{option} {str(path)!r}: cannot create {str(parent)!r} "
                        f"({exc.strerror or exc})") from None
    if not parent.is_dir():
        raise error(f"{option} {str(path)!r}: directory {str(parent)!r} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise error(f"{option} {str(path)!r}: cannot write in {str(parent)!r} "
                    f"({exc.strerror or exc})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise error(f"{option} {str(path)!r} exists and is not writable")
