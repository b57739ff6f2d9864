"""Every book table renders from the models, deterministically, with resolvable sources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import ENTRY, run_main
from mlfleet import catalog
from mlfleet.book.registry import CHAPTERS, TABLES
from mlfleet.book.render import block, embedded
from mlfleet.book.sources import NON_CATALOG_KEYS, footnotes, source_keys
from mlfleet.book.table import FIDELITIES, BookTable, CatalogInput


@pytest.fixture(scope="module")
def built() -> dict[str, BookTable]:
    return {table_id: spec.build() for table_id, spec in TABLES.items()}


def test_every_table_renders_with_rows_and_a_fidelity(built: dict[str, BookTable]) -> None:
    for table_id, table in built.items():
        assert table.id == table_id
        assert table.rows, table_id
        assert any(c.fidelity in FIDELITIES for c in table.columns), table_id
        text = embedded(table)
        assert text.startswith(f"<!-- mlfleet:table id={table_id} -->\n"), table_id
        assert text.endswith("<!-- /mlfleet:table -->\n"), table_id


def test_at_least_one_table_per_implemented_chapter() -> None:
    assert {spec.chapter for spec in TABLES.values()} == set(CHAPTERS)


def test_two_builds_render_byte_identical(built: dict[str, BookTable]) -> None:
    for table_id, spec in TABLES.items():
        assert block(spec.build()) == block(built[table_id]), table_id


def test_every_footnote_source_key_resolves(built: dict[str, BookTable]) -> None:
    texts_by_key: dict[str, list[str]] = {}
    for text, key in source_keys().items():
        texts_by_key.setdefault(key, []).append(text)
    cited = 0
    for table in built.values():
        for note in footnotes(table.inputs):
            assert note.values, (table.id, note.key)
            if note.key in NON_CATALOG_KEYS:
                assert note.key != "user-catalog", (table.id, note.citation)
                continue
            assert note.key in texts_by_key, (table.id, note.key)
            # A model may prefix the catalog's text ("middle of the range: ...").
            assert any(note.citation == text or note.citation.endswith(f": {text}")
                       for text in texts_by_key[note.key]), (table.id, note.key)
            cited += 1
    assert cited >= 40


def test_catalog_inputs_name_values_that_exist(built: dict[str, BookTable]) -> None:
    for table in built.values():
        for item in table.inputs:
            if isinstance(item, CatalogInput):
                entry = catalog.get(item.entry)
                assert set(item.paths) <= set(entry.values), (table.id, item)


@pytest.mark.slow
def test_cli_writes_identical_files_twice(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Once in this process, once in another with a different string-hash seed."""
    first, second = tmp_path / "a", tmp_path / "b"
    code, _, err = run_main(capsys, "book", "tables", "--out", str(first))
    assert code == 0, err
    proc = subprocess.run([sys.executable, "-c", ENTRY, "book", "tables", "--out", str(second)],
                          env={**os.environ, "PYTHONHASHSEED": "12345"}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted([*(f"{t}.md" for t in TABLES), "index.md"])
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_chapter_and_id_select_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "book", "tables", "--out", str(tmp_path / "c"),
                            "--chapter", "comm")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "comm.allreduce-algorithms.md", "comm.bus-bandwidth.md", "comm.collective-by-model-type.md",
        "index.md"]
    code, _, err = run_main(capsys, "book", "tables", "--out", str(tmp_path / "i"),
                            "--id", "ops.peeking")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "i").iterdir()) == ["index.md", "ops.peeking.md"]


def test_list_prints_every_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "book", "tables", "--list")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == list(TABLES)
