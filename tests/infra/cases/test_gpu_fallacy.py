"""The GPU-only fallacy: fleet sizes by hand, monotone in table size and rate, and a real
preprocessing measurement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.cases import gpu_fallacy as gf
from mlfleet.infra.cases import recsys_hybrid as rh
from mlfleet.infra.cases.hourly_cost import device_hour

SHAPE = rh.RecsysShape.from_workload("DLRM-DCNv2")
RATE = gf.rates(SHAPE, cpu="host-cpu", gpu="H100", batch=512, precision="bf16")
CPU_H, GPU_H = device_hour("host-cpu").usd_per_h, device_hour("H100").usd_per_h


def test_rates_come_from_the_splits() -> None:
    assert RATE.cpu_all == pytest.approx(rh.split("cpu-only", SHAPE).samples_per_s)
    assert RATE.cpu_embeddings == pytest.approx(rh.split("hybrid", SHAPE).samples_per_s)
    assert RATE.gpu_all == pytest.approx(rh.split("gpu-only", SHAPE).samples_per_s / 2)


def test_fleet_for_10_tb_at_a_million_samples_per_second_by_hand() -> None:
    t, r = 10e12, 1e6
    cpu = gf.fleet_cost("cpu-only", table_bytes=t, samples_per_s=r, rate=RATE)
    # sockets: max(ceil(10 TB / 1 TB) = 10, ceil(1e6 / 1.47e6) = 1) -> memory-bound
    assert (cpu.cpu_sockets, cpu.gpus, cpu.capacity_bound) == (10, 0, True)
    assert cpu.usd_per_h == pytest.approx(10 * CPU_H)
    gpu = gf.fleet_cost("gpu-only", table_bytes=t, samples_per_s=r, rate=RATE)
    # GPUs: max(ceil(10 TB / 80 GB) = 125, ceil(1e6 / 1.35e7) = 1); a host socket per 4
    assert (gpu.gpus, gpu.cpu_sockets) == (125, 32)
    assert gpu.usd_per_h == pytest.approx(32 * CPU_H + 125 * GPU_H)
    hyb = gf.fleet_cost("hybrid", table_bytes=t, samples_per_s=r, rate=RATE)
    assert (hyb.cpu_sockets, hyb.gpus) == (10, math.ceil(r / RATE.gpu_mlp))


def test_small_tables_at_a_high_rate_favour_gpus() -> None:
    row = gf.fleet_grid(table_bytes=[100e9], samples_per_s=[1e7])[0]
    cheapest = min(row, key=lambda f: f.usd_per_h)
    assert cheapest.split == "gpu-only" and cheapest.gpus == 2


def test_terabyte_tables_make_gpu_only_the_most_expensive() -> None:
    # 48 TB = 12 trillion fp32 parameters, the scale of Meta's production DLRMs (ISCA'22)
    row = gf.fleet_grid(table_bytes=[48e12], samples_per_s=[1e6])[0]
    by = {f.split: f for f in row}
    assert by["gpu-only"].gpus == 600 and by["gpu-only"].capacity_bound
    assert by["gpu-only"].usd_per_h > 10 * by["cpu-only"].usd_per_h


@settings(max_examples=60, deadline=None)
@given(t=st.floats(1e9, 1e14), r=st.floats(1e3, 1e8), k=st.floats(1.0, 10.0),
       split=st.sampled_from(rh.SPLITS))
def test_devices_never_fall_as_tables_or_rate_grow(t: float, r: float, k: float,
                                                   split: str) -> None:
    base = gf.fleet_cost(split, table_bytes=t, samples_per_s=r, rate=RATE)
    for bigger in (gf.fleet_cost(split, table_bytes=t * k, samples_per_s=r, rate=RATE),
                   gf.fleet_cost(split, table_bytes=t, samples_per_s=r * k, rate=RATE)):
        assert bigger.cpu_sockets >= base.cpu_sockets and bigger.gpus >= base.gpus
        assert bigger.usd_per_h >= base.usd_per_h


def test_preprocessing_is_real_and_deterministic() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
    a = gf.preprocess_image(image, np.random.default_rng(1))
    b = gf.preprocess_image(image, np.random.default_rng(1))
    assert a.shape == (3, 224, 224) and a.dtype == np.float32 and np.array_equal(a, b)
    assert gf.measure_preprocess_rate(images=20) > 0
    assert gf.cores_per_gpu(gpu_samples_per_s=3000, core_samples_per_s=400) == 7.5


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="table_bytes"):
        gf.fleet_cost("hybrid", table_bytes=0, samples_per_s=1, rate=RATE)
    with pytest.raises(InputError, match="split"):
        gf.fleet_cost("tpu-only", table_bytes=1, samples_per_s=1, rate=RATE)
    with pytest.raises(InputError, match="core_samples_per_s"):
        gf.cores_per_gpu(gpu_samples_per_s=1, core_samples_per_s=-1)
