"""The host probe's timing harness (with a fake clock), a tiny real probe, and op balance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlfleet.infra.hostprobe import (
    NEAR_RIDGE_BALANCE,
    HostProfile,
    best_time_s,
    interleaved_best_s,
    probe_host,
    validate_on_host,
)


class FakeClock:
    """Returns preset instants, one per call."""

    def __init__(self, instants: list[float]) -> None:
        self._it: Iterator[float] = iter(instants)

    def __call__(self) -> float:
        return next(self._it)


def test_best_time_is_the_minimum_after_warmup() -> None:
    calls: list[int] = []
    clock = FakeClock([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])  # durations 3, 1, 2
    assert best_time_s(lambda: calls.append(1), repeats=3, clock=clock) == 1.0
    assert len(calls) == 4  # one warm-up


def test_rounds_interleave_kernels() -> None:
    order: list[str] = []
    clock = FakeClock([0.0, 5.0, 5.0, 6.0, 10.0, 12.0, 12.0, 20.0])  # a:5, b:1, a:2, b:8
    best = interleaved_best_s({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                              rounds=2, clock=clock, warmup=False)
    assert order == ["a", "b", "a", "b"]
    assert best == {"a": 2.0, "b": 1.0}


def test_tiny_probe_measures_positive_ceilings() -> None:
    profile = probe_host(gemm_n=64, stream_elements=4096, rounds=2, threads=2)
    assert isinstance(profile, HostProfile) and profile.threads == 2
    assert profile.matmul_flops_per_s > 0
    assert profile.mem_bw_bytes_per_s >= profile.single_thread_mem_bw_bytes_per_s > 0
    device = profile.device(single_thread=True)
    assert device.mem_bw_bytes_per_s == profile.single_thread_mem_bw_bytes_per_s
    assert device.bytes_per_element == 4.0
    assert profile.as_dict()["gemm_n"] == 64



def test_balance_marks_the_gemm_near_the_ridge_point() -> None:
    """balance = shorter / longer of an op's compute and memory times, from its FLOP and
    compulsory bytes (2mnk and 4(mk + kn + mn) for a float32 GEMM) and the ceilings."""
    report = validate_on_host(rounds=1, gemm_n=64, stream_elements=4096, threads=1,
                              small_sizes=(2, 4))
    peak = report.profile.matmul_flops_per_s
    bw = report.profile.mem_bw_bytes_per_s
    ops = {op.name: op for op in report.ops}
    for m, n, k in ((16, 2048, 2048), (1024, 1024, 1024), (1, 4096, 4096)):
        compute_s, memory_s = 2 * m * n * k / peak, 4 * (m * k + k * n + m * n) / bw
        op = ops[f"gemm {m}x{n}x{k}"]
        assert op.balance == pytest.approx(min(compute_s, memory_s) / max(compute_s, memory_s))
        assert op.near_ridge == (op.balance >= NEAR_RIDGE_BALANCE)
    assert ops["copy 4096xfp32"].balance == 0.0 and not ops["copy 4096xfp32"].near_ridge
