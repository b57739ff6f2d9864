"""Host<->device and device<->device copies: rates from the specifications, the published
pinned H2D points, and the CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.errors import InputError
from mlfleet.infra.accel.published import points_of
from mlfleet.infra.accel.transfer import parse_link, pcie_raw_bytes_per_s, transfer_time


def test_pcie_rates_match_the_catalog_and_the_specifications() -> None:
    """16 GT/s x 16 lanes x 128/130 / 8 = 31.5 GB/s (catalog PCIe4-x16); gen 6 FLIT 242/256."""
    assert pcie_raw_bytes_per_s(4, 16) == pytest.approx(31.5e9, rel=2e-3)
    assert pcie_raw_bytes_per_s(5, 16) == pytest.approx(63.0e9, rel=2e-3)
    assert pcie_raw_bytes_per_s(6, 16) == pytest.approx(64e9 * 16 / 8 * 242 / 256)
    assert pcie_raw_bytes_per_s(3, 8) == pytest.approx(pcie_raw_bytes_per_s(3, 16) / 2)


def test_published_pinned_h2d_points_within_25_percent() -> None:
    """In-sample (the pinned fraction is the mean of four of these points). Observed: within
    2.4 % except bandwidthTest at 10 MB (-21.6 %) and 100 MB (-6.3 %), whose excess over the
    1 MB and 1 GB points one constant latency cannot carry."""
    errors = {}
    for p in points_of(kind="h2d"):
        t = transfer_time(n_bytes=float(p.shape["bytes"]), link=parse_link(str(p.shape["link"])),
                          pinned=bool(p.shape["pinned"]))
        errors[p.id] = t.time_s / p.measured_s - 1
    assert len(errors) == 8
    assert max(abs(e) for e in errors.values()) <= 0.25, errors
    assert sorted(abs(e) for e in errors.values())[5] <= 0.025, errors


def test_pageable_pays_the_staging_copy() -> None:
    link = parse_link("pcie5x16")
    pinned = transfer_time(n_bytes=1e9, link=link)
    pageable = transfer_time(n_bytes=1e9, link=link, pinned=False, host_copy_bw_bytes_per_s=10e9)
    assert pageable.staging_s == pytest.approx(0.1)
    assert pageable.time_s == pytest.approx(pinned.time_s + 0.1)
    assert pageable.bound == "staging" and pinned.bound == "wire"


def test_nvlink_uses_the_catalog_bandwidth() -> None:
    link = parse_link("NVLink4")
    assert link.raw_bw_bytes_per_s == pytest.approx(450e9)
    with pytest.raises(InputError, match="pageable copy is a host-to-device copy"):
        transfer_time(n_bytes=1.0, link=link, pinned=False)


@pytest.mark.parametrize("text", ["pcie7x16", "pcie4x3", "ethernet", "nvlink9"])
def test_bad_links_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_link(text)


@given(st.floats(0, 1e12), st.floats(0, 1e12), st.sampled_from(["pcie4x16", "pcie5x8",
                                                                  "nvlink3"]))
def test_time_is_monotone_and_latency_bounded(a: float, b: float, link_text: str) -> None:
    link = parse_link(link_text)
    small, large = sorted((a, b))
    t_small, t_large = (transfer_time(n_bytes=x, link=link) for x in (small, large))
    assert link.latency_s <= t_small.time_s <= t_large.time_s


def test_cli_json_keys() -> None:
    result = run_cli("infra", "transfer", "--bytes", "1GB", "--link", "pcie5x16", "--pageable",
                     "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["pinned"] is False and payload["bound"] == "staging"
    assert payload["time_s"] == pytest.approx(payload["latency_s"] + payload["wire_s"]
                                              + payload["staging_s"])


def test_cli_bad_link_is_one_line() -> None:
    assert_one_line_error(run_cli("infra", "transfer", "--link", "pcie9x16"), "pcie9x16")
