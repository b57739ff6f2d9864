"""Builders for the offline store's tests: the shipped example repository and small repos.

The example under ``src/mlfleet/examples/feature_repo`` is what :func:`write_example` writes
(``test_definitions.py`` checks that the shipped Parquet files still equal it); tests copy
it into ``tmp_path`` with :func:`copy_example` so nothing writes into the source tree.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

EXAMPLE = Path(__file__).resolve().parents[3] / "src" / "mlfleet" / "examples" / "feature_repo"
"""The example feature repository shipped with mlfleet."""
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_TS = pa.timestamp("us", tz="UTC")


def ts(hours: float) -> datetime:
    """``T0`` plus ``hours``."""
    return datetime.fromtimestamp(T0.timestamp() + hours * 3600, tz=UTC)


def example_tables() -> dict[str, pa.Table]:
    """The example's Parquet tables by file name (times in hours after T0)."""
    stats = [  # user_id, event h, created h, clicks_7d, ctr
        (1, 0, 0.1, 10, 0.10), (1, 5, 5.1, 12, 0.12), (1, 5, 5.5, 13, 0.13),
        (1, 30, 30.2, 20, 0.20), (2, 2, 2.0, 5, 0.05), (2, 40, 40.5, 7, 0.07),
        (3, 1, 1.2, 100, 0.50), (4, 10, 10.0, 0, 0.0)]
    profile = [(1, -10, 31), (2, -10, 45), (3, 3, 28), (3, 20, 29), (5, 0, 60)]
    entities = [(1, -1), (1, 4), (1, 5), (1, 29), (1, 60), (2, 3), (2, 41), (3, 25),
                (4, 10), (5, 1), (9, 50), (2, 1)]
    return {
        "user_stats.parquet": pa.table({
            "user_id": pa.array([r[0] for r in stats], pa.int64()),
            "event_timestamp": pa.array([ts(r[1]) for r in stats], _TS),
            "created": pa.array([ts(r[2]) for r in stats], _TS),
            "clicks_7d": pa.array([r[3] for r in stats], pa.int64()),
            "ctr": pa.array([r[4] for r in stats], pa.float64())}),
        "user_profile.parquet": pa.table({
            "user_id": pa.array([r[0] for r in profile], pa.int64()),
            "event_timestamp": pa.array([ts(r[1]) for r in profile], _TS),
            "age": pa.array([r[2] for r in profile], pa.int64())}),
        "entities.parquet": pa.table({
            "user_id": pa.array([r[0] for r in entities], pa.int64()),
            "event_timestamp": pa.array([ts(r[1]) for r in entities], _TS)}),
    }


def write_example(root: Path) -> None:
    """Write the example's Parquet files under ``root/data`` (the YAML is hand-written)."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    for name, table in example_tables().items():
        pq.write_table(table, root / "data" / name)


def copy_example(tmp_path: Path) -> Path:
    """A scratch copy of the example repository (without any registry)."""
    dest = tmp_path / "feature_repo"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".mlfleet", "*.db"))
    return dest


def view_spec(**overrides: Any) -> dict[str, Any]:
    """A feature view ``stats`` of entity ``user`` over ``data/stats.parquet`` (``x`` float)."""
    spec: dict[str, Any] = {
        "name": "stats", "entities": ["user"], "source": "data/stats.parquet",
        "timestamp_field": "event_timestamp", "created_timestamp_field": "created",
        "features": [{"name": "x", "dtype": "float64"}]}
    spec.update(overrides)
    return spec


def write_repo(root: Path, *, views: list[dict[str, Any]] | None = None,
               **sections: Any) -> Path:
    """``root/features.yaml`` with entity ``user`` (``user_id``) and ``views``."""
    root.mkdir(parents=True, exist_ok=True)
    spec: dict[str, Any] = {"entities": [{"name": "user", "join_key": "user_id"}],
                            "feature_views": views if views is not None else [view_spec()]}
    spec.update(sections)
    (root / "features.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return root
