"""Sharded embedding tables: routing invariants, batched lookups, update propagation."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.storage.features.embedding.cache import EmbeddingCache
from mlfleet.storage.features.embedding.routing import (
    EmbeddingInputError,
    HashRouter,
    RangeRouter,
    Router,
    make_router,
)
from mlfleet.storage.features.embedding.table import ShardedEmbeddingTable

DIM = 4
_dirs = itertools.count()
ids_strategy = st.lists(st.integers(0, 2**62), min_size=0, max_size=60)


def make_table(root: Path, *, routing: str = "hash", shards: int = 4,
               rows: int = 100) -> ShardedEmbeddingTable:
    table = ShardedEmbeddingTable(root / f"t{next(_dirs)}", dim=DIM,
                                  router=make_router(routing, num_shards=shards, num_rows=rows))
    ids = np.arange(rows)
    table.upsert(ids, np.stack([ids + k / 10 for k in range(DIM)], axis=1))
    return table


@given(ids=ids_strategy, shards=st.integers(1, 64))
def test_hash_routing_sends_every_id_to_exactly_one_shard(ids: list[int], shards: int) -> None:
    router = HashRouter(shards)
    got = router.shard_of(np.array(ids, dtype=np.int64))
    assert got.shape == (len(ids),) and np.all((got >= 0) & (got < shards))
    assert np.array_equal(got, router.shard_of(np.array(ids, dtype=np.int64)))  # deterministic
    assert all(router.shard_of(np.array([i]))[0] == g for i, g in zip(ids, got, strict=True))


@given(ids=ids_strategy, splits=st.lists(st.integers(1, 2**62), min_size=0, max_size=10,
                                         unique=True))
def test_range_routing_is_monotone_and_respects_splits(ids: list[int], splits: list[int]) -> None:
    router = RangeRouter(sorted(splits))
    ordered = np.sort(np.array(ids, dtype=np.int64))
    got = router.shard_of(ordered)
    assert np.all(np.diff(got) >= 0) and np.all((got >= 0) & (got < router.num_shards))
    bounds = [0, *sorted(splits), 2**63 - 1]
    for row_id, shard in zip(ordered.tolist(), got.tolist(), strict=True):
        assert bounds[shard] <= row_id and (row_id < bounds[shard + 1] or shard == len(splits))


def test_hash_routing_balances_a_dense_id_range() -> None:
    counts = np.bincount(HashRouter(8).shard_of(np.arange(80_000)), minlength=8)
    assert counts.min() > 0.95 * 10_000 and counts.max() < 1.05 * 10_000


def test_even_range_routing_splits_rows_evenly() -> None:
    router = RangeRouter.even(num_rows=100, num_shards=4)
    assert router.splits.tolist() == [25, 50, 75]
    assert np.bincount(router.shard_of(np.arange(100))).tolist() == [25, 25, 25, 25]


@pytest.mark.parametrize("routing", ["hash", "range"])
def test_lookup_returns_the_rows_written_in_order(tmp_path: Path, routing: str) -> None:
    table = make_table(tmp_path, routing=routing)
    got = table.lookup([7, 3, 7, 1000, 99])
    assert got.found.tolist() == [True, True, True, False, True]
    assert got.vectors[0].tolist() == pytest.approx([7.0, 7.1, 7.2, 7.3])
    assert np.array_equal(got.vectors[0], got.vectors[2]) and not got.vectors[3].any()
    assert got.versions.tolist() == [1, 1, 1, 0, 1]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ShardedEmbeddingTable]]:
    root = tmp_path_factory.mktemp("emb")
    made = {routing: make_table(root, routing=routing) for routing in ("hash", "range")}
    yield made
    for table in made.values():
        table.close()


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(0, 150), max_size=50), routing=st.sampled_from(["hash", "range"]))
def test_batched_lookup_equals_per_id_lookup(tables: dict[str, ShardedEmbeddingTable],
                                             ids: list[int], routing: str) -> None:
    table = tables[routing]
    batch = table.lookup(ids)
    for at, row_id in enumerate(ids):
        one = table.lookup([row_id])
        assert np.array_equal(batch.vectors[at], one.vectors[0])
        assert (batch.versions[at], batch.found[at]) == (one.versions[0], one.found[0])
    touched = {int(s) for s in table.router.shard_of(np.array(ids, dtype=np.int64))}
    assert batch.shard_requests == len(touched)          # one request per shard per batch


def test_an_update_reaches_the_shard_and_bumps_the_version(tmp_path: Path) -> None:
    table = make_table(tmp_path)
    versions = table.upsert([5, 5, 6], np.full((3, DIM), 1.0) * np.array([[1], [2], [3]]))
    assert versions.tolist() == [2, 2]                   # id 5 once (the last row wins)
    got = table.lookup([5, 6])
    assert got.vectors[:, 0].tolist() == [2.0, 3.0] and got.versions.tolist() == [2, 2]


def test_cache_serves_hits_and_is_updated_by_writes_through_the_table(tmp_path: Path) -> None:
    table = make_table(tmp_path)
    cache = EmbeddingCache(table, capacity_rows=3)
    first = cache.lookup([1, 2, 3, 4])                   # more than fits: all still served
    assert first.found.all() and first.shard_requests >= 1 and len(cache) == 3
    again = cache.lookup([2, 3, 4])
    assert again.shard_requests == 0 and cache.hits == 3
    table.upsert([3], np.full((1, DIM), 42.0))
    after = cache.lookup([3])
    assert after.shard_requests == 0                     # write-through, not refetched
    assert after.vectors[0].tolist() == [42.0] * DIM and after.versions[0] == 2


def test_cache_drops_rows_another_process_changed(tmp_path: Path) -> None:
    table = ShardedEmbeddingTable(tmp_path / "t", dim=DIM, router=HashRouter(2))
    table.upsert([1, 2], np.zeros((2, DIM)))
    cache = EmbeddingCache(table, capacity_rows=10)
    assert cache.lookup([1, 2]).versions.tolist() == [1, 1]
    writer = ("import sys, numpy as np; from pathlib import Path\n"
              "from mlfleet.storage.features.embedding.table import ShardedEmbeddingTable\n"
              "from mlfleet.storage.features.embedding.routing import HashRouter\n"
              "t = ShardedEmbeddingTable(Path(sys.argv[1]), dim=4, router=HashRouter(2))\n"
              "t.upsert([1], np.ones((1, 4))); t.close()\n")
    subprocess.run([sys.executable, "-c", writer, str(tmp_path / "t")], check=True)
    got = cache.lookup([1, 2])
    assert got.versions.tolist() == [2, 1] and got.vectors[0].tolist() == [1.0] * DIM


@pytest.mark.parametrize("router", [HashRouter(3), RangeRouter([10, 20])])
def test_every_row_lives_in_the_shard_its_router_names(tmp_path: Path, router: Router) -> None:
    import sqlite3

    table = ShardedEmbeddingTable(tmp_path / "t", dim=DIM, router=router)
    table.upsert(np.arange(30), np.zeros((30, DIM)))
    table.close()
    for shard in range(router.num_shards):
        with sqlite3.connect(tmp_path / "t" / f"shard-{shard:03d}.db") as conn:
            held = [r[0] for r in conn.execute("SELECT id FROM emb")]
        assert held and router.shard_of(np.array(held)).tolist() == [shard] * len(held)


def test_bad_arguments_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingInputError, match="num_shards"):
        HashRouter(0)
    with pytest.raises(EmbeddingInputError, match="strictly increasing"):
        RangeRouter([5, 5])
    with pytest.raises(EmbeddingInputError, match="known: hash, range"):
        make_router("modulo", num_shards=2, num_rows=10)
    table = make_table(tmp_path)
    with pytest.raises(EmbeddingInputError, match=">= 0"):
        table.lookup([-1])
    with pytest.raises(EmbeddingInputError, match="do not match"):
        table.upsert([1], np.zeros((1, DIM + 1)))
    with pytest.raises(EmbeddingInputError, match="dim"):
        ShardedEmbeddingTable(tmp_path / "x", dim=0, router=HashRouter(1))
    wide = ShardedEmbeddingTable(tmp_path / "w", dim=8, router=HashRouter(1))
    wide.upsert([1], np.zeros((1, 8)))
    wide.close()
    with pytest.raises(EmbeddingInputError, match="float32 wide"):
        ShardedEmbeddingTable(tmp_path / "w", dim=4, router=HashRouter(1)).lookup([1])
