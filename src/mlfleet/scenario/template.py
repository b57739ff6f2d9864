"""``mlfleet scenario init``: a commented scenario file to start from, written atomically.

The template is a bundled example, byte for byte (its comments explain every field),
under one header line that says where it came from and how to check it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from mlfleet.errors import ScenarioError
from mlfleet.scenario.loading import bundled_scenarios
from mlfleet.scenario.parsers import DEFAULT_SCENARIO


def template_text(example: str = DEFAULT_SCENARIO) -> str:
    """The bundled example ``example`` with a header line; :class:`ScenarioError` if unknown."""
    bundled = {p.stem: p for p in bundled_scenarios()}
    if example not in bundled:
        raise ScenarioError(f"--example(={example!r}) is not a bundled example; known: "
                            f"{', '.join(bundled)}")
    header = (f"# Written by `mlfleet scenario init --example {example}`. Edit it, then run\n"
              "# `mlfleet scenario check FILE` and `mlfleet plan FILE`.\n#\n")
    return header + bundled[example].read_text(encoding="utf-8")


def write_template(path: Path, text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same directory renamed
    over it, so an error leaves no partial file. An existing ``path`` is kept unless
    ``force``. Raises :class:`ScenarioError` (one line) on any failure."""
    if not force and (path.exists() or path.is_symlink()):
        raise ScenarioError(f"{str(path)!r} already exists; choose another path or give --force "
                            "to overwrite it")
    if path.is_dir():
        raise ScenarioError(f"{str(path)!r} is a directory; give a file path")
    directory = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ScenarioError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:  # ValueError: text the encoding cannot write
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(f"cannot write {str(path)!r}: {reason}") from None
