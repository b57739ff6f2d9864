"""Write a JSON document whole or not at all (no partial file on error or Ctrl-C)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mlfleet.errors import InputError


def write_json_atomic(path: str | Path, doc: Any, *,
                      error: type[InputError] = InputError) -> None:
    """Write ``doc`` as strict JSON to ``path`` via a temporary file and a rename.

    Raises ``error`` (one line naming the path) when the path is a directory or cannot be
    written; the temporary file is removed on any failure, KeyboardInterrupt included.
    """
    p = Path(path)
    if p.is_dir():
        raise error(f"--out {str(p)!r} is a directory; give a file path")
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, p)
        tmp = ""
    except OSError as exc:
        raise error(f"cannot write {str(p)!r}: {exc.strerror or exc}") from None
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
