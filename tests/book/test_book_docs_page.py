"""docs/book.md embeds a live table: it must match the models, as any chapter must."""

from __future__ import annotations

from pathlib import Path

from mlfleet.book.check import check_chapters

DOC = Path(__file__).resolve().parents[2] / "docs" / "book.md"


def test_the_docs_page_table_matches_the_models() -> None:
    count, drifts = check_chapters([DOC])
    assert count == 1
    assert drifts == [], "\n".join(d.diff for d in drifts)


def test_the_docs_page_maps_every_table() -> None:
    from mlfleet.book.registry import TABLES

    text = DOC.read_text(encoding="utf-8")
    for table_id in TABLES:
        assert f"`{table_id}`" in text, table_id
