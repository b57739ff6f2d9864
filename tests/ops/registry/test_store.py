"""The store file: where it is, what may open it, how a new one is made."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.store import DEFAULT_STORE, STORE_ENV, RegistryStore, store_path


def test_the_option_beats_the_environment_beats_the_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert store_path(None) == Path(DEFAULT_STORE) == store_path("")
    monkeypatch.setenv(STORE_ENV, "/data/reg.db")
    assert store_path(None) == Path("/data/reg.db")
    assert store_path("mine.db") == Path("mine.db")


def test_a_new_store_is_a_wal_mlflow_registry_with_nothing_left_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "reg.db"
    with RegistryStore(path, create=True) as store:
        assert store.model_names() == []
    with contextlib.closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("reg.db")) == []
    assert path.stat().st_mode & 0o077 != 0  # not mkstemp's private 0600


def test_a_sqlite_file_that_is_not_a_registry_is_refused_and_untouched(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    with contextlib.closing(sqlite3.connect(other)) as con:
        con.execute("CREATE TABLE users (id INTEGER)")
        con.commit()
    before = other.read_bytes()
    with pytest.raises(RegistryInputError, match="a SQLite file but not an MLflow registry"):
        RegistryStore(other, create=True)
    assert other.read_bytes() == before


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("empty.db", b"", "is not a SQLite file"),
    ("text.db", b"hello", "is not a SQLite file"),
])
def test_files_that_are_not_sqlite_are_refused(tmp_path: Path, name: str, content: bytes,
                                               fragment: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(RegistryInputError, match=fragment):
        RegistryStore(tmp_path / name, create=True)


def test_a_missing_directory_or_store_is_refused_without_creating_anything(tmp_path: Path) -> None:
    with pytest.raises(RegistryInputError, match="directory .* does not exist"):
        RegistryStore(tmp_path / "no" / "reg.db", create=True)
    with pytest.raises(RegistryInputError, match="does not exist; create it"):
        RegistryStore(tmp_path / "reg.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    with pytest.raises(RegistryInputError, match="cannot be read as SQLite"):
        RegistryStore(path, create=True)
