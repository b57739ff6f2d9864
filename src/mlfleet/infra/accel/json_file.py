"""Write a JSON document whole or not at all (no partial file on error or Ctrl-C)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlfleet.atomic import write_text_atomically
from mlfleet.errors import InputError


def write_json_atomic(path: str | Path, doc: Any, *,
                      error: type[InputError] = InputError) -> None:
    """Write ``doc`` as strict JSON to ``path`` via a temporary file and a rename.

    Raises ``error`` (one line naming the path) when the path is a directory or cannot be
    written; the temporary file is removed on any failure, KeyboardInterrupt included.
    """
    write_text_atomically(Path(path), json.dumps(doc, indent=1, allow_nan=False) + "\n",
                          error=error)
