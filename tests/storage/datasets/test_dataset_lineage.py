"""Lineage store: what trained what, what is served, the blast radius of a dataset version."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfleet.storage.datasets.lineage import DatasetRef, Lineage, LineageError, Serving


def test_edges_both_ways(tmp_path: Path) -> None:
    store = Lineage(tmp_path / "lineage.db")
    store.record_training(checkpoint="ck-1", dataset=DatasetRef(dataset="clicks", version=1))
    store.record_training(checkpoint="ck-2", dataset=DatasetRef(dataset="clicks", version=2))
    store.record_training(checkpoint="ck-2", dataset=DatasetRef(dataset="users", version=0))
    store.record_serving(deployment="ranker", checkpoint="ck-1")
    store.record_serving(deployment="ranker", checkpoint="ck-2")  # a rollout
    store.record_serving(deployment="canary", checkpoint="ck-1")
    assert store.trained_on("ck-2") == [DatasetRef(dataset="clicks", version=2),
                                        DatasetRef(dataset="users", version=0)]
    assert store.checkpoints_from("clicks") == ["ck-1", "ck-2"]
    assert store.checkpoints_from("clicks", 1) == ["ck-1"]
    assert store.serving() == [Serving(deployment="canary", checkpoint="ck-1"),
                               Serving(deployment="ranker", checkpoint="ck-2")]
    assert store.affected_deployments("clicks", 2) == [Serving(deployment="ranker",
                                                               checkpoint="ck-2")]
    assert store.affected_deployments("users", 5) == []


def test_bad_records_and_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    store = Lineage(tmp_path / "lineage.db")
    with pytest.raises(LineageError, match="checkpoint"):
        store.record_training(checkpoint=" ", dataset=DatasetRef(dataset="d", version=0))
    with pytest.raises(LineageError, match="version"):
        store.record_training(checkpoint="c", dataset=DatasetRef(dataset="d", version=-1))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(LineageError, match="not a lineage store"):
        Lineage(junk).serving()
