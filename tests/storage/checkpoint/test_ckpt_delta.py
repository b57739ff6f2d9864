"""Delta checkpoints: exact round trip (property), chains through the store, retention keeps bases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ckpt_builders import assert_same
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.storage.checkpoint import CheckpointStore, CorruptCheckpointError
from mlfleet.storage.checkpoint.delta import apply_delta, encode_delta


def _table(seed: int, rows: int = 64, dim: int = 8) -> torch.Tensor:
    return torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed))


@given(seed=st.integers(0, 2**32 - 1), fraction=st.floats(0, 1),
       dtype=st.sampled_from([torch.float32, torch.bfloat16, torch.int64]))
@settings(max_examples=60, deadline=None)
def test_apply_inverts_encode_bit_for_bit(seed: int, fraction: float, dtype: torch.dtype) -> None:
    rng = np.random.default_rng(seed)
    base = {"emb": _table(seed).to(dtype), "dense": torch.randn(3), "gone": torch.ones(2),
            "nan": torch.tensor([float("nan"), 0.0])}
    new = {k: v.clone() for k, v in base.items() if k != "gone"}
    rows = rng.random(64) < fraction
    new["emb"][torch.from_numpy(rows)] += 1
    new["nan"][1] = -0.0  # bitwise comparison: -0.0 differs from 0.0, NaN equals NaN
    new["added"] = torch.arange(4)
    delta = encode_delta(base, new)
    assert delta.removed == ("gone",)
    if 0 < rows.sum() <= 32:
        assert delta.tensors["emb@rows"].tolist() == np.flatnonzero(rows).tolist()
    assert_same(dict(sorted(new.items())), apply_delta(base, delta.tensors, delta.removed))


def test_unchanged_state_stores_nothing() -> None:
    base = {"emb": _table(0)}
    delta = encode_delta(base, {"emb": base["emb"].clone()})
    assert delta.tensors == {} and delta.changed_rows == 0 and delta.total_rows == 64


def _commit(store: CheckpointStore, step: int, table: torch.Tensor, base: int | None) -> None:
    store.write_shard(step, "rank-00000", {"emb": table}, {"step": step}, delta_from=base)
    store.commit(step, ["rank-00000"])


def test_delta_chain_loads_and_retention_keeps_its_bases(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, keep_last=1, compression="zlib")
    table = _table(1, rows=1000)
    _commit(store, 10, table, None)
    full_bytes = store.info(10).total_bytes
    for step in (20, 30, 40):
        table = table.clone()
        table[step:step + 5] += 1.0  # 0.5% of the rows change between checkpoints
        _commit(store, step, table, step - 10)
    assert store.steps() == [10, 20, 30, 40]  # keep_last=1, but 40 needs 30, 20 and 10
    assert store.info(40).shard("rank-00000").base_step == 30
    assert store.info(40).total_bytes < full_bytes / 20
    loaded, meta = store.load_shard(40, "rank-00000")
    assert torch.equal(loaded["emb"], table) and meta == {"step": 40}
    _commit(store, 50, table, None)  # a full checkpoint frees the chain
    assert store.steps() == [50]


def test_corrupt_base_makes_its_deltas_corrupt(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, keep_last=5)
    _commit(store, 10, _table(1), None)
    _commit(store, 20, _table(1) + 1, None)
    _commit(store, 30, _table(1) + 2, 20)
    path = tmp_path / "step-00000020" / "rank-00000.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(CorruptCheckpointError, match="step-00000020"):
        store.load_shard(30, "rank-00000")
    good = store.latest_good()
    assert good is not None and good.step == 10
