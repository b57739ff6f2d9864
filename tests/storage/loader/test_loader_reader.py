"""The loader's data path in-process: the written formats, the shuffle buffer, each
worker's share of an epoch."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.storage.loader.reader import (
    LoaderConfig,
    open_dataset,
    shard_samples,
    shuffle_buffer,
    tar_samples,
    worker_batches,
)
from mlfleet.storage.loader.write import DatasetSpec, decode_payload, sample_key, write_dataset


@given(n=st.integers(0, 300), size=st.integers(1, 64), seed=st.integers(0, 2**32))
def test_shuffle_buffer_yields_every_item_once_reproducibly(n: int, size: int,
                                                            seed: int) -> None:
    first = list(shuffle_buffer(range(n), size=size, rng=np.random.default_rng(seed)))
    again = list(shuffle_buffer(range(n), size=size, rng=np.random.default_rng(seed)))
    assert sorted(first) == list(range(n)) and first == again


def test_shuffle_buffer_of_one_keeps_the_order_and_a_big_one_mixes() -> None:
    assert list(shuffle_buffer(range(50), size=1, rng=np.random.default_rng(0))) \
        == list(range(50))
    mixed = list(shuffle_buffer(range(1000), size=1000, rng=np.random.default_rng(0)))
    assert mixed != list(range(1000))
    # an item leaves a buffer of N no earlier than N-1 places before its position
    local = list(shuffle_buffer(range(1000), size=10, rng=np.random.default_rng(0)))
    assert all(pos >= item - 9 for pos, item in enumerate(local))


@pytest.mark.parametrize("fmt", ["shards", "parquet"])
def test_formats_hold_the_same_samples(tmp_path: Path, fmt: str) -> None:
    spec = DatasetSpec(samples=37, sample_bytes=100, shards=4, seed=3)
    dataset = write_dataset(spec, directory=tmp_path, fmt=fmt)
    assert open_dataset(dataset.root) == dataset
    samples = [s for shard in range(dataset.shard_count) for s in shard_samples(dataset, shard)]
    assert [key for key, _, _ in samples] == [sample_key(i) for i in range(37)]
    assert [label for _, label, _ in samples] == list(range(37))
    pixels = decode_payload(samples[5][2])
    assert pixels.shape == (100,) and pixels.max() < 16
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("fmt", ["shards", "parquet"])
@pytest.mark.parametrize("workers", [1, 3])
def test_an_epoch_over_all_workers_yields_every_sample_once(tmp_path: Path, fmt: str,
                                                            workers: int) -> None:
    dataset = write_dataset(DatasetSpec(samples=101, sample_bytes=16, shards=7),
                            directory=tmp_path, fmt=fmt)
    config = LoaderConfig(workers=workers, batch_size=8, shuffle_buffer=16, seed=5)
    for epoch in (0, 1):
        keys = [k for w in range(workers)
                for b in worker_batches(dataset, config, worker=w, epoch=epoch) for k in b.keys]
        assert Counter(keys) == Counter(sample_key(i) for i in range(101))
    order = [[k for b in worker_batches(dataset, config, worker=0, epoch=e) for k in b.keys]
             for e in (0, 0, 1)]
    assert order[0] == order[1] != order[2]  # seeded: same epoch same order, next differs


@pytest.mark.slow  # webdataset imports torch
def test_shards_are_webdataset_shards_both_ways(tmp_path: Path) -> None:
    """webdataset reads what the loader writes, and the loader reads what webdataset writes
    (the loader does not import webdataset itself: it imports torch)."""
    wds = pytest.importorskip("webdataset")
    dataset = write_dataset(DatasetSpec(samples=9, sample_bytes=32, shards=2), directory=tmp_path,
                            fmt="shards")
    ours = [s for shard in range(2) for s in shard_samples(dataset, shard)]
    urls = [str(dataset.root / f"shard-{n:06d}.tar") for n in range(2)]
    theirs = [(s["__key__"], int(s["cls"]), s["bin"])
              for s in wds.WebDataset(urls, shardshuffle=False, empty_check=False)]
    assert theirs == ours
    path = tmp_path / "theirs.tar"
    with open(path, "wb") as f:
        writer = wds.TarWriter(f)
        for key, label, payload in ours:
            writer.write({"__key__": key, "bin": payload, "cls": label})
        writer.close()
    assert [(k, int(m["cls"]), m["bin"]) for k, m in tar_samples(path)] == ours
