"""Noisy neighbours on one accelerator: co-located, time-sliced, or MIG-partitioned.

A job is what it asks of the device alone: the arithmetic intensity I (FLOP/byte) of
its kernels, the fraction ``busy`` of time it keeps the device busy (the rest is host
work, waiting for requests, launch gaps) and its memory footprint. While busy it runs
on its roofline (:mod:`mlfleet.infra.roofline`): min(W, P/I) bytes/s and min(P, I·W)
FLOP/s, so alone it demands ``busy`` times that of each. Its *rate* is the fraction of
its alone throughput it keeps beside the others (slowdown = 1/rate).

* **Co-located, no isolation** (several processes, or MPS): bandwidth and compute are
  each shared max-min fairly (water-filling: every job gets its demand or an equal
  share of what the lighter ones leave), a job progressing at the tighter of its two
  shares. Exact when at most one of the two is oversubscribed (the usual case: a mix
  of memory-bound jobs, or of compute-bound ones); when both are, a lower bound, as
  capacity a job leaves on one resource because the other holds it back is not handed
  on. Memory capacity is shared: the footprints must fit together.
* **Time-slicing** (CUDA time-slice scheduling, the Kubernetes device plugin's
  "time-slicing"): one context at a time holds the whole device for a slice; device
  time is shared max-min fairly by busy fraction, less a context switch per slice
  (``switch_s`` per ``slice_s``, an assumption to set). No bandwidth interference,
  no memory isolation.
* **MIG** (:mod:`.mig`): a job on profile Ng runs at N/7 of peak FLOP/s and m/8 of
  the bandwidth, untouched by neighbours; it keeps up if its busy time stretched by
  that slowdown still fits in the instance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, non_negative, positive
from mlfleet.infra.isolation.mig import MigProfile
from mlfleet.infra.roofline import Device

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class Job:
    """A job as it runs alone on the whole device."""

    name: str
    intensity_flop_per_byte: float
    busy: float = 1.0
    """Fraction of time it keeps the device busy alone, in (0, 1]."""
    memory_bytes: float = 0.0

    def __post_init__(self) -> None:
        positive("intensity_flop_per_byte", self.intensity_flop_per_byte)
        fraction("busy", self.busy, open_low=True)
        non_negative("memory_bytes", self.memory_bytes)


def demands(jobs: list[Job], device: Device) -> tuple[FloatArray, FloatArray]:
    """(bytes/s, FLOP/s) each job draws alone: busy · min(W, P/I), busy · min(P, I·W)."""
    i = np.array([j.intensity_flop_per_byte for j in jobs])
    u = np.array([j.busy for j in jobs])
    w, p = device.mem_bw_bytes_per_s, device.peak_flops_per_s
    return u * np.minimum(w, p / i), u * np.minimum(p, i * w)


def max_min_share(demand: npt.ArrayLike, capacity: float) -> FloatArray:
    """Water-filling: each gets min(demand, level), the level using up the capacity
    (every demand met when they fit)."""
    d = np.asarray(demand, dtype=np.float64)
    if d.sum() <= capacity:
        return d.copy()
    order = np.sort(d)
    left, n = capacity, d.size
    for k, x in enumerate(order):
        if x * (n - k) > left:
            return np.minimum(d, left / (n - k))
        left -= x
    raise AssertionError("unreachable: the demands exceed the capacity")


def colocated_rates(jobs: list[Job], device: Device) -> FloatArray:
    """Each job's rate when all run concurrently without isolation: the tighter of its
    max-min fair bandwidth share and compute share, each against its full demand."""
    bw, fl = demands(jobs, device)
    by_bw = max_min_share(bw, device.mem_bw_bytes_per_s) / bw
    by_fl = max_min_share(fl, device.peak_flops_per_s) / fl
    return np.asarray(np.minimum(by_bw, by_fl))


def timesliced_rates(jobs: list[Job], *, slice_s: float, switch_s: float) -> FloatArray:
    """Each job's rate when contexts take turns holding the whole device."""
    positive("slice_s", slice_s)
    non_negative("switch_s", switch_s)
    u = np.array([j.busy for j in jobs])
    usable = 1.0 if len(jobs) == 1 else slice_s / (slice_s + switch_s)
    return np.asarray(max_min_share(u, usable) / u)


def mig_slowdown(job: Job, device: Device, profile: MigProfile) -> float:
    """How much longer the job's kernels take on the instance than on the whole device:
    roofline time at (N/7 · P, m/8 · W) over roofline time at (P, W), per byte moved."""
    i = job.intensity_flop_per_byte
    p, w = device.peak_flops_per_s, device.mem_bw_bytes_per_s
    whole = max(i / p, 1.0 / w)
    sliced = max(i / (p * profile.compute_fraction), 1.0 / (w * profile.bandwidth_fraction))
    return sliced / whole


def mig_rate(job: Job, device: Device, profile: MigProfile) -> float:
    """1 if the job's stretched busy time fits in its instance, else 1/(busy · slowdown)."""
    return min(1.0, 1.0 / (job.busy * mig_slowdown(job, device, profile)))
