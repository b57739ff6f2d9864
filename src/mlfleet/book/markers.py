"""Finding embedded tables in a chapter: ``<!-- mlfleet:table id=ID -->`` ... close.

A marker is a line of its own (leading and trailing blanks allowed). Everything outside a
pair of markers is the author's prose and is never read. An opening marker inside an open
table, a closing marker with none open, or a table still open at the end of the file is
an error naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlfleet.errors import InputError

_OPEN = re.compile(r"^\s*<!--\s*mlfleet:table\s+id=(\S*?)\s*-->\s*$")
_CLOSE = re.compile(r"^\s*<!--\s*/mlfleet:table\s*-->\s*$")


class BookInputError(InputError):
    """A book argument or chapter file that cannot be used: unknown id, bad marker, bad path."""


@dataclass(frozen=True, kw_only=True)
class Embedded:
    """One table found in a chapter file."""

    id: str
    line: int
    """1-based line of its opening marker."""
    text: str
    """The lines between the markers, each ending in a newline."""


def is_marker(line: str) -> bool:
    """Whether ``line`` would be read as an opening or closing marker."""
    return bool(_OPEN.match(line) or _CLOSE.match(line))


def find_tables(text: str, *, where: str) -> list[Embedded]:
    """Every embedded table of ``text`` in order; BookInputError ``where:LINE: ...``."""
    found: list[Embedded] = []
    open_id, open_line = "", 0  # open_line 0: no table open
    body: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        opening, closing = _OPEN.match(line), _CLOSE.match(line)
        if opening and open_line:
            raise BookInputError(f"{where}:{number}: table {opening.group(1)!r} opens inside "
                                 f"table {open_id!r} (opened on line {open_line}); close it first")
        if opening:
            open_id, open_line, body = opening.group(1), number, []
        elif closing and not open_line:
            raise BookInputError(f"{where}:{number}: a closing marker with no table open")
        elif closing:
            found.append(Embedded(id=open_id, line=open_line, text="".join(body)))
            open_line = 0
        elif open_line:
            body.append(line if line.endswith("\n") else line + "\n")
    if open_line:
        raise BookInputError(f"{where}:{open_line}: table {open_id!r} is never closed; add a "
                             "line <!-- /mlfleet:table -->")
    return found
