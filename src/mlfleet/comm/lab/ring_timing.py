"""Time the ring AllReduce on a lab and compare it with the pipelined ring model.

Shared by the lab acceptance test (which asserts bytes exactly and time within a
bound that holds on a busy host) and ``benchmarks/bench_lab_timing.py`` (which
reports the model error per case against the 10% goal). The model is
:func:`~mlfleet.comm.cost.allreduce.pipelined_ring_allreduce_time` with the
blocks per chunk the ring uses at that size, B = shaped rate × MSS/(MTU + 14),
α measured by tiny AllReduces on the same lab (per step) and γ by timing the
reduction (numpy ``+=`` of one chunk) here. Each window runs calls back to back
for about :data:`WINDOW_S` (nccl-tests style), so the ranks' start skew is
spread over the calls; the CPU use of other work over the measurement is
recorded (:mod:`mlfleet.comm.lab.cpu`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlfleet.comm.algorithms.benchmark import add_s_per_byte
from mlfleet.comm.algorithms.ring import pipeline_blocks
from mlfleet.comm.cost.allreduce import pipelined_ring_allreduce_time
from mlfleet.comm.lab.cpu import CpuUse, cpu_use, sample
from mlfleet.comm.lab.measure import Measurement, measure
from mlfleet.comm.lab.shaping import payload_rate_bytes_per_s
from mlfleet.comm.lab.state import LabState

WINDOW_S = 0.25
"""Seconds of link time per measured window (calls run back to back within it)."""
ALPHA_ITERS = 50
"""Tiny AllReduces per window when measuring α."""


@dataclass(frozen=True, kw_only=True)
class RingTiming:
    """One size on one lab: the measurement, the model and the CPU left to it."""

    rate_bytes_per_s: float
    """Shaped link rate (frame bytes per second)."""
    size_bytes: int
    measurement: Measurement
    model_s: float
    """Pipelined ring model of one call."""
    alpha_s: float
    gamma_s_per_byte: float
    cpu: CpuUse
    """CPU use over the measurement (other work excludes the ranks)."""

    @property
    def error(self) -> float:
        """measured median / model − 1 (positive: slower than the model)."""
        return self.measurement.median_s / self.model_s - 1.0


def window_iters(*, n_hosts: int, rate_bytes_per_s: float, size_bytes: int,
                 window_s: float = WINDOW_S) -> int:
    """Back-to-back calls per window: about ``window_s`` of link time."""
    link_s = 2 * (n_hosts - 1) / n_hosts * size_bytes / rate_bytes_per_s
    return max(1, math.ceil(window_s / link_s))


def ring_alpha_s(state: LabState, *, reps: int = 5) -> float:
    """α of one ring step: a tiny ring AllReduce's median time / 2(n−1) steps."""
    n = len(state.hosts)
    tiny = measure(state, size_bytes=4 * n, reps=reps, iters=ALPHA_ITERS)
    return tiny.median_s / (2 * (n - 1))


def ring_model_s(*, n_hosts: int, rate_bytes_per_s: float, mtu_bytes: int, size_bytes: int,
                 alpha_s: float, gamma_s_per_byte: float) -> float:
    """The pipelined ring model with the blocks the ring will use at this size."""
    bw = payload_rate_bytes_per_s(rate_bytes_per_s, mtu_bytes)
    return float(pipelined_ring_allreduce_time(
        n_hosts, size_bytes, alpha_s=alpha_s, bw_bytes_per_s=bw,
        blocks=pipeline_blocks(size_bytes // n_hosts), gamma_s_per_byte=gamma_s_per_byte))


def time_ring(state: LabState, *, size_bytes: int, alpha_s: float, reps: int = 5) -> RingTiming:
    """Measure the float32 ring AllReduce of ``size_bytes`` on ``state`` against the model."""
    n = len(state.hosts)
    iters = window_iters(n_hosts=n, rate_bytes_per_s=state.rate_bytes_per_s,
                         size_bytes=size_bytes)
    before = sample()
    m = measure(state, size_bytes=size_bytes, reps=reps, iters=iters)
    use = cpu_use(before, sample())
    gamma = add_s_per_byte(np.float32, size_bytes // 4 // n, reps=15)
    model = ring_model_s(n_hosts=n, rate_bytes_per_s=state.rate_bytes_per_s,
                         mtu_bytes=state.mtu_bytes, size_bytes=size_bytes, alpha_s=alpha_s,
                         gamma_s_per_byte=gamma)
    return RingTiming(rate_bytes_per_s=state.rate_bytes_per_s, size_bytes=size_bytes,
                      measurement=m, model_s=model, alpha_s=alpha_s, gamma_s_per_byte=gamma,
                      cpu=use)


def describe(t: RingTiming) -> str:
    """One line: the case, median against the model, α, γ, CPU use and the window times."""
    return (f"{t.rate_bytes_per_s * 8 / 1e6:g} Mbit/s, {t.size_bytes / 2**20:g} MiB: median "
            f"{t.measurement.median_s * 1e3:.2f} ms, model {t.model_s * 1e3:.2f} ms "
            f"(α {t.alpha_s * 1e6:.0f} µs, γ {t.gamma_s_per_byte * 1e9:.2f} ns/B), error "
            f"{t.error:+.1%}; other work {t.cpu.other_fraction:.0%} of the CPUs, ranks "
            f"{t.cpu.own_fraction:.0%}, steal {t.cpu.steal_fraction:.0%}; per-call times "
            f"{[round(w.call_s * 1e3, 2) for w in t.measurement.windows]} "
            f"({t.measurement.windows[0].iters} calls each)")
