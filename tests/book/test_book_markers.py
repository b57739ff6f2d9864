"""The marker parser: arbitrary prose around tables round-trips; bad markers name the line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.book.markers import BookInputError, find_tables, is_marker

_LINE = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n\x0b\x0c"
                              "\x1c\x1d\x1e\x85\u2028\u2029"), max_size=40)
PROSE = st.lists(_LINE.filter(lambda line: not is_marker(line)), max_size=6)
"""Lines of prose: anything that is not itself a marker line."""
IDS = st.from_regex(r"[a-z]{1,8}\.[a-z-]{1,12}", fullmatch=True)


def _marked(table_id: str, body: list[str]) -> list[str]:
    return [f"<!-- mlfleet:table id={table_id} -->", *body, "<!-- /mlfleet:table -->"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(PROSE, IDS, PROSE), max_size=4), PROSE)
def test_prose_around_tables_round_trips(pieces: list[tuple[list[str], str, list[str]]],
                                         tail: list[str]) -> None:
    lines: list[str] = []
    expected = []
    for prose, table_id, body in pieces:
        lines += prose
        expected.append((table_id, len(lines) + 1, "".join(f"{b}\n" for b in body)))
        lines += _marked(table_id, body)
    lines += tail
    found = find_tables("\n".join(lines), where="ch.md")
    assert [(e.id, e.line, e.text) for e in found] == expected


@given(PROSE, PROSE)
def test_prose_alone_has_no_tables(before: list[str], after: list[str]) -> None:
    assert find_tables("\n".join([*before, *after]), where="ch.md") == []


def test_markers_tolerate_blanks_around_them() -> None:
    text = "  <!--  mlfleet:table   id=ops.peeking  -->  \nx\n\t<!-- /mlfleet:table -->\n"
    (found,) = find_tables(text, where="ch.md")
    assert (found.id, found.line, found.text) == ("ops.peeking", 1, "x\n")


@pytest.mark.parametrize(("text", "message"), [
    ("a\n<!-- mlfleet:table id=x.y -->\nb\n", "ch.md:2: table 'x.y' is never closed"),
    ("<!-- /mlfleet:table -->\n", "ch.md:1: a closing marker with no table open"),
    ("<!-- mlfleet:table id=x.y -->\n<!-- mlfleet:table id=x.z -->\n",
     "ch.md:2: table 'x.z' opens inside table 'x.y' (opened on line 1)"),
])
def test_bad_markers_name_the_line(text: str, message: str) -> None:
    with pytest.raises(BookInputError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        find_tables(text, where="ch.md")
