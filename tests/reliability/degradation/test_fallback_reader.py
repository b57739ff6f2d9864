"""Feature fallback on a real online store: stop it, and requests are still answered.

The store is a real ``redis-server`` (started here, stopped here) behind the feature
store's :class:`RedisOnlineStore`, and the embedded SQLite store with its file removed
from under it. Each reply says which fallback served it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mlfleet.reliability.degradation.fallback_reader import FallbackReader
from mlfleet.storage.features.online_ha import start_node
from mlfleet.storage.features.online_redis import RedisOnlineStore
from mlfleet.storage.features.online_store import FeatureBatch

ROWS = FeatureBatch(entity_keys=["1", "2"], event_ts_s=[10.0, 10.0], created_ts_s=[10.0, 10.0],
                    values={"ctr": [0.3, 0.1]})


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/test.sh installs it)")
        pytest.skip("redis-server is not installed")
    return binary


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_redis_down_cached_then_default(tmp_path: Path) -> None:
    node = start_node(redis_binary(), tmp_path)
    clock = Clock()
    try:
        store = RedisOnlineStore(node.url)
        store.write("user", ROWS)
        reader = FallbackReader(store, defaults={"ctr": 0.05}, max_staleness_s=600.0,
                                clock=clock)
        assert [s.source for s in reader.read("user", ["1"], ["ctr"])] == ["store"]
        node.stop()  # the online store goes down
        clock.now_s = 120.0
        served = reader.read("user", ["1", "2"], ["ctr"])
        assert [(s.source, s.values["ctr"]) for s in served] == [("cached", 0.3), ("default", 0.05)]
        assert served[0].age_s == 120.0
        clock.now_s = 1000.0  # the cached copy is now too old
        assert reader.read("user", ["1"], ["ctr"])[0].source == "default"
        assert reader.served == {"store": 1, "cached": 1, "default": 2}
        store.close()
    finally:
        node.stop()


def test_sqlite_store_gone_serves_defaults(tmp_path: Path) -> None:
    from mlfleet.storage.features.online_sqlite import SqliteOnlineStore

    path = tmp_path / "online.db"
    store = SqliteOnlineStore(path)
    store.write("user", ROWS)
    reader = FallbackReader(store, defaults={"ctr": 0.05}, max_staleness_s=60.0)
    assert reader.read("user", ["2"], ["ctr"])[0].values["ctr"] == 0.1
    store.close()  # reads on a closed connection raise sqlite3.ProgrammingError
    served = reader.read("user", ["2", "3"], ["ctr"])
    assert [s.source for s in served] == ["cached", "default"]
