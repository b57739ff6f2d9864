"""``mlfleet book check``: passes on fresh tables, exit 3 with a diff on an edited number."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.book.registry import TABLES
from mlfleet.book.render import embedded

PROSE = "# Collective operations\n\nAuthors write here; the book never reads it.\n\n"


@pytest.fixture(scope="module")
def chapter_text() -> str:
    """A chapter with prose around two embedded tables."""
    return (PROSE + embedded(TABLES["comm.allreduce-algorithms"].build())
            + "\nMore prose, with a | pipe | and numbers 1,022 that are not a table.\n\n"
            + embedded(TABLES["reliability.failures-by-scale"].build()) + "\nThe end.\n")


def _write(tmp_path: Path, text: str, name: str = "chapter.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_fresh_tables_pass(tmp_path: Path, chapter_text: str,
                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "book", "check", str(_write(tmp_path, chapter_text)))
    assert code == 0, err
    assert "2 embedded table(s) match the models" in out


def test_fresh_tables_output_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "book", "tables", "--out", str(tmp_path), "--chapter",
                            "infra")
    assert code == 0, err
    code, out, err = run_main(capsys, "book", "check", *map(str, sorted(tmp_path.glob("*.md"))))
    assert code == 0, err
    assert "6 embedded table(s) match the models" in out


def test_an_edited_number_fails_with_a_diff_naming_table_and_cell(
        tmp_path: Path, chapter_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    row = next(line for line in chapter_text.splitlines() if line.startswith("| 512 |"))
    cells = row.split(" | ")
    edited_row = " | ".join([cells[0], "0.3", *cells[2:]])
    path = _write(tmp_path, chapter_text.replace(row, edited_row))
    code, out, err = run_main(capsys, "book", "check", str(path))
    assert code == 3
    assert "table reliability.failures-by-scale no longer matches the models" in out
    assert f"row 3 (512), column 'failures per day (1/day, model)': text '0.3', " \
           f"models {cells[1]!r}" in out
    assert f"-{edited_row}" in out and f"+{row}" in out  # the unified diff
    assert "comm.allreduce-algorithms" not in out  # the untouched table is not reported
    assert err.strip() == ("error: 1 of 2 embedded table(s) no longer match the models; "
                           "paste a fresh `mlfleet book tables` output")


def test_prose_edits_outside_markers_are_ignored(tmp_path: Path, chapter_text: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = chapter_text.replace("Authors write here", "Authors rewrote 0.3 this")
    code, _, err = run_main(capsys, "book", "check", str(_write(tmp_path, text)))
    assert code == 0, err


def test_unknown_id_and_unclosed_marker_exit_2_naming_file_and_line(tmp_path: Path) -> None:
    unknown = _write(tmp_path, PROSE + "<!-- mlfleet:table id=comm.nope -->\n"
                     "<!-- /mlfleet:table -->\n", "unknown.md")
    unclosed = _write(tmp_path, PROSE + "<!-- mlfleet:table id=ops.peeking -->\n| 1 |\n",
                      "unclosed.md")
    assert_one_line_error(run_cli("book", "check", str(unknown)),
                          f"{unknown}:5: unknown table id 'comm.nope'", "comm.bus-bandwidth")
    assert_one_line_error(run_cli("book", "check", str(unclosed)),
                          f"{unclosed}:5: table 'ops.peeking' is never closed")


def test_a_missing_chapter_exits_2(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("book", "check", str(tmp_path / "nope.md")),
                          "cannot read chapter", "nope.md")
