"""Builders for small feature repositories on disk (YAML + Parquet), for the online tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from mlfleet.storage.features.definitions import FeatureRepo, load_repo

T0_S = 1_700_000_000
"""A base event time (2023-11-14T22:13:20Z), in seconds since the Unix epoch."""


def write_source(path: Path, rows: Sequence[tuple[int, float, float, int, float]]) -> None:
    """Parquet rows ``(user_id, event_s, created_s, clicks, ctr)`` with UTC timestamps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table({
        "user_id": pa.array([r[0] for r in rows], pa.int64()),
        "event_timestamp": pa.array([int(r[1] * 1e6) for r in rows], ts),
        "created": pa.array([int(r[2] * 1e6) for r in rows], ts),
        "clicks": pa.array([r[3] for r in rows], pa.int64()),
        "ctr": pa.array([r[4] for r in rows], pa.float64()),
    })
    pq.write_table(table, path)


def make_repo(root: Path, rows: Sequence[tuple[int, float, float, int, float]] = (),
              **online: Any) -> FeatureRepo:
    """A repository with entity ``user`` and view ``user_stats`` (ttl 1 h) over ``rows``,
    an on-demand ``user_derived:ctr_pct = ctr * 100``; ``online`` overrides that section."""
    root.mkdir(parents=True, exist_ok=True)
    write_source(root / "data" / "user_stats.parquet", rows)
    spec = {
        "entities": [{"name": "user", "join_key": "user_id"}],
        "feature_views": [{
            "name": "user_stats", "entities": ["user"], "source": "data/user_stats.parquet",
            "timestamp_field": "event_timestamp", "created_timestamp_field": "created",
            "ttl": "1h", "features": [{"name": "clicks", "dtype": "int64"},
                                      {"name": "ctr", "dtype": "float64"}]}],
        "on_demand_views": [{"name": "user_derived", "sources": ["user_stats"], "features": [
            {"name": "ctr_pct", "dtype": "float64", "expression": "ctr * 100"}]}],
        "online": {"backend": "sqlite", "path": "online.db", **online},
    }
    (root / "features.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return load_repo(root)
