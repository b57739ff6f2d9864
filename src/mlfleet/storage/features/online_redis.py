"""The Redis online store: one hash per (feature view, entity), values as JSON.

Key ``mlfleet:fv:<view>:<entity key>`` holds the fields ``__event_ts``, ``__created_ts``
and one field per feature (its value as JSON, so ints, floats, strings and nulls come
back with their type). A write is one pipeline of a Lua script per row that compares
``(event, created)`` with the stored pair inside the server, so the newer row wins even
with concurrent writers; a read is one pipeline of ``HMGET`` per key. The windows
materialized per view are fields of the hash ``mlfleet:materialized``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mlfleet.storage.features.online_store import (
    FeatureRow,
    FeatureValue,
    MaterializedInterval,
    OnlineStoreError,
    StoredFeatures,
)

PIPELINE_ROWS = 10_000
"""Rows per pipeline round trip on writes (bounds the client's buffered replies)."""
CONNECT_TIMEOUT_S = 1.0
"""How long opening the store waits for the server before calling it unreachable."""
_EVENT, _CREATED = "__event_ts", "__created_ts"
_MATERIALIZED = "mlfleet:materialized"
# KEYS[1] = the entity hash; ARGV = event, created, field, value, field, value, ...
_NEWER_WINS = """
local cur = redis.call('HMGET', KEYS[1], '__event_ts', '__created_ts')
local ev, cr = tonumber(ARGV[1]), tonumber(ARGV[2])
if cur[1] then
  local cev, ccr = tonumber(cur[1]), tonumber(cur[2])
  if ev < cev or (ev == cev and cr < ccr) then return 0 end
end
redis.call('HSET', KEYS[1], '__event_ts', ARGV[1], '__created_ts', ARGV[2], unpack(ARGV, 3))
return 1
"""


def _key(view: str, entity_key: str) -> str:
    return f"mlfleet:fv:{view}:{entity_key}"


class RedisOnlineStore:
    """An :class:`~mlfleet.storage.features.online_store.OnlineStore` on a Redis server.

    :class:`OnlineStoreError` naming the URL when it is malformed or the server does not
    answer ``PING`` within :data:`CONNECT_TIMEOUT_S`.
    """

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        try:
            self._client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
            self._client.ping()
        except ValueError as exc:
            raise OnlineStoreError(f"online.url(={url!r}) is not a redis URL: {exc}") from None
        except redis.RedisError as exc:
            raise OnlineStoreError(f"online.url(={url!r}) is unreachable: {exc}") from None
        self._newer_wins = self._client.register_script(_NEWER_WINS)

    def write(self, view: str, rows: Sequence[FeatureRow]) -> int:
        """Store ``rows`` keeping the newer row per entity; the number stored."""
        stored = 0
        for start in range(0, len(rows), PIPELINE_ROWS):
            pipe = self._client.pipeline(transaction=False)
            for row in rows[start:start + PIPELINE_ROWS]:
                args: list[Any] = [repr(row.event_ts_s), repr(row.created_ts_s)]
                for name, value in row.values.items():
                    args += [name, json.dumps(value)]
                self._newer_wins(keys=[_key(view, row.entity_key)], args=args, client=pipe)
            stored += sum(int(r) for r in pipe.execute())
        return stored

    def read(self, view: str, keys: Sequence[str],
             features: Sequence[str]) -> list[StoredFeatures | None]:
        """The stored values of ``features`` for each key (None where nothing is stored)."""
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(_key(view, key), [_EVENT, *features])
        return [_decode(features, reply) for reply in pipe.execute()]

    def materialized(self, view: str) -> MaterializedInterval | None:
        """The window the last materialization of ``view`` covered, if any."""
        raw = self._client.hget(_MATERIALIZED, view)
        if raw is None:
            return None
        start, end = json.loads(raw)
        return MaterializedInterval(start_ts_s=float(start), end_ts_s=float(end))

    def record_materialized(self, view: str, interval: MaterializedInterval) -> None:
        """Record the window just materialized for ``view`` (replaces the previous one)."""
        self._client.hset(_MATERIALIZED, view,
                          json.dumps([interval.start_ts_s, interval.end_ts_s]))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _decode(features: Sequence[str], reply: list[bytes | None]) -> StoredFeatures | None:
    event, *values = reply
    if event is None:
        return None
    decoded: dict[str, FeatureValue] = {
        name: None if raw is None else json.loads(raw)
        for name, raw in zip(features, values, strict=True)}
    return StoredFeatures(values=decoded, event_ts_s=float(event))
