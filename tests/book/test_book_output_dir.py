"""Writing the tables' files: whole or not at all, also when interrupted (Ctrl-C)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfleet.book.markers import BookInputError
from mlfleet.book.output_dir import write_files

FILES = {"a.md": "first\n", "b.md": "second\n", "index.md": "index\n"}


def test_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir"
    written = write_files(out, FILES)
    assert [p.name for p in written] == list(FILES)
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == FILES


@pytest.mark.parametrize("fault", [KeyboardInterrupt, OSError])
def test_a_fault_mid_write_leaves_nothing_in_a_new_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: type[BaseException]) -> None:
    calls = []
    real = Path.write_text

    def flaky(self: Path, text: str, **kwargs: str) -> int:
        calls.append(self.name)
        if len(calls) == 2:
            raise fault(28, "No space left on device")
        return real(self, text, **kwargs)

    monkeypatch.setattr(Path, "write_text", flaky)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt if fault is KeyboardInterrupt else BookInputError):
        write_files(out, FILES)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_fault_in_an_existing_directory_keeps_its_old_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.md").write_text("old\n", encoding="utf-8")
    real = Path.write_text

    def failing_b(self: Path, text: str, **kwargs: str) -> int:
        if self.name.startswith(".b.md"):
            raise OSError(28, "No space left on device")
        return real(self, text, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing_b)
    with pytest.raises(BookInputError, match="No space left on device"):
        write_files(tmp_path, FILES)
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == {"a.md": "old\n"}
