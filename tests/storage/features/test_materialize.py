"""Incremental materialization from Parquet (DuckDB) into both online stores."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from feature_repo_builders import T0_S, make_repo, write_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis_server import redis_server, redis_url  # noqa: F401  (fixtures)

from mlfleet.storage.features.definitions import FeatureRepoError
from mlfleet.storage.features.materialize import materialize
from mlfleet.storage.features.online_factory import open_online_store
from mlfleet.storage.features.online_store import (
    MaterializedInterval,
    OnlineStore,
)
from mlfleet.storage.features.sources import FeatureDataError

ROWS = [  # (user_id, event, created, clicks, ctr)
    (1, T0_S + 10, T0_S + 10, 1, 0.1),
    (1, T0_S + 20, T0_S + 21, 2, 0.2),
    (1, T0_S + 20, T0_S + 25, 3, 0.3),     # same event time, later created: wins
    (1, T0_S + 90, T0_S + 90, 4, 0.4),     # after the first window
    (2, T0_S + 5, T0_S + 5, 7, 0.7),
    (3, T0_S + 200, T0_S + 200, 9, 0.9),   # only in the second window
]
_repos = itertools.count()


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    if request.param == "sqlite":
        opened = open_online_store(backend="sqlite", sqlite_path=tmp_path / "store.db")
    else:
        opened = open_online_store(backend="redis", redis_url=request.getfixturevalue("redis_url"))
    yield opened
    opened.close()


def clicks(store: OnlineStore, *keys: str) -> list[int | None]:
    got = store.read("user_stats", list(keys), ["clicks"])
    return [None if g is None else g.values["clicks"] for g in got]  # type: ignore[misc]


def test_latest_row_per_entity_in_the_window(store: OnlineStore, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)
    [done] = materialize(repo, store, start_ts_s=T0_S, end_ts_s=T0_S + 50)
    assert (done.entities, done.rows_written) == (2, 2)
    assert clicks(store, "1", "2", "3") == [3, 7, None]
    stored = store.read("user_stats", ["1"], ["ctr"])[0]
    assert stored is not None and stored.event_ts_s == T0_S + 20


def test_window_ends_are_included(store: OnlineStore, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)
    materialize(repo, store, start_ts_s=T0_S + 5, end_ts_s=T0_S + 10)
    assert clicks(store, "1", "2") == [1, 7]


def test_end_alone_continues_from_the_last_end(store: OnlineStore, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)
    materialize(repo, store, start_ts_s=T0_S, end_ts_s=T0_S + 50)
    [done] = materialize(repo, store, end_ts_s=T0_S + 300)
    assert done.start_ts_s == T0_S + 50
    assert (done.entities, done.rows_written) == (2, 2)     # user 1 (t+90) and user 3
    assert clicks(store, "1", "2", "3") == [4, 7, 9]
    assert store.materialized("user_stats") == MaterializedInterval(
        start_ts_s=T0_S + 50, end_ts_s=T0_S + 300)


def test_first_incremental_run_starts_one_ttl_before_end(store: OnlineStore,
                                                         tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)                # ttl 1h
    [done] = materialize(repo, store, end_ts_s=T0_S + 3600 + 15)
    assert done.start_ts_s == T0_S + 15
    assert clicks(store, "1", "2", "3") == [4, None, 9]


def test_an_older_window_never_overwrites_newer_values(store: OnlineStore,
                                                       tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)
    materialize(repo, store, start_ts_s=T0_S + 60, end_ts_s=T0_S + 300)
    [done] = materialize(repo, store, start_ts_s=T0_S, end_ts_s=T0_S + 50)
    assert done.rows_written == 1                             # user 2 only
    assert clicks(store, "1", "2", "3") == [4, 7, 9]
    interval = store.materialized("user_stats")
    assert interval is not None and interval.end_ts_s == T0_S + 300    # never moves back


def test_start_after_end_is_refused_before_writing(store: OnlineStore, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)
    with pytest.raises(FeatureRepoError, match="after end"):
        materialize(repo, store, start_ts_s=T0_S + 10, end_ts_s=T0_S)
    assert store.materialized("user_stats") is None


def test_unknown_view_is_refused(store: OnlineStore, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)
    with pytest.raises(FeatureRepoError, match="'nope' does not exist; known: user_stats"):
        materialize(repo, store, end_ts_s=T0_S, views=["nope"])


def test_corrupt_source_names_it_and_writes_nothing(store: OnlineStore, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS)
    repo.views["user_stats"].source_path.write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(FeatureDataError, match="user_stats.parquet' is not a readable") as err:
        materialize(repo, store, start_ts_s=T0_S, end_ts_s=T0_S + 50)
    assert "\n" not in str(err.value)
    assert store.materialized("user_stats") is None and clicks(store, "1") == [None]


def test_a_source_without_a_declared_column_is_refused(store: OnlineStore,
                                                       tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    repo = make_repo(tmp_path / "repo", ROWS)
    pq.write_table(pa.table({"user_id": [1]}), repo.views["user_stats"].source_path)
    with pytest.raises(FeatureDataError, match="has no column 'clicks'"):
        materialize(repo, store, end_ts_s=T0_S)
    assert store.materialized("user_stats") is None


rows_strategy = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40), st.integers(0, 40)),
                         min_size=0, max_size=40)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=rows_strategy, windows=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)),
                                           min_size=1, max_size=3))
def test_store_equals_brute_force_latest_over_the_windows(
        tmp_path: Path, raw: list[tuple[int, int, int]],
        windows: list[tuple[int, int]]) -> None:
    """After materializing windows in any order, each entity holds its latest row among the
    rows of all windows (unique created times make the latest row unique)."""
    rows = [(u, T0_S + ev, T0_S + 100 + i, i, float(i)) for i, (u, ev, _) in enumerate(raw)]
    root = tmp_path / f"r{next(_repos)}"
    repo = make_repo(root, rows)
    store = open_online_store(backend="sqlite", sqlite_path=root / "online.db")
    windows = [(min(a, b), max(a, b)) for a, b in windows]
    for lo, hi in windows:
        materialize(repo, store, start_ts_s=T0_S + lo, end_ts_s=T0_S + hi)
    for user in range(6):
        inside = [r for r in rows if r[0] == user
                  and any(T0_S + lo <= r[1] <= T0_S + hi for lo, hi in windows)]
        expected = max(inside, key=lambda r: (r[1], r[2]))[3] if inside else None
        assert clicks(store, str(user)) == [expected]
    store.close()


def test_a_directory_source_reads_every_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", ROWS[:3])
    write_source(tmp_path / "repo" / "data" / "more.parquet", ROWS[3:])
    view = repo.views["user_stats"]
    object.__setattr__(view, "source_path", view.source_path.parent)
    store = open_online_store(backend="sqlite", sqlite_path=tmp_path / "o.db")
    materialize(repo, store, start_ts_s=T0_S, end_ts_s=T0_S + 300)
    assert clicks(store, "1", "2", "3") == [4, 7, 9]
