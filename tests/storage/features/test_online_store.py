"""One suite for every online store backend: SQLite (a file) and Redis (a real server)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis_server import redis_server, redis_url  # noqa: F401  (fixtures)

from mlfleet.errors import InputError
from mlfleet.storage.features.online_factory import open_online_store
from mlfleet.storage.features.online_store import (
    FeatureBatch,
    FeatureRow,
    MaterializedInterval,
    OnlineStore,
    OnlineStoreError,
    entity_key,
)

_views = itertools.count()


def batch(*rows: FeatureRow) -> FeatureBatch:
    return FeatureBatch.from_rows(rows)


def row(key: str, event_s: float, created_s: float = 0.0, **values: object) -> FeatureRow:
    return FeatureRow(entity_key=key, values=values,  # type: ignore[arg-type]
                      event_ts_s=event_s, created_ts_s=created_s)


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    if request.param == "sqlite":
        opened = open_online_store(backend="sqlite", sqlite_path=tmp_path / "online.db")
    else:
        opened = open_online_store(backend="redis", redis_url=request.getfixturevalue("redis_url"))
    yield opened
    opened.close()


def test_read_returns_what_was_written_in_key_order(store: OnlineStore) -> None:
    written = store.write("v", batch(row("1", 10.0, ctr=0.5, clicks=3),
                                     row("2", 20.0, ctr=0.25)))
    assert written == 2
    got = store.read("v", ["2", "9", "1"], ["ctr", "clicks"])
    assert got[1] is None
    assert got[0] is not None and dict(got[0].values) == {"ctr": 0.25, "clicks": None}
    assert got[2] is not None and dict(got[2].values) == {"ctr": 0.5, "clicks": 3}
    assert (got[0].event_ts_s, got[2].event_ts_s) == (20.0, 10.0)


def test_values_keep_their_type(store: OnlineStore) -> None:
    store.write("v", batch(row("k", 1.0, i=7, f=0.1, s="héllo", n=None, big=2**62)))
    got = store.read("v", ["k"], ["i", "f", "s", "n", "big"])[0]
    assert got is not None
    assert dict(got.values) == {"i": 7, "f": 0.1, "s": "héllo", "n": None, "big": 2**62}
    assert type(got.values["i"]) is int and type(got.values["f"]) is float


def test_an_older_row_never_overwrites_a_newer_one(store: OnlineStore) -> None:
    store.write("v", batch(row("1", 100.0, 5.0, x=1)))
    assert store.write("v", batch(row("1", 99.0, 50.0, x=2))) == 0       # older event
    assert store.write("v", batch(row("1", 100.0, 4.0, x=3))) == 0       # older created
    got = store.read("v", ["1"], ["x"])[0]
    assert got is not None and got.values["x"] == 1
    assert store.write("v", batch(row("1", 100.0, 6.0, x=4))) == 1       # newer created
    assert store.write("v", batch(row("1", 100.0, 6.0, x=5))) == 1       # a tie overwrites
    got = store.read("v", ["1"], ["x"])[0]
    assert got is not None and (got.values["x"], got.event_ts_s) == (5, 100.0)


def test_unknown_view_and_feature_read_as_missing(store: OnlineStore) -> None:
    assert store.read("nope", ["1", "2"], ["x"]) == [None, None]
    store.write("v", batch(row("1", 1.0, x=1)))
    got = store.read("v", ["1"], ["x", "never_written"])[0]
    assert got is not None and dict(got.values) == {"x": 1, "never_written": None}


def test_views_are_separate(store: OnlineStore) -> None:
    store.write("a", batch(row("1", 1.0, x=1)))
    store.write("b", batch(row("1", 2.0, x=2)))
    a, b = store.read("a", ["1"], ["x"])[0], store.read("b", ["1"], ["x"])[0]
    assert a is not None and b is not None and (a.values["x"], b.values["x"]) == (1, 2)


def test_a_large_batch_is_read_in_one_call(store: OnlineStore) -> None:
    keys = [str(i) for i in range(35_000)]       # more than one SQLite IN (...) chunk
    store.write("v", batch(*(row(k, float(i), x=i) for i, k in enumerate(keys))))
    got = store.read("v", keys[::-1], ["x"])
    assert [g.values["x"] if g else None for g in got] == list(range(35_000))[::-1]


def test_materialized_interval_round_trips(store: OnlineStore) -> None:
    assert store.materialized("v") is None
    store.record_materialized("v", MaterializedInterval(start_ts_s=1.5, end_ts_s=9.25))
    store.record_materialized("v", MaterializedInterval(start_ts_s=9.25, end_ts_s=20.0))
    assert store.materialized("v") == MaterializedInterval(start_ts_s=9.25, end_ts_s=20.0)
    assert store.materialized("other") is None


def test_composite_keys_match_typed_and_parquet_values() -> None:
    assert entity_key([1]) == entity_key(["1"]) == entity_key([1.0]) == "1"
    assert entity_key([1, "a"]) != entity_key(["1a"])
    assert entity_key([1.5]) == "1.5"


writes = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 2),
                            st.integers(0, 1000)), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=writes, chunk=st.integers(1, 7))
def test_store_holds_the_latest_row_per_entity(store: OnlineStore,
                                               writes: list[tuple[int, int, int, int]],
                                               chunk: int) -> None:
    """Writes in any order and batching leave the max (event, created) row per entity."""
    view = f"prop{next(_views)}"
    rows = [row(str(k), float(ev), float(cr), x=val) for k, ev, cr, val in writes]
    for start in range(0, len(rows), chunk):
        store.write(view, FeatureBatch.from_rows(rows[start:start + chunk]))
    expected: dict[str, tuple[float, float]] = {}
    for r in rows:
        expected[r.entity_key] = max(expected.get(r.entity_key, (-1.0, -1.0)),
                                     (r.event_ts_s, r.created_ts_s))
    keys = [str(k) for k in range(5)]
    for key, got in zip(keys, store.read(view, keys, ["x"]), strict=True):
        if key not in expected:
            assert got is None
            continue
        assert got is not None and got.event_ts_s == expected[key][0]
        winners = {r.values["x"] for r in rows if r.entity_key == key
                   and (r.event_ts_s, r.created_ts_s) == expected[key]}
        assert got.values["x"] in winners


# ------------------------------------------------------------------ opening


def test_sqlite_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "online.db"
    first = open_online_store(backend="sqlite", sqlite_path=path)
    first.write("v", batch(row("1", 1.0, x=1)))
    first.close()
    again = open_online_store(backend="sqlite", sqlite_path=path, read_only=True)
    got = again.read("v", ["1"], ["x"])[0]
    assert got is not None and got.values["x"] == 1


def test_read_only_sqlite_of_an_absent_file_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "online.db"
    store = open_online_store(backend="sqlite", sqlite_path=path, read_only=True)
    assert store.read("v", ["1"], ["x"]) == [None]
    assert store.materialized("v") is None
    store.close()
    assert not path.exists()


def test_a_file_that_is_not_sqlite_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "online.db"
    path.write_bytes(b"not a database, just some bytes" * 10)
    with pytest.raises(OnlineStoreError, match="online.db"):
        open_online_store(backend="sqlite", sqlite_path=path)


def test_unreachable_redis_url_is_one_line_naming_it() -> None:
    url = "redis://127.0.0.1:1/0"
    with pytest.raises(InputError, match="unreachable") as err:
        open_online_store(backend="redis", redis_url=url)
    assert url in str(err.value) and "\n" not in str(err.value)


def test_malformed_redis_url_and_unknown_backend_are_input_errors() -> None:
    with pytest.raises(OnlineStoreError, match="nope://x"):
        open_online_store(backend="redis", redis_url="nope://x")
    with pytest.raises(OnlineStoreError, match="known: sqlite, redis"):
        open_online_store(backend="leveldb")
