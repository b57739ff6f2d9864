"""Bad ``mlfleet book tables`` input: one line, exit 2, nothing left behind."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import assert_one_line_error, run_cli


def test_unknown_id_and_chapter_list_the_allowed_values(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert_one_line_error(run_cli("book", "tables", "--out", str(out), "--id", "comm.nope"),
                          "--id(='comm.nope') is unknown", "comm.allreduce-algorithms",
                          "ops.peeking")
    assert_one_line_error(run_cli("book", "tables", "--out", str(out), "--chapter", "edge"),
                          "--chapter(='edge') is unknown", "infra, storage, comm, reliability, "
                          "serving, ops")
    assert_one_line_error(run_cli("book", "tables", "--out", str(out), "--chapter", "comm",
                                  "--id", "ops.peeking"), "not --chapter(='comm')")
    assert not out.exists()


def test_unwritable_out_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    assert_one_line_error(run_cli("book", "tables", "--out", str(blocker / "tables")),
                          f"--out(={str(blocker / 'tables')!r}) cannot be created: it lies "
                          f"under the file {str(blocker)!r}")
    assert_one_line_error(run_cli("book", "tables", "--out", str(blocker)),
                          "cannot be created: it is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    assert blocker.read_text(encoding="utf-8") == "not a directory\n"


def test_missing_out_is_refused() -> None:
    assert_one_line_error(run_cli("book", "tables"), "--out(='') is missing")
