"""The files ``mlfleet book tables`` writes: one Markdown file per table and an index.

A table's file is a short header (title, the spec item it answers) followed by the
table between its markers, ready to paste into a chapter; the index lists every table
written, by chapter. Both are pure functions of computed tables, so reruns are identical.
"""

from __future__ import annotations

from mlfleet.book.registry import CHAPTERS, TableSpec
from mlfleet.book.render import embedded
from mlfleet.book.table import BookTable

INDEX = "index.md"
"""Name of the index file in the output directory."""


def table_file(spec: TableSpec, table: BookTable) -> str:
    """The text of ``DIR/<id>.md``."""
    return (f"# {table.title}\n\n"
            f"Answers: *{CHAPTERS[spec.chapter]}*: {spec.spec_item}.\n\n"
            f"Embed it in a chapter by copying the lines from the opening marker to the closing "
            f"one; `mlfleet book check CHAPTER.md` then recomputes it.\n\n"
            f"{embedded(table)}")


def index_file(written: list[tuple[TableSpec, BookTable]]) -> str:
    """The text of ``DIR/index.md``: every table written, grouped by chapter."""
    lines = ["# Book tables", "",
             "Written by `mlfleet book tables`; check a chapter with "
             "`mlfleet book check CHAPTER.md`.", ""]
    for key, title in CHAPTERS.items():
        mine = [(s, t) for s, t in written if s.chapter == key]
        if mine:
            lines += [f"## {title}", "",
                      *(f"- [`{s.id}`]({s.id}.md): {t.title}. Answers: {s.spec_item}."
                        for s, t in mine), ""]
    return "\n".join(lines)
