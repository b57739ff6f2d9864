"""CheckpointStore on a real filesystem: commit, latest, load, corruption, retention, no pickle."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ckpt_builders import assert_same, make_store, tensors

from mlfleet.storage.checkpoint import (
    CheckpointError,
    CheckpointStore,
    CorruptCheckpointError,
    flatten_state,
    unflatten_state,
)


def _commit(store: CheckpointStore, step: int, ranks: int = 2) -> None:
    names = [f"rank-{r:05d}" for r in range(ranks)]
    for r, name in enumerate(names):
        store.write_shard(step, name, tensors(step * 10 + r), {"rank": r, "step": step})
    store.commit(step, names, {"world": ranks})


def _sorted(d: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return dict(sorted(d.items()))  # shards hold tensors in name order


def _flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("compression", [None, "zlib", "lzma"])
def test_round_trip_is_exact(tmp_path: Path, compression: str | None) -> None:
    store = make_store(tmp_path, compression=compression)
    _commit(store, 120)
    info = store.latest()
    assert info is not None and info.step == 120 and info.meta == {"world": 2}
    assert info.shard_names == ("rank-00000", "rank-00001")
    loaded, meta = store.load_shard(120, "rank-00001")
    assert meta == {"rank": 1, "step": 120}
    assert_same(_sorted(tensors(1201)), loaded)


def test_layout_on_disk(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _commit(store, 20)
    files = sorted(p.name for p in (tmp_path / "step-00000020").iterdir())
    assert files == ["MANIFEST.json", "rank-00000.json", "rank-00000.safetensors",
                     "rank-00001.json", "rank-00001.safetensors"]
    assert not list(tmp_path.glob(".staging-*"))


def test_uncommitted_step_is_invisible(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _commit(store, 20)
    store.write_shard(40, "rank-00000", tensors(1))  # rank 1 never wrote: no commit
    assert store.steps() == [20]
    assert store.latest() is not None and store.latest().step == 20
    with pytest.raises(CorruptCheckpointError, match="'rank-00001' is not staged"):
        store.commit(40, ["rank-00000", "rank-00001"])
    assert store.steps() == [20]


def test_flipped_byte_is_detected_and_latest_good_falls_back(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _commit(store, 20)
    _commit(store, 40)
    _flip_byte(tmp_path / "step-00000040" / "rank-00001.safetensors", offset=200)
    with pytest.raises(CorruptCheckpointError) as err:
        store.load_shard(40, "rank-00001")
    assert "rank-00001.safetensors is corrupt" in str(err.value) and "\n" not in str(err.value)
    skipped: list[CorruptCheckpointError] = []
    good = store.latest_good(on_skip=skipped.append)
    assert good is not None and good.step == 20
    assert len(skipped) == 1 and "step-00000040" in str(skipped[0])
    # a rank that only needs its own shard still finds step 40 good
    own = store.latest_good(["rank-00000"])
    assert own is not None and own.step == 40


def test_missing_shard_and_bad_manifest_are_corrupt(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _commit(store, 20)
    _commit(store, 40)
    (tmp_path / "step-00000040" / "rank-00000.safetensors").unlink()
    with pytest.raises(CorruptCheckpointError, match="is missing"):
        store.load_shard(40, "rank-00000")
    (tmp_path / "step-00000020" / "MANIFEST.json").write_text("{not json")
    skipped: list[CorruptCheckpointError] = []
    assert store.latest_good(on_skip=skipped.append) is None
    assert "MANIFEST.json is unreadable" in str(skipped[1])


def test_retention_keeps_last_k_and_every_mth(tmp_path: Path) -> None:
    store = make_store(tmp_path, keep_last=2, keep_every=100)
    for step in range(20, 260, 20):
        _commit(store, step, ranks=1)
    assert store.steps() == [100, 200, 220, 240]
    assert not list(tmp_path.glob(".trash-*")) and not list(tmp_path.glob(".staging-*"))


def test_recommitting_a_step_replaces_it(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _commit(store, 20, ranks=1)
    store.write_shard(20, "rank-00000", tensors(99))
    store.commit(20, ["rank-00000"])
    assert_same(_sorted(tensors(99)), store.load_shard(20, "rank-00000")[0])


@pytest.mark.slow
def test_shards_written_by_other_processes_commit_here(tmp_path: Path) -> None:
    code = ("import sys, torch; from mlfleet.storage.checkpoint import CheckpointStore; "
            "s = CheckpointStore(sys.argv[1]); r = int(sys.argv[2]); "
            "s.write_shard(7, f'rank-{r:05d}', {'w': torch.full((3,), float(r))}, {'r': r})")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(r)])
             for r in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    store = make_store(tmp_path)
    store.commit(7, [f"rank-{r:05d}" for r in range(3)])
    assert store.load_shard(7, "rank-00002")[0]["w"].tolist() == [2.0, 2.0, 2.0]


def test_loading_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ckpt_builders import training_state
    store = make_store(tmp_path, compression="zlib")
    flat, meta = flatten_state(training_state())
    store.write_shard(5, "rank-00000", flat, {"state": meta})
    store.commit(5, ["rank-00000"])

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle used on the load path")
    for name in ("loads", "load", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    loaded, meta2 = store.load_shard(5, "rank-00000")
    assert_same(training_state(), unflatten_state(loaded, meta2["state"]))


def test_unwritable_root_is_one_line_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError, match=r"checkpoint directory .*file/ckpt is not writable"):
        CheckpointStore(blocker / "ckpt")
    assert CheckpointError("x").exit_code == 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"keep_last": 0}, r"keep_last\(=0\)"), ({"keep_every": -1}, r"keep_every\(=-1\)"),
    ({"compression": "zip"}, r"compression\(='zip'\) is unknown; known: zlib, lzma"),
])
def test_bad_options_name_the_value(tmp_path: Path, kwargs: dict[str, object],
                                    message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        CheckpointStore(tmp_path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "../x", ".hidden", "a/b", "MANIFEST.json"])
def test_bad_shard_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(CheckpointError, match="must be a plain file name"):
        make_store(tmp_path).write_shard(1, name, tensors())
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_shared_storage_views_are_saved(tmp_path: Path) -> None:
    base = torch.arange(10.0)
    store = make_store(tmp_path)
    store.write_shard(1, "rank-00000", {"a": base, "b": base[2:5], "t": base.view(2, 5).t()})
    store.commit(1, ["rank-00000"])
    loaded = store.load_shard(1, "rank-00000")[0]
    assert loaded["b"].tolist() == [2.0, 3.0, 4.0] and loaded["t"].shape == (5, 2)
    assert os.path.getsize(tmp_path / "step-00000001" / "rank-00000.safetensors") > 0
