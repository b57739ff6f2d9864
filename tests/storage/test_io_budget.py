"""I/O budget: the bandwidth identity, stored bytes per unit, medium units."""

from __future__ import annotations

import math

import pytest

from mlfleet.catalog.types import StorageMedium, Workload
from mlfleet.infra.roofline import Device
from mlfleet.storage.io_budget import (
    StorageModelError,
    io_budget,
    stored_bytes_per_unit,
    token_id_bytes,
    units_per_s,
)


def test_token_ids_take_two_bytes_up_to_a_uint16_vocabulary() -> None:
    assert (token_id_bytes(50_257), token_id_bytes(65_536), token_id_bytes(128_256)) == (2, 2, 4)
    assert stored_bytes_per_unit(Workload.from_name("Llama-3-70B")) == 4.0


def test_imagenet_bytes_per_sample_is_the_published_archive_over_its_images() -> None:
    # ILSVRC2012 train archive 147.9e9 bytes / 1,281,167 images (image-net.org): 115.4 kB.
    assert stored_bytes_per_unit(Workload.from_name("ResNet-50")) == pytest.approx(
        147.9e9 / 1_281_167, rel=0.004)


def test_budget_is_rate_times_size_and_units_cover_bandwidth_and_requests() -> None:
    resnet = Workload.from_name("ResNet-50")
    peak = Device.from_accelerator("H100", "bf16").peak_flops_per_s
    rate = units_per_s(gpus=8, peak_flops_per_s=peak, mfu=0.4,
                       flop_per_unit=resnet.fwd_flop + resnet.bwd_flop)
    assert rate == pytest.approx(8 * 0.4 * peak / (resnet.fwd_flop + resnet.bwd_flop))
    s3 = StorageMedium.from_name("s3")
    budget = io_budget(workload=resnet, units_per_s=rate, bytes_per_unit=115e3, medium=s3,
                       decode_s_per_unit=2e-3)
    assert budget.read_bw_bytes_per_s == pytest.approx(rate * 115e3)
    assert budget.units_for_bandwidth == math.ceil(rate * 115e3 / 90e6)
    assert budget.units_for_requests == math.ceil(rate / 5500)
    assert budget.medium_units == max(budget.units_for_bandwidth, budget.units_for_requests)
    assert budget.decode_cores == pytest.approx(rate * 2e-3)


def test_an_llm_reads_one_sequence_per_request() -> None:
    llama = Workload.from_name("Llama-3-8B")
    budget = io_budget(workload=llama, units_per_s=1e6, bytes_per_unit=4.0,
                       medium=StorageMedium.from_name("nvme"))
    assert budget.requests_per_s == pytest.approx(1e6 / llama.shape["seq_len"])
    assert budget.bound_by == "bandwidth" and budget.medium_units == 1


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"bytes_per_unit": 0.0}, "bytes_per_unit"), ({"units_per_request": -1.0}, "units_per_request"),
    ({"decode_s_per_unit": -1e-3}, "decode_s_per_unit")])
def test_bad_arguments_name_themselves(kwargs: dict[str, float], named: str) -> None:
    args: dict[str, float] = {"bytes_per_unit": 1e3} | kwargs
    with pytest.raises(StorageModelError, match=named):
        io_budget(workload=Workload.from_name("ResNet-50"), units_per_s=10.0,
                  medium=StorageMedium.from_name("s3"), **args)
