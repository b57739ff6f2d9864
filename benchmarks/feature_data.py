"""Generated feature-store data, written once and read by both mlfleet and Feast.

``generate(out_dir, feature_rows=..., entity_rows=...)`` writes, under ``out_dir``:

* ``data/user_stats.parquet``: ``user_id`` (int64), ``event_timestamp`` and ``created``
  (timestamp[us, UTC]), ``clicks_7d`` (int64), ``ctr`` (float64). Event times are
  whole minutes over 30 days, so some users have equal event times (ties broken by
  ``created``, which is the event time plus a random delay under an hour);
* ``data/user_profile.parquet``: one or two rows per user (``age`` int64), no created column
  and no TTL: a second view for multi-view retrieval;
* ``data/entity_df.parquet``: ``user_id``, ``event_timestamp``: 10% of the users are
  unseen, and some timestamps fall before the first feature row;
* ``mlfleet/features.yaml``: the mlfleet feature repository over those files;
* ``feast/feature_store.yaml`` (DuckDB offline store, SQLite online store) built by
  :func:`feast_store`, which also applies the Feast definitions.

Feast is imported only inside :func:`feast_store`, so the generator needs only
numpy and pyarrow. The ``user_stats`` TTL is one day (:data:`TTL_S`).

    python benchmarks/feature_data.py OUT_DIR [--feature-rows 1000000] [--entity-rows 100000]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START = datetime(2026, 1, 1, tzinfo=UTC)
"""The first possible feature event time."""
SPAN_S = 30 * 86400
"""Feature events are spread over this many seconds after START."""
TTL_S = 86400
"""The ``user_stats`` view's TTL."""
FEATURES = ("user_stats:clicks_7d", "user_stats:ctr", "user_profile:age")
"""Every feature the benchmark requests."""

_US = 1_000_000


@dataclass(frozen=True, kw_only=True)
class FeatureData:
    """Where :func:`generate` put its files."""

    root: Path
    features_path: Path
    profile_path: Path
    entity_path: Path
    repo_dir: Path
    """The mlfleet feature repository (``features.yaml``)."""
    feature_rows: int
    entity_rows: int
    users: int


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype(np.int64), type=pa.timestamp("us", tz="UTC"))


def user_stats_table(rng: np.random.Generator, *, rows: int, users: int) -> pa.Table:
    """``rows`` feature rows over ``users`` users, event times on whole minutes."""
    start_us = int(START.timestamp()) * _US
    user = rng.integers(0, users, size=rows)
    event_us = start_us + rng.integers(0, SPAN_S // 60, size=rows) * 60 * _US
    created_us = event_us + rng.integers(0, 3600 * _US, size=rows)
    return pa.table({
        "user_id": pa.array(user, type=pa.int64()),
        "event_timestamp": _timestamps(event_us),
        "created": _timestamps(created_us),
        "clicks_7d": pa.array(rng.integers(0, 1000, size=rows), type=pa.int64()),
        "ctr": pa.array(rng.random(rows), type=pa.float64()),
    })


def user_profile_table(rng: np.random.Generator, *, users: int) -> pa.Table:
    """One profile row per user, plus a later update for a third of them."""
    start_us = int(START.timestamp()) * _US
    user = np.concatenate([np.arange(users), np.arange(0, users, 3)])
    event_us = start_us + rng.integers(0, SPAN_S * _US, size=user.size)
    return pa.table({
        "user_id": pa.array(user, type=pa.int64()),
        "event_timestamp": _timestamps(event_us),
        "age": pa.array(rng.integers(18, 90, size=user.size), type=pa.int64()),
    })


def entity_table(rng: np.random.Generator, *, rows: int, users: int) -> pa.Table:
    """Entity rows: 10% unseen users; times from 2 days before START to its end."""
    start_us = int(START.timestamp()) * _US
    user = rng.integers(0, users + users // 10 + 1, size=rows)
    ts_us = start_us + rng.integers(-2 * 86400 * _US, SPAN_S * _US, size=rows)
    return pa.table({"user_id": pa.array(user, type=pa.int64()),
                     "event_timestamp": _timestamps(ts_us)})


REPO_YAML = f"""\
entities:
  - name: user
    join_key: user_id
feature_views:
  - name: user_stats
    entities: [user]
    source: ../data/user_stats.parquet
    timestamp_field: event_timestamp
    created_timestamp_field: created
    ttl: {TTL_S}s
    features:
      - {{name: clicks_7d, dtype: int64}}
      - {{name: ctr, dtype: float64}}
  - name: user_profile
    entities: [user]
    source: ../data/user_profile.parquet
    timestamp_field: event_timestamp
    features:
      - {{name: age, dtype: int64}}
online:
  backend: sqlite
  path: online.db
"""


def generate(out_dir: Path, *, feature_rows: int, entity_rows: int = 100_000,
             users: int = 100_000, seed: int = 0) -> FeatureData:
    """Write the data files and the mlfleet repository under ``out_dir``."""
    rng = np.random.default_rng(seed)
    data = out_dir / "data"
    repo = out_dir / "mlfleet"
    data.mkdir(parents=True, exist_ok=True)
    repo.mkdir(parents=True, exist_ok=True)
    out = FeatureData(root=out_dir, features_path=data / "user_stats.parquet",
                      profile_path=data / "user_profile.parquet",
                      entity_path=data / "entity_df.parquet", repo_dir=repo,
                      feature_rows=feature_rows, entity_rows=entity_rows, users=users)
    pq.write_table(user_stats_table(rng, rows=feature_rows, users=users), out.features_path,
                   row_group_size=1 << 20)
    pq.write_table(user_profile_table(rng, users=users), out.profile_path)
    pq.write_table(entity_table(rng, rows=entity_rows, users=users), out.entity_path)
    (repo / "features.yaml").write_text(REPO_YAML, encoding="utf-8")
    return out


FEAST_YAML = """\
project: bench
registry: registry.db
provider: local
offline_store:
  type: duckdb
online_store:
  type: sqlite
  path: online.db
entity_key_serialization_version: 3
"""


def feast_store(data: FeatureData) -> Any:
    """A Feast FeatureStore (DuckDB offline, SQLite online) over ``data``, definitions applied.

    The same two views as the mlfleet repository; Feast's ``ttl=0`` means no expiry.
    """
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int64

    repo = data.root / "feast"
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(FEAST_YAML, encoding="utf-8")
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64)
    stats = FeatureView(
        name="user_stats", entities=[user], ttl=timedelta(seconds=TTL_S),
        schema=[Field(name="clicks_7d", dtype=Int64), Field(name="ctr", dtype=Float64)],
        source=FileSource(path=str(data.features_path), timestamp_field="event_timestamp",
                          created_timestamp_column="created"))
    profile = FeatureView(
        name="user_profile", entities=[user], ttl=timedelta(0),
        schema=[Field(name="age", dtype=Int64)],
        source=FileSource(path=str(data.profile_path), timestamp_field="event_timestamp"))
    store = FeatureStore(repo_path=str(repo))
    store.apply([user, stats, profile])
    return store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--feature-rows", type=int, default=1_000_000)
    parser.add_argument("--entity-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = generate(args.out_dir, feature_rows=args.feature_rows,
                    entity_rows=args.entity_rows, seed=args.seed)
    print(f"wrote {data.features_path}, {data.entity_path}, {data.repo_dir / 'features.yaml'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
