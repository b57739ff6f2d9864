"""Checking a chapter: recompute every embedded table and compare it with the text.

A table matches when the lines between its markers equal a fresh rendering, ignoring
trailing blanks on a line and blank lines at either end. A mismatch is reported as a
unified diff of the block plus, for the table rows, each changed cell by row and column.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from mlfleet.book.markers import BookInputError, Embedded, find_tables
from mlfleet.book.registry import TABLES
from mlfleet.book.render import block
from mlfleet.book.table import BookTable
from mlfleet.errors import MlfleetError


class BookDriftError(MlfleetError):
    """Embedded tables no longer match the models (exit 3, as a violated constraint)."""

    exit_code = 3


@dataclass(frozen=True, kw_only=True)
class Drift:
    """One embedded table that differs from the models."""

    path: str
    table_id: str
    line: int
    diff: str
    """Unified diff, chapter text -> models."""
    cells: tuple[str, ...]
    """'row R, column C: text X, models Y' for each changed cell of the table body."""


def _normalised(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split(" | ")]


def _is_row(line: str) -> bool:
    return line.startswith("|") and not line.startswith("|---")


def changed_cells(found: list[str], wanted: list[str]) -> tuple[str, ...]:
    """Changed cells of the Markdown table rows, matched by position (header first)."""
    text_rows = [_cells(x) for x in found if _is_row(x)]
    model_rows = [_cells(x) for x in wanted if _is_row(x)]
    if not model_rows:
        return ()
    header = model_rows[0]
    out = []
    for r, (have, want) in enumerate(zip(text_rows[1:], model_rows[1:], strict=False), 1):
        for c, (a, b) in enumerate(zip(have, want, strict=False)):
            if a != b:
                column = header[c] if c < len(header) else f"#{c + 1}"
                out.append(f"row {r} ({want[0]}), column {column!r}: text {a!r}, models {b!r}")
    if len(text_rows) != len(model_rows):
        out.append(f"the text has {len(text_rows) - 1} rows, the models {len(model_rows) - 1}")
    return tuple(out)


def compare(embedded: Embedded, table: BookTable, *, path: str) -> Drift | None:
    """The drift of one embedded table from ``table``, or None when they match."""
    found, wanted = _normalised(embedded.text), _normalised(block(table))
    if found == wanted:
        return None
    diff = "\n".join(difflib.unified_diff(
        found, wanted, fromfile=f"{path} ({embedded.id}, line {embedded.line})",
        tofile=f"models ({embedded.id})", lineterm=""))
    return Drift(path=path, table_id=embedded.id, line=embedded.line, diff=diff,
                 cells=changed_cells(found, wanted))


def read_chapter(path: Path) -> str:
    """The text of a chapter file; BookInputError naming it when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BookInputError(f"cannot read chapter {str(path)!r}: {reason}") from None


def embedded_tables(paths: list[Path]) -> list[tuple[str, Embedded]]:
    """Every embedded table of every file, ids checked before anything is computed."""
    found = [(str(p), e) for p in paths for e in find_tables(read_chapter(p), where=str(p))]
    for where, item in found:
        if item.id not in TABLES:
            raise BookInputError(f"{where}:{item.line}: unknown table id {item.id!r}; known: "
                                 f"{', '.join(TABLES)}")
    return found


def check_chapters(paths: list[Path]) -> tuple[int, list[Drift]]:
    """(tables checked, the drifted ones); each table id is computed once."""
    found = embedded_tables(paths)
    fresh: dict[str, BookTable] = {}
    drifts = []
    for where, item in found:
        if item.id not in fresh:
            fresh[item.id] = TABLES[item.id].build()
        drift = compare(item, fresh[item.id], path=where)
        if drift is not None:
            drifts.append(drift)
    return len(found), drifts
