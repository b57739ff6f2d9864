"""Measured loader samples/s against the starvation model, on this machine.

Serial: it times a real run. What it asserts holds on a shared host (other jobs only
slow the loader down): per-sample CPU costs do not depend on the worker count (within
50 %), and the dedicated-machine model (no background load) is an upper bound: its
error (predicted - measured) / measured is never below -23 % (measured <= 1.3 ×
predicted). The two-sided figures (within 20 % when this shared 2-core host was near
idle, 25-53 % off under a load average of 7-13) are in docs/storage-loader.md from
benchmarks/bench_loader.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfleet.storage.loader.measure import available_cores, sweep
from mlfleet.storage.loader.reader import LoaderConfig
from mlfleet.storage.loader.write import DatasetSpec, write_dataset
from mlfleet.storage.starvation import loader_samples_per_s

pytestmark = [pytest.mark.serial, pytest.mark.slow]


def test_calibrated_model_against_real_workers(tmp_path: Path) -> None:
    dataset = write_dataset(DatasetSpec(samples=2000, sample_bytes=2048, shards=8),
                            directory=tmp_path, fmt="parquet")
    study = sweep(dataset, LoaderConfig(decode_s=5e-4, batch_size=16), workers=[1, 2])
    one, two = (row.point for row in study.rows)
    assert study.cores == available_cores()
    assert two.worker_cpu_s_per_sample == pytest.approx(one.worker_cpu_s_per_sample, rel=0.5)
    for row in study.rows:
        dedicated = float(loader_samples_per_s(study.costs, workers=row.point.workers,
                                               cores=study.cores))
        assert row.point.samples_per_s <= 1.3 * dedicated, row
