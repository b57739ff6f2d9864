"""AsyncCheckpointer: the snapshot is taken at save time, errors surface on wait or next save."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mlfleet.storage.checkpoint import AsyncCheckpointer, CheckpointStore, CheckpointWriteError
from mlfleet.storage.checkpoint.async_writer import snapshot_into


def test_snapshot_is_taken_before_the_caller_changes_its_tensors(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    weights = {"w": torch.zeros(1 << 16)}
    with AsyncCheckpointer(store) as ckpt:
        for step in (10, 20, 30):
            ckpt.save(step, "rank-00000", weights, {"step": step}, commit=True,
                      commit_meta={"step": step})
            weights["w"].add_(1.0)  # training goes on while the write is in flight
    assert store.steps() == [10, 20, 30]
    for k, step in enumerate((10, 20, 30)):
        tensors, meta = store.load_shard(step, "rank-00000")
        assert meta == {"step": step} and torch.all(tensors["w"] == float(k))
    assert store.info(30).meta == {"step": 30}


def test_buffers_are_reused_and_follow_shape_changes() -> None:
    buffers: dict[str, torch.Tensor] = {}
    first = snapshot_into({"a": torch.ones(4), "b": torch.ones(2)}, buffers)
    again = snapshot_into({"a": torch.full((4,), 2.0)}, buffers)
    assert again["a"].data_ptr() == first["a"].data_ptr() and set(buffers) == {"a"}
    grown = snapshot_into({"a": torch.ones(8, dtype=torch.bfloat16)}, buffers)
    assert grown["a"].shape == (8,) and grown["a"].dtype == torch.bfloat16


def test_write_error_surfaces_on_wait_and_next_save(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = CheckpointStore(tmp_path)

    def full(*args: object, **kwargs: object) -> None:
        raise CheckpointWriteError("cannot write checkpoint file x: No space left on device")
    ckpt = AsyncCheckpointer(store)
    monkeypatch.setattr(store, "write_shard", full)
    ckpt.save(1, "rank-00000", {"w": torch.ones(2)})
    with pytest.raises(CheckpointWriteError, match="No space left"):
        ckpt.wait()
    ckpt.save(2, "rank-00000", {"w": torch.ones(2)})
    with pytest.raises(CheckpointWriteError):
        ckpt.save(3, "rank-00000", {"w": torch.ones(2)})
    ckpt.close()


def test_async_delta_saves_and_timing(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, keep_last=1)
    table = {"emb": torch.zeros(1000, 8)}
    with AsyncCheckpointer(store) as ckpt:
        ckpt.save(10, "rank-00000", table, commit=True)
        table["emb"][3] += 1.0
        ckpt.save(20, "rank-00000", table, commit=True, delta_from=10)
        timing = ckpt.last_timing
    assert timing is not None and timing.stall_s == timing.wait_s + timing.snapshot_s
    assert store.steps() == [10, 20] and store.info(20).shard("rank-00000").base_step == 10
    assert torch.equal(store.load_shard(20, "rank-00000")[0]["emb"], table["emb"])
