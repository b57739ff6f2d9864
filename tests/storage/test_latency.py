"""Latency breakdown: components by pattern and medium."""

from __future__ import annotations

import pytest

from mlfleet.catalog.types import StorageMedium
from mlfleet.storage.latency import PATTERNS, breakdown, table


def test_components_add_up_and_object_gets_have_no_separate_lookup() -> None:
    media = [StorageMedium.from_name(n) for n in ("nvme", "hdd", "s3", "lustre")]
    for row in table(media):
        assert row.total_s == pytest.approx(row.metadata_s + row.first_byte_s + row.transfer_s)
        if row.medium == "object-storage":
            assert row.metadata_s == 0.0


def test_small_files_pay_a_lookup_per_file_on_a_disk() -> None:
    hdd = StorageMedium.from_name("hdd")
    small = breakdown(hdd, next(p for p in PATTERNS if p.name.startswith("small files")))
    assert small.metadata_s == hdd.latency_s
    # A 100 kB file from a disk: the two accesses dominate the 0.35 ms transfer.
    assert small.metadata_s + small.first_byte_s > 20 * small.transfer_s


def test_a_sequential_scan_runs_near_the_device_bandwidth() -> None:
    nvme = StorageMedium.from_name("nvme")
    scan = breakdown(nvme, PATTERNS[0])
    assert scan.bw_bytes_per_s > 0.9 * nvme.read_bw_bytes_per_s
