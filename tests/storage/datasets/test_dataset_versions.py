"""Dataset versions on Delta Lake: time travel, the schema-evolution rule, atomic commits."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from mlfleet.storage.datasets.versions import (
    DatasetNotFoundError,
    SchemaEvolutionError,
    commit,
    history,
    latest_version,
    read_version,
    schema_change,
    version_schema,
)


def table(**columns: list[object]) -> pa.Table:
    return pa.table(columns or {"id": [1, 2, 3], "x": [0.5, 1.5, None]})


def sorted_ids(t: pa.Table) -> list[object]:
    return sorted(t.column("id").to_pylist())


def test_versions_and_time_travel(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    assert commit(path, table(), message="first") == 0
    assert commit(path, table(id=[4], x=[2.5])) == 1
    assert commit(path, table(id=[9], x=[0.0]), mode="overwrite") == 2
    assert sorted_ids(read_version(path, 0)) == [1, 2, 3]
    assert sorted_ids(read_version(path, 1)) == [1, 2, 3, 4]
    assert sorted_ids(read_version(path)) == [9]
    log = history(path)
    assert [e.version for e in log] == [0, 1, 2] and log[0].message == "first"
    assert [e.rows_added for e in log] == [3, 1, 1]


def test_adding_a_nullable_column_is_compatible(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    commit(path, table())
    commit(path, pa.table({"id": [4], "x": [1.0], "tag": ["new"]}))
    latest = read_version(path)
    assert latest.column_names == ["id", "x", "tag"]
    assert sorted(latest.column("tag").to_pylist(), key=str) == [None, None, None, "new"]
    assert version_schema(path, 0).names == ["id", "x"]  # the old version keeps its schema


@pytest.mark.parametrize(("new", "words"), [
    (pa.table({"id": [4]}), "drops column 'x'"),
    (pa.table({"id": [4.0], "x": [1.0]}), "changes 'id' from int64 to double"),
    (pa.table({"id": pa.array([4], pa.int32()), "x": [1.0]}), "changes 'id'"),  # widening too
    (pa.Table.from_arrays([pa.array([4]), pa.array([1.0]), pa.array([7])],
                          schema=pa.schema([("id", pa.int64()), ("x", pa.float64()),
                                            pa.field("n", pa.int64(), nullable=False)])),
     "adds non-nullable column 'n'"),
])
def test_refused_changes_leave_the_dataset_alone_unless_forced(tmp_path: Path, new: pa.Table,
                                                               words: str) -> None:
    path = tmp_path / "ds"
    commit(path, table())
    with pytest.raises(SchemaEvolutionError, match=words):
        commit(path, new)
    assert latest_version(path) == 0
    assert commit(path, new, force=True) == 1
    assert read_version(path).schema.names == new.schema.names
    assert sorted_ids(read_version(path, 0)) == [1, 2, 3]


def test_schema_change_names_every_difference() -> None:
    old = pa.schema([("a", pa.int64()), ("b", pa.string())])
    new = pa.schema([("a", pa.float64()), ("c", pa.string())])
    change = schema_change(old, new)
    assert change.dropped == ("b",) and change.added_nullable == ("c",)
    assert change.retyped == (("a", "int64", "double"),) and not change.compatible
    assert schema_change(old, pa.schema([("a", pa.int64()), ("b", pa.large_string())])).compatible


def test_missing_dataset_and_version(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="holds no dataset"):
        read_version(tmp_path / "none")
    commit(tmp_path / "ds", table())
    with pytest.raises(DatasetNotFoundError, match=r"version\(=3\)"):
        read_version(tmp_path / "ds", 3)


WRITER = textwrap.dedent("""
    import sys
    import numpy as np, pyarrow as pa
    from pathlib import Path
    from mlfleet.storage.datasets.versions import commit
    rows = 3_000_000
    big = pa.table({"id": np.arange(rows), "x": np.random.default_rng(0).random(rows)})
    print("writing", flush=True)
    for _ in range(20):
        commit(Path(sys.argv[1]), big)
""")


@pytest.mark.slow
def test_a_killed_writer_leaves_no_half_version(tmp_path: Path) -> None:
    """SIGKILL while a 3M-row version is being written: readers see whole versions only."""
    path = tmp_path / "ds"
    commit(path, table())
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"writing\n"
    time.sleep(1.5)  # on this machine: inside the second or third 3M-row commit
    child.send_signal(signal.SIGKILL)
    child.wait()
    latest = latest_version(path)
    for version in range(latest + 1):
        rows = read_version(path, version).num_rows
        assert rows == 3 + 3_000_000 * version  # every version whole: 3 rows, then + 3M each
