"""Markdown of a book table: the block that goes between a chapter's markers.

The block is the table, then the fidelity legend, the notes (models and assumptions) and
the sources (catalog key, citation, the values it backs). It is a pure function of the
:class:`~mlfleet.book.table.BookTable`, so equal tables render to equal bytes.
"""

from __future__ import annotations

from mlfleet.book.numbers import format_cell
from mlfleet.book.sources import Footnote, footnotes
from mlfleet.book.table import BookTable, Column

OPEN = "<!-- mlfleet:table id={id} -->"
"""The line that opens an embedded table (its id in place of ``{id}``)."""
CLOSE = "<!-- /mlfleet:table -->"
"""The line that closes it."""

FIDELITY_MEANING = {
    "model": "closed-form model",
    "simulation": "seeded simulation",
    "published": "published figure",
    "measured": "measurement",
}


def heading(column: Column) -> str:
    """``name (unit, fidelity)``, leaving out what a column does not have."""
    extra = ", ".join(part for part in (column.unit, column.fidelity or "") if part)
    return f"{column.name} ({extra})" if extra else column.name


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def table_lines(table: BookTable) -> list[str]:
    """The Markdown table itself: header, rule, one line per row."""
    header = "| " + " | ".join(_escape(heading(c)) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(_escape(format_cell(v)) for v in row) + " |" for row in table.rows]
    return [header, rule, *body]


def _footnote_line(number: int, note: Footnote) -> str:
    by_entry: dict[str, list[str]] = {}
    for value in note.values:
        entry, _, path = value.partition(": ")
        by_entry.setdefault(entry, []).extend([path] if path else [])
    backs = "; ".join(f"{e} ({', '.join(p)})" if p else e for e, p in by_entry.items())
    return f"[{number}] {note.key}: {note.citation}. Values: {backs}."


def block(table: BookTable) -> str:
    """The text between the markers (no markers), ending in a newline."""
    used = [c.fidelity for c in table.columns if c.fidelity]
    legend = "; ".join(f"{f} = {FIDELITY_MEANING[f]}" for f in dict.fromkeys(used))
    lines = [f"Table: {table.title} (`{table.id}`)", "", *table_lines(table), "",
             f"Fidelity: {legend}."]
    if table.notes:
        lines += ["", *(f"- {note}" for note in table.notes)]
    notes = footnotes(table.inputs)
    if notes:
        lines += ["", "Sources:", "",
                  *(f"- {_footnote_line(i, n)}" for i, n in enumerate(notes, 1))]
    return "\n".join(lines) + "\n"


def embedded(table: BookTable) -> str:
    """The block between its markers, as an author pastes it into a chapter."""
    return f"{OPEN.format(id=table.id)}\n{block(table)}{CLOSE}\n"
