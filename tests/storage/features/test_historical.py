"""Point-in-time retrieval on small hand-checked cases, and its errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from offline_repo_builders import copy_example, ts, view_spec, write_repo

from mlfleet.storage.features.definitions import FeatureRepoError, load_repo, parse_feature_refs
from mlfleet.storage.features.offline import HistoricalResult, retrieve
from mlfleet.storage.features.sources import FeatureDataError

ALL = ("user_stats:clicks_7d,user_stats:ctr,user_profile:age,user_derived:ctr_pct,"
       "user_derived:clicks_per_year_of_age")


def _retrieve(root: Path, features: str, entities: Path | None = None,
              **kwargs: Any) -> tuple[HistoricalResult, list[dict[str, Any]]]:
    repo = load_repo(root)
    out = root / "out.parquet"
    result = retrieve(repo, parse_feature_refs(repo, [features]),
                      entity_path=entities or root / "data" / "entities.parquet",
                      out_path=out, **kwargs)
    return result, pq.read_table(out).to_pylist()


@pytest.mark.parametrize("strategy", ["auto", "hash", "asof"])
def test_example_values_follow_the_point_in_time_rules(tmp_path: Path, strategy: str) -> None:
    result, rows = _retrieve(copy_example(tmp_path), ALL, strategy=strategy)
    assert result.rows == 12 and result.columns == (
        "user_id", "event_timestamp", "clicks_7d", "ctr", "age", "ctr_pct",
        "clicks_per_year_of_age")
    got = [(r["user_id"], r["clicks_7d"], r["age"]) for r in rows]
    assert got == [
        (1, None, 31),   # before any user_stats row
        (1, 10, 31),     # latest at or before 4 h is the row at 0 h
        (1, 13, 31),     # two rows at 5 h: the later created (13) wins; equal time included
        (1, 13, 31),     # 29 h: the 5 h row is exactly 1 d old, still within the TTL
        (1, None, 31),   # 60 h: the 30 h row is older than the TTL
        (2, 5, 45), (2, 7, 45), (3, 100, 29), (4, 0, None),
        (5, None, 60),   # no stats, but a profile
        (9, None, None),  # unseen entity
        (2, None, 45)]   # 1 h: before user 2's first stats row (2 h)
    assert rows[2]["ctr_pct"] == pytest.approx(13.0)
    assert rows[1]["clicks_per_year_of_age"] == pytest.approx(10 / 31)
    assert rows[0]["ctr_pct"] is None


def _stats(root: Path, rows: list[tuple[int, float, float]], name: str = "stats.parquet") -> None:
    (root / "data" / name).parent.mkdir(parents=True, exist_ok=True)
    stamp = pa.timestamp("us", tz="UTC")
    pq.write_table(pa.table({
        "user_id": pa.array([r[0] for r in rows], pa.int64()),
        "event_timestamp": pa.array([ts(r[1]) for r in rows], stamp),
        "created": pa.array([ts(r[1]) for r in rows], stamp),
        "x": pa.array([r[2] for r in rows], pa.float64())}), root / "data" / name)


def _entities(path: Path, rows: list[tuple[int | None, datetime | None]],
              **extra: pa.Array) -> Path:
    pq.write_table(pa.table({"user_id": pa.array([r[0] for r in rows], pa.int64()),
                             "event_timestamp": pa.array([r[1] for r in rows],
                                                         pa.timestamp("us", tz="UTC")),
                             **extra}), path)
    return path


def test_every_entity_row_is_kept_in_order_with_its_columns(tmp_path: Path) -> None:
    write_repo(tmp_path)
    _stats(tmp_path, [(1, 0, 1.0), (2, 0, 2.0)])
    entities = _entities(tmp_path / "e.parquet", [(2, ts(1)), (None, ts(1)), (1, None),
                                                  (1, ts(1)), (2, ts(1))],
                         label=pa.array(["a", "b", "c", "d", "e"]))
    _, rows = _retrieve(tmp_path, "stats:x", entities)
    assert [(r["label"], r["x"]) for r in rows] == [
        ("a", 2.0), ("b", None), ("c", None), ("d", 1.0), ("e", 2.0)]


def test_a_source_directory_of_files_is_one_source(tmp_path: Path) -> None:
    write_repo(tmp_path, views=[view_spec(source="data/parts")])
    _stats(tmp_path, [(1, 0, 1.0)], "parts/a.parquet")
    _stats(tmp_path, [(1, 2, 2.0)], "parts/b.parquet")
    entities = _entities(tmp_path / "e.parquet", [(1, ts(1)), (1, ts(3))])
    _, rows = _retrieve(tmp_path, "stats:x", entities)
    assert [r["x"] for r in rows] == [1.0, 2.0]


def test_naive_entity_timestamps_read_as_utc(tmp_path: Path) -> None:
    write_repo(tmp_path)
    _stats(tmp_path, [(1, 2, 1.0)])
    naive = pa.array([ts(1).replace(tzinfo=None), ts(2).replace(tzinfo=None)], pa.timestamp("us"))
    pq.write_table(pa.table({"user_id": [1, 1], "event_timestamp": naive}), tmp_path / "e.parquet")
    _, rows = _retrieve(tmp_path, "stats:x", tmp_path / "e.parquet")
    assert [r["x"] for r in rows] == [None, 1.0]


def test_clashing_output_names_need_full_names(tmp_path: Path) -> None:
    write_repo(tmp_path, views=[view_spec(name="a"), view_spec(name="b")])
    _stats(tmp_path, [(1, 0, 1.0)])
    entities = _entities(tmp_path / "e.parquet", [(1, ts(1))])
    with pytest.raises(FeatureRepoError, match="output column 'x' .* use full feature names"):
        _retrieve(tmp_path, "a:x,b:x", entities)
    result, rows = _retrieve(tmp_path, "a:x,b:x", entities, full_names=True)
    assert result.columns[-2:] == ("a__x", "b__x") and rows == [
        {"user_id": 1, "event_timestamp": ts(1), "a__x": 1.0, "b__x": 1.0}]


BAD_INPUTS: list[tuple[str, str]] = [
    ("missing_source", "source of feature view user_stats"),
    ("corrupt_source", "is not a readable Parquet file"),
    ("corrupt_entities", "entity file"),
    ("no_timestamp", "has no column 'event_timestamp'"),
    ("no_join_key", "has no column 'user_id'"),
    ("int_timestamp", "has type BIGINT; a timestamp is required"),
    ("missing_entities", "does not exist"),
]


def _break(root: Path, how: str) -> Path:
    entities = root / "data" / "entities.parquet"
    if how == "missing_source":
        (root / "data" / "user_stats.parquet").unlink()
    elif how == "corrupt_source":
        (root / "data" / "user_stats.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 8)
    elif how == "corrupt_entities":
        entities.write_bytes(bytes(range(256)) * 8)
    elif how == "no_timestamp":
        pq.write_table(pa.table({"user_id": [1]}), entities)
    elif how == "no_join_key":
        pq.write_table(pa.table({"event_timestamp": pa.array([ts(1)])}), entities)
    elif how == "int_timestamp":
        pq.write_table(pa.table({"user_id": [1], "event_timestamp": [5]}), entities)
    elif how == "missing_entities":
        entities.unlink()
    return entities


@pytest.mark.parametrize(("how", "fragment"), BAD_INPUTS)
def test_bad_inputs_raise_one_line_and_leave_no_output(tmp_path: Path, how: str,
                                                       fragment: str) -> None:
    root = copy_example(tmp_path)
    entities = _break(root, how)
    out = root / "out.parquet"
    out.write_bytes(b"previous")
    repo = load_repo(root)
    with pytest.raises(FeatureDataError) as info:
        retrieve(repo, parse_feature_refs(repo, [ALL]), entity_path=entities, out_path=out)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(("out", "fragment"), [
    ("", "must be a file path"), ("data", "must be a file path"),
    ("missing/out.parquet", "does not exist")])
def test_an_unwritable_output_path_is_refused_before_any_work(tmp_path: Path, out: str,
                                                              fragment: str) -> None:
    root = copy_example(tmp_path)
    repo = load_repo(root)
    with pytest.raises(FeatureDataError, match=fragment):
        retrieve(repo, parse_feature_refs(repo, ["user_stats:ctr"]),
                 entity_path=root / "data" / "entities.parquet", out_path=root / out)
