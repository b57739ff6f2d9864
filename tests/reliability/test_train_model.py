"""The training job's determinism: the loader, the checkpointed rank state, the weights hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.reliability.train.model import (
    ModelSpec,
    ShardedLoader,
    build_model,
    make_batch,
    rank_randomness,
    synthetic_dataset,
    weights_sha256,
)
from mlfleet.reliability.train.rank_state import (
    restore,
    rng_state,
    set_rng_state,
    shard_name,
    shard_payload,
)
from mlfleet.storage.checkpoint import CheckpointStore


@settings(max_examples=40, deadline=None)
@given(world=st.integers(1, 8), batch=st.integers(1, 64), steps=st.integers(1, 40),
       samples=st.integers(8, 300), seed=st.integers(0, 1000))
def test_rank_slices_tile_the_global_batch_for_any_world(world: int, batch: int, steps: int,
                                                         samples: int, seed: int) -> None:
    """The sample stream does not depend on the world size: re-sharding changes slices only."""
    loaders = [ShardedLoader(samples, seed=seed) for _ in range(world)]
    single = ShardedLoader(samples, seed=seed)
    for _ in range(steps):
        slices = [loaders[r].next_indices(world=world, rank=r, per_rank_batch=batch)
                  for r in range(world)]
        whole = single.next_indices(world=1, rank=0, per_rank_batch=world * batch)
        assert np.array_equal(np.concatenate(slices), whole)
    assert all(lo.state() == single.state() for lo in loaders)


@settings(max_examples=30, deadline=None)
@given(split=st.integers(0, 30), seed=st.integers(0, 1000))
def test_a_loader_resumed_from_its_state_continues_the_same_stream(split: int, seed: int) -> None:
    straight = ShardedLoader(100, seed=seed)
    first = [straight.next_indices(world=2, rank=1, per_rank_batch=7) for _ in range(30)]
    resumed = ShardedLoader(100, seed=seed)
    for _ in range(split):
        resumed.next_indices(world=2, rank=1, per_rank_batch=7)
    again = ShardedLoader(100, seed=seed, **resumed.state())
    rest = [again.next_indices(world=2, rank=1, per_rank_batch=7) for _ in range(30 - split)]
    assert all(np.array_equal(a, b) for a, b in zip(first[split:], rest, strict=True))


def _state(seed: int) -> tuple[torch.nn.Module, dict[str, object]]:
    model = build_model(ModelSpec(), seed=seed)
    optim = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=10)
    model(torch.ones(3, ModelSpec().features)).sum().backward()
    optim.step()
    sched.step()
    return model, {"model": model.state_dict(), "optim": optim.state_dict(),
                   "sched": sched.state_dict()}


def test_shards_of_every_rank_restore_the_whole_state_and_each_ranks_rngs(tmp_path: Path) -> None:
    """Rank-state round trip through the real store (files, fsync, sha256 manifest)."""
    store = CheckpointStore(tmp_path)
    model, common = _state(seed=3)
    rngs = []
    for rank in range(3):
        rand = rank_randomness(seed=3, rank=rank)
        rand.numpy_rng.random(rank + 1)
        rngs.append(rng_state(rand))
        tensors, meta = shard_payload(common=common, rng=rngs[-1], rank=rank, world=3,
                                      meta={"step": 7, "loader": {"epoch": 1, "position": 9},
                                            "lr_scale": 0.5})
        store.write_shard(7, shard_name(rank), tensors, meta)
    store.commit(7, [shard_name(r) for r in range(3)])
    for rank in range(3):
        state = restore(store, 7, rank=rank)
        assert state.loader == {"epoch": 1, "position": 9} and state.lr_scale == 0.5
        fresh = build_model(ModelSpec(), seed=99)
        fresh.load_state_dict(state.common["model"])
        assert weights_sha256(fresh) == weights_sha256(model)
        assert state.rng is not None
        assert torch.equal(state.rng["torch"], rngs[rank]["torch"])
        assert state.rng["numpy"] == rngs[rank]["numpy"]
        assert state.rng["python"] == rngs[rank]["python"]
    assert restore(store, 7, rank=5).rng is None  # a rank the saving world did not have


def test_restored_generators_draw_the_same_batch() -> None:
    x, y = synthetic_dataset(ModelSpec(), seed=1)
    rand = rank_randomness(seed=1, rank=0)
    saved = rng_state(rand)
    idx = np.arange(8)
    first = make_batch(x, y, idx, rand, classes=ModelSpec().classes)
    set_rng_state(rand, saved)
    again = make_batch(x, y, idx, rand, classes=ModelSpec().classes)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])


def test_weights_hash_sees_one_changed_value() -> None:
    model = build_model(ModelSpec(), seed=0)
    before = weights_sha256(model)
    assert weights_sha256(build_model(ModelSpec(), seed=0)) == before
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-7
    assert weights_sha256(model) != before
