"""Open an online store by backend name (kept apart from the store contract, which the
backends import)."""

from __future__ import annotations

from pathlib import Path

from mlfleet.storage.features.definitions import BACKENDS
from mlfleet.storage.features.online_store import OnlineStore, OnlineStoreError


def open_online_store(*, backend: str, sqlite_path: Path | None = None,
                      redis_url: str | None = None, read_only: bool = False) -> OnlineStore:
    """Open the backend named ``backend`` (:data:`BACKENDS`); :class:`OnlineStoreError` if
    it is unknown, its location is missing, or it cannot be reached. ``read_only`` opens
    a SQLite file without creating or changing it (an absent file reads as empty)."""
    if backend == "sqlite":
        if sqlite_path is None:
            raise OnlineStoreError("online.path is required for the sqlite backend")
        from mlfleet.storage.features.online_sqlite import SqliteOnlineStore

        return SqliteOnlineStore(sqlite_path, read_only=read_only)
    if backend == "redis":
        if not redis_url:
            raise OnlineStoreError("online.url is required for the redis backend")
        from mlfleet.storage.features.online_redis import RedisOnlineStore

        return RedisOnlineStore(redis_url)
    raise OnlineStoreError(f"online.backend(={backend!r}) is unknown; known: {', '.join(BACKENDS)}")
