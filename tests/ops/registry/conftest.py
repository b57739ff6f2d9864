"""A real MLflow registry on SQLite per test: the bundled twelve models registered once per
module, the file copied for each test (MLflow's migrations take seconds, a copy does not)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlfleet.ops.registry.ensemble import EnsembleSpec, load_spec
from mlfleet.ops.registry.model_file import EXAMPLES, load_cards
from mlfleet.ops.registry.store import RegistryStore

SPEC_FILE = EXAMPLES / "recsys-12.yaml"


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "seed.db"
    with RegistryStore(path, create=True) as store:
        for card in load_cards(EXAMPLES / "recsys-models.yaml"):
            store.register(card)
    return path


@pytest.fixture
def store(seeded_file: Path, tmp_path: Path) -> Iterator[RegistryStore]:
    path = tmp_path / "registry.db"
    shutil.copyfile(seeded_file, path)
    with RegistryStore(path, create=False) as opened:
        yield opened


@pytest.fixture
def spec() -> EnsembleSpec:
    return load_spec(SPEC_FILE)


Snapshot = Callable[[Path], dict[str, list[tuple[Any, ...]]]]


@pytest.fixture
def snapshot() -> Snapshot:
    return _snapshot


def _snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the SQLite file, sorted: two equal snapshots mean nothing
    was written in between."""
    with contextlib.closing(sqlite3.connect(path)) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in tables}
