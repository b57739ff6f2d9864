"""The multi-process loader with real worker processes."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from mlfleet.errors import RunError
from mlfleet.storage.loader.pool import EpochRun, run_epoch
from mlfleet.storage.loader.reader import Batch, LoaderConfig
from mlfleet.storage.loader.write import Dataset, DatasetSpec, sample_key, write_dataset


def dataset(tmp_path: Path, fmt: str = "shards", **overrides: int) -> Dataset:
    spec = {"samples": 150, "sample_bytes": 64, "shards": 6} | overrides
    return write_dataset(DatasetSpec(**spec), directory=tmp_path, fmt=fmt)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("fmt", ["shards", "parquet"])
def test_every_sample_once_in_a_seeded_order(tmp_path: Path, fmt: str) -> None:
    data = dataset(tmp_path, fmt)
    config = LoaderConfig(workers=2, batch_size=16, shuffle_buffer=32, seed=7)
    orders = []
    for _ in range(2):
        batches: list[Batch] = []
        stats = run_epoch(data, config, on_batch=batches.append)
        keys = [k for b in batches for k in b.keys]
        assert Counter(keys) == Counter(sample_key(i) for i in range(150))
        assert stats.samples == 150 and sum(w.samples for w in stats.workers) == 150
        assert all(w.cpu_s > 0 for w in stats.workers)
        orders.append(keys)
    assert orders[0] == orders[1]  # workers taken in turn: the order is the seed's


def test_closing_early_reaps_every_worker(tmp_path: Path) -> None:
    data = dataset(tmp_path, samples=2000, shards=8)
    config = LoaderConfig(workers=2, batch_size=4, prefetch_batches=1, decode_s=0.001)
    with EpochRun(data, config) as run:
        next(iter(run))
        pids = run.pids()
        start = time.monotonic()
    assert time.monotonic() - start < 1.0
    assert pids and not any(_alive(pid) for pid in pids)


def test_a_failing_worker_is_a_run_error(tmp_path: Path) -> None:
    data = dataset(tmp_path)
    os.remove(data.root / "shard-000003.tar")
    with pytest.raises(RunError, match="loader worker"):
        run_epoch(data, LoaderConfig(workers=2))
