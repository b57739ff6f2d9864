"""Where the report goes: checked before any work, so a bad ``--out`` fails at once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mlfleet.errors import InputError


class ReportOutputError(InputError):
    """An ``--out`` path the report cannot be written to."""


def check_writable(out: Path) -> None:
    """ReportOutputError (one line) unless ``out``'s directory exists and takes a new file
    and ``out`` is not a directory."""
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ReportOutputError(f"--out {str(out)!r} is a directory; give a file path")
    if not parent.is_dir():
        raise ReportOutputError(f"--out {str(out)!r}: directory {str(parent)!r} does not exist")
    try:  # a real file in the directory: permission bits do not tell root or /proc apart
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{out.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise ReportOutputError(f"--out {str(out)!r}: cannot write in {str(parent)!r} "
                                f"({exc.strerror or exc})") from None
    if out.exists() and not os.access(out, os.W_OK):
        raise ReportOutputError(f"--out {str(out)!r} exists and is not writable")
