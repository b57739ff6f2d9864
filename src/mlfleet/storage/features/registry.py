"""``apply``: validate a feature repository against its data and record it in a registry.

:func:`apply` loads the YAML (:func:`~mlfleet.storage.features.definitions.load_repo`),
checks that every view's source is readable Parquet with its join keys, timestamp
columns and features, binds every on-demand expression in DuckDB, and (unless
``write=False``) writes ``REPO/.mlfleet/registry.json`` atomically: a JSON document of
the definitions with the SHA-256 of the YAML files it came from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet.atomic import write_text_atomically
from mlfleet.storage.features.definitions import (
    FeatureRepo,
    FeatureRepoError,
    FeatureView,
    load_repo,
)
from mlfleet.storage.features.offline import connect
from mlfleet.storage.features.on_demand import check_on_demand
from mlfleet.storage.features.sources import parquet_schema, require_columns, require_timestamp

REGISTRY_DIR = ".mlfleet"
REGISTRY_FILE = "registry.json"


@dataclass(frozen=True, kw_only=True)
class ApplySummary:
    """What ``apply`` found and wrote."""

    repo_dir: Path
    registry_path: Path | None
    """Where the registry was written; None when only checked."""
    digest: str
    """SHA-256 of the YAML files, in name order."""
    entities: tuple[str, ...]
    feature_views: tuple[str, ...]
    on_demand_views: tuple[str, ...]
    features: int
    """Features over all views, on-demand ones included."""


def registry_path(root: Path) -> Path:
    """Where ``apply`` writes the registry of the repository at ``root``."""
    return root / REGISTRY_DIR / REGISTRY_FILE


def check_source(con: Any, view: FeatureView) -> None:
    """FeatureDataError unless ``view``'s source has its keys, timestamps and features."""
    what = f"source of feature view {view.name}"
    schema = parquet_schema(con, view.source_path, what)
    require_columns(schema, [*view.join_keys, *(f.name for f in view.features)], what=what,
                    path=view.source_path)
    require_timestamp(schema, view.timestamp_field, what=what, path=view.source_path)
    if view.created_timestamp_field is not None:
        require_timestamp(schema, view.created_timestamp_field, what=what, path=view.source_path)


def digest(repo: FeatureRepo) -> str:
    """SHA-256 over the repository's YAML files (name and bytes, in name order)."""
    sha = hashlib.sha256()
    for file in repo.files:
        sha.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return sha.hexdigest()


def to_document(repo: FeatureRepo) -> dict[str, Any]:
    """The registry's JSON document (paths relative to the repository where they can be)."""
    def feats(features: Any) -> list[dict[str, Any]]:
        return [{"name": f.name, "dtype": f.dtype, **({"expression": f.expression}
                                                       if f.expression else {})}
                for f in features]

    return {
        "digest": digest(repo),
        "entities": [{"name": e.name, "join_key": e.join_key} for e in repo.entities.values()],
        "feature_views": [{"name": v.name, "entities": list(v.entities), "source": v.source,
                           "timestamp_field": v.timestamp_field,
                           "created_timestamp_field": v.created_timestamp_field,
                           "ttl_s": v.ttl_s, "features": feats(v.features)}
                          for v in repo.views.values()],
        "on_demand_views": [{"name": o.name, "sources": list(o.sources),
                             "features": feats(o.features)} for o in repo.on_demand.values()],
        "online": {"backend": repo.online.backend, "url": repo.online.url,
                   "stale_policy": repo.online.stale_policy,
                   "defaults": dict(repo.online.defaults)},
    }


def _write_atomically(path: Path, text: str) -> None:
    write_text_atomically(path, text, error=FeatureRepoError, option="registry", fsync=True,
                          mkdir=True)


def apply(root: Path, *, write: bool = True) -> ApplySummary:
    """Validate the repository at ``root`` against its data; write its registry if ``write``.

    Raises FeatureRepoError (definitions) or FeatureDataError (sources).
    """
    repo = load_repo(root)
    con = connect()
    try:
        for view in repo.views.values():
            check_source(con, view)
        check_on_demand(repo, con)
    finally:
        con.close()
    document = to_document(repo)
    target = registry_path(repo.root) if write else None
    if target is not None:
        _write_atomically(target, json.dumps(document, indent=2, sort_keys=True) + "\n")
    return ApplySummary(
        repo_dir=repo.root, registry_path=target, digest=document["digest"],
        entities=tuple(repo.entities), feature_views=tuple(repo.views),
        on_demand_views=tuple(repo.on_demand),
        features=sum(len(v.features) for v in repo.views.values())
        + sum(len(o.features) for o in repo.on_demand.values()))
