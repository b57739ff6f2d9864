"""Small files: the closed-form delivered bandwidth against a simulation on mlfleet.sim."""

from __future__ import annotations

import math

import pytest

from mlfleet.sim import Simulation
from mlfleet.storage.io_budget import StorageModelError
from mlfleet.storage.small_files import (
    RequestPath,
    bottleneck,
    delivered_bw_bytes_per_s,
    get_requests_usd,
    namenode_heap_bytes,
    path_of,
)


def simulate_bw(path: RequestPath, *, file_bytes: float, in_flight: int,
                requests: int = 20_000) -> float:
    """``in_flight`` closed-loop readers: admission at the request cap, latency, transfer.

    Admission is a FIFO gate of 1/cap per request; a transfer streams at the per-request
    bandwidth, serialised on one channel when the aggregate is capped at that bandwidth.
    """
    sim = Simulation(seed=0)
    admit_k, start_k, done_k = sim.kind("admit"), sim.kind("start"), sim.kind("done")
    state = {"gate_free": 0.0, "channel_free": 0.0, "done": 0, "first_s": 0.0, "end_s": 0.0}
    gap_s = 0.0 if math.isinf(path.max_requests_per_s) else 1.0 / path.max_requests_per_s
    shared = not math.isinf(path.max_bw_bytes_per_s)
    transfer_s = file_bytes / (path.max_bw_bytes_per_s if shared else path.stream_bw_bytes_per_s)

    def admit(t: float, _s: int, _p: object) -> list[tuple[float, int, object]]:
        state["gate_free"] = max(t, state["gate_free"]) + gap_s
        return [(state["gate_free"] + path.latency_s, start_k, None)]

    def start(t: float, _s: int, _p: object) -> list[tuple[float, int, object]]:
        begin = max(t, state["channel_free"]) if shared else t
        if shared:
            state["channel_free"] = begin + transfer_s
        return [(begin + transfer_s, done_k, None)]

    def done(t: float, _s: int, _p: object) -> list[tuple[float, int, object]]:
        state["done"] += 1
        if state["done"] == requests // 10:  # warm-up over: measure from here
            state["first_s"] = t
        if state["done"] == requests:
            state["end_s"] = t
        return [] if state["done"] >= requests else [(t, admit_k, None)]

    for _ in range(in_flight):
        sim.schedule(0.0, admit_k, None)
    sim.run({admit_k: admit, start_k: start, done_k: done})
    return (requests - requests // 10) * file_bytes / (state["end_s"] - state["first_s"])


CASES = [  # (path, file bytes, in flight): each term of the minimum binds somewhere
    (RequestPath(latency_s=0.1, stream_bw_bytes_per_s=90e6, max_requests_per_s=5500), 100e3, 64),
    (RequestPath(latency_s=0.1, stream_bw_bytes_per_s=90e6, max_requests_per_s=5500), 100e3, 2000),
    (RequestPath(latency_s=85e-6, stream_bw_bytes_per_s=7e9, max_requests_per_s=1e6,
                 max_bw_bytes_per_s=7e9), 4096, 32),
    (RequestPath(latency_s=85e-6, stream_bw_bytes_per_s=7e9, max_requests_per_s=1e6,
                 max_bw_bytes_per_s=7e9), 8e6, 8),
]


@pytest.mark.parametrize(("path", "file_bytes", "in_flight"), CASES)
def test_closed_form_matches_the_simulation(path: RequestPath, file_bytes: float,
                                            in_flight: int) -> None:
    closed = delivered_bw_bytes_per_s(path, file_bytes=file_bytes, in_flight=in_flight)
    simulated = simulate_bw(path, file_bytes=file_bytes, in_flight=in_flight)
    # The simulation's admission gate adds 1/cap to each request; the closed form does not.
    assert simulated == pytest.approx(closed, rel=0.02), bottleneck(
        path, file_bytes=file_bytes, in_flight=in_flight)


def test_each_bound_binds_in_its_case() -> None:
    assert [bottleneck(p, file_bytes=f, in_flight=q) for p, f, q in CASES] == [
        "latency", "requests", "latency", "bandwidth"]


def test_namenode_heap_of_a_billion_small_files_vs_packed_shards() -> None:
    small = namenode_heap_bytes(files=1e9, file_bytes=100e3)
    packed = namenode_heap_bytes(files=1e9 * 100e3 / 128 / 2 ** 20, file_bytes=128 * 2 ** 20)
    assert small == pytest.approx(300e9)  # 2 objects x 150 B per file
    assert small / packed == pytest.approx(2 * 128 * 2 ** 20 / 100e3 / 2, rel=1e-9)


def test_get_charges_fall_with_object_size() -> None:
    assert get_requests_usd(dataset_bytes=1e12, object_bytes=100e3) == pytest.approx(4.0)
    assert get_requests_usd(dataset_bytes=1e12, object_bytes=256e6) < 0.002


def test_catalog_paths_and_bad_sizes() -> None:
    s3 = path_of("s3")
    assert (s3.latency_s, s3.max_requests_per_s, s3.max_bw_bytes_per_s) == (0.1, 5500, math.inf)
    assert path_of("hdfs").max_requests_per_s == 126119
    with pytest.raises(StorageModelError, match=r"file_bytes\(=0"):
        delivered_bw_bytes_per_s(s3, file_bytes=0, in_flight=1)
