"""Feature repository definitions: what loads, and the one-line error for what does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from offline_repo_builders import EXAMPLE, example_tables, view_spec, write_repo

from mlfleet.storage.features.definitions import (
    FeatureRepoError,
    load_repo,
    parse_feature_refs,
)


def test_example_repo_loads_with_every_field() -> None:
    repo = load_repo(EXAMPLE)
    stats = repo.views["user_stats"]
    assert repo.entities["user"].join_key == "user_id"
    assert stats.ttl_s == 86400.0 and stats.join_keys == ("user_id",)
    assert stats.created_timestamp_field == "created"
    assert stats.source_path == EXAMPLE.absolute() / "data" / "user_stats.parquet"
    assert [f.name for f in stats.features] == ["clicks_7d", "ctr"]
    assert repo.views["user_profile"].ttl_s is None
    assert repo.on_demand["user_derived"].sources == ("user_stats", "user_profile")
    assert repo.online.backend == "sqlite" and repo.online.defaults == {"user_stats:ctr": 0.0}
    assert repo.online.path == EXAMPLE.absolute() / "online.db"


def test_shipped_example_data_is_what_the_builder_writes() -> None:
    for name, table in example_tables().items():
        assert pq.read_table(EXAMPLE / "data" / name).equals(table), name


def test_feature_refs_parse_comma_lists_and_keep_order_once() -> None:
    repo = load_repo(EXAMPLE)
    refs = parse_feature_refs(repo, ["user_stats:ctr,user_derived:ctr_pct", "user_stats:ctr"])
    assert [(r.ref, r.on_demand) for r in refs] == [("user_stats:ctr", False),
                                                    ("user_derived:ctr_pct", True)]


@pytest.mark.parametrize(("refs", "fragment"), [
    (["user_stats:nope"], "user_stats:nope does not exist; known in user_stats: clicks_7d, ctr"),
    (["nope:x"], "'nope' (in 'nope:x') does not exist; known: user_stats, user_profile"),
    (["ctr"], "'ctr' must be view:feature"),
    ([""], "no feature requested"),
])
def test_unknown_features_are_named_with_the_known_ones(refs: list[str], fragment: str) -> None:
    with pytest.raises(FeatureRepoError) as info:
        parse_feature_refs(load_repo(EXAMPLE), refs)
    assert fragment in str(info.value)


def test_ttl_units_zero_and_absent(tmp_path: Path) -> None:
    write_repo(tmp_path, views=[view_spec(name="a", ttl="90min"), view_spec(name="b", ttl=0),
                                view_spec(name="c", ttl=3600)])
    views = load_repo(tmp_path).views
    assert (views["a"].ttl_s, views["b"].ttl_s, views["c"].ttl_s) == (5400.0, None, 3600.0)


BAD: list[tuple[dict[str, Any], str]] = [
    ({"views": [view_spec(ttl="-1d")]}, "feature view stats: ttl(='-1d') must be >= 0"),
    ({"views": [view_spec(ttl="soon")]}, "ttl(='soon') is not a duration"),
    ({"views": [view_spec(entities=["item"])]}, "entity 'item' is not defined; known: user"),
    ({"views": [view_spec(features=[{"name": "x", "dtype": "complex"}])]},
     "dtype(='complex') is unknown; known: bool, int32, int64, float32, float64, string"),
    ({"views": [view_spec(features=[])]}, "features must not be empty"),
    ({"views": [view_spec(colour="red")]}, "unknown key 'colour'"),
    ({"views": [view_spec(name="a b")]}, "name(='a b') must be a name"),
    ({"views": [view_spec(), view_spec()]}, "view 'stats' is defined twice"),
    ({"views": [view_spec(features=[{"name": "user_id", "dtype": "int64"}])]},
     "clashes with a key or timestamp column"),
    ({"online": {"backend": "mongo"}}, "backend(='mongo') is unknown; known: sqlite, redis"),
    ({"online": {"stale_policy": "drop"}}, "stale_policy(='drop') is unknown"),
    ({"online": {"defaults": {"stats:nope": 1}}}, "stats:nope does not exist"),
    ({"on_demand_views": [{"name": "d", "sources": ["nope"], "features": [
        {"name": "y", "dtype": "float64", "expression": "x"}]}]},
     "source 'nope' is not a feature view"),
    ({"on_demand_views": [{"name": "d", "sources": ["stats"], "features": [
        {"name": "y", "dtype": "float64", "expression": "x; DROP TABLE t"}]}]},
     "must be one SQL expression"),
]


@pytest.mark.parametrize(("sections", "fragment"), BAD)
def test_bad_definitions_name_the_file_and_value(tmp_path: Path, sections: dict[str, Any],
                                                 fragment: str) -> None:
    write_repo(tmp_path, **sections)
    with pytest.raises(FeatureRepoError) as info:
        load_repo(tmp_path)
    message = str(info.value)
    assert fragment in message and "\n" not in message
    assert message.startswith("features.yaml: ")


def test_a_directory_without_yaml_and_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(FeatureRepoError, match="has no \\*.yaml file"):
        load_repo(tmp_path)
    (tmp_path / "a.yaml").write_text("entities: [\n", encoding="utf-8")
    with pytest.raises(FeatureRepoError, match="a.yaml: cannot read YAML"):
        load_repo(tmp_path)
    with pytest.raises(FeatureRepoError, match="is not a directory"):
        load_repo(tmp_path / "missing")


def test_definitions_may_span_files_but_online_only_once(tmp_path: Path) -> None:
    write_repo(tmp_path)
    (tmp_path / "more.yaml").write_text(
        "feature_views:\n  - {name: other, entities: [user], source: data/o.parquet,"
        " timestamp_field: ts, features: [{name: y, dtype: int64}]}\n", encoding="utf-8")
    assert set(load_repo(tmp_path).views) == {"stats", "other"}
    for name in ("online1.yaml", "online2.yaml"):
        (tmp_path / name).write_text("online: {backend: sqlite}\n", encoding="utf-8")
    with pytest.raises(FeatureRepoError, match="online2.yaml: online is defined twice"):
        load_repo(tmp_path)
