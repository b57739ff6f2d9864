"""Writing a set of files into a directory whole or not at all.

Every file is first written to a hidden temporary name beside its target, and only when
all of them are complete are they renamed into place. On any error, or Ctrl-C, the
temporaries are removed, and so is the directory if this call created it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from mlfleet.book.markers import BookInputError


def check_target(directory: Path) -> None:
    """Refuse, before any work, a ``directory`` that is a file or lies under one."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is a file" if probe == directory else f"lies under the file {str(probe)!r}"
        raise BookInputError(f"--out(={str(directory)!r}) cannot be created: it {what}")


def _create(directory: Path) -> bool:
    """Make ``directory`` (and parents); whether it did not exist before."""
    if directory.is_dir():
        return False
    try:
        directory.mkdir(parents=True)
    except OSError as exc:
        raise BookInputError(f"--out(={str(directory)!r}) cannot be created: "
                             f"{exc.strerror or exc}") from None
    return True


def write_files(directory: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` (name -> text) into ``directory``; the paths written.

    Raises BookInputError (one line, naming the path) when the directory cannot be created
    or written; nothing new is left behind then.
    """
    created = _create(directory)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in files.items():
            final = directory / name
            temporary = directory / f".{name}.{os.getpid()}.tmp"
            staged.append((temporary, final))
            temporary.write_text(text, encoding="utf-8")
        for temporary, final in staged:
            os.replace(temporary, final)
    except OSError as exc:
        raise BookInputError(f"--out(={str(directory)!r}) cannot be written: "
                             f"{exc.strerror or exc}") from None
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink()
        if created and not all(final.exists() for _, final in staged):
            with contextlib.suppress(OSError):
                for _, final in staged:
                    final.unlink(missing_ok=True)
                directory.rmdir()
    return [final for _, final in staged]
