"""The same jobs on one accelerator three ways: co-located, time-sliced, MIG."""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.infra.isolation import mig
from mlfleet.infra.isolation.jobs import JobSpec
from mlfleet.infra.isolation.noisy import (
    Job,
    colocated_rates,
    demands,
    mig_rate,
    timesliced_rates,
)
from mlfleet.infra.roofline import Device


@dataclass(frozen=True, kw_only=True)
class JobRow:
    """One job under each kind of sharing; a rate is throughput relative to alone."""

    name: str
    intensity_flop_per_byte: float
    busy: float
    memory_bytes: float
    bandwidth_demand_fraction: float
    """Its bandwidth demand alone, as a fraction of the device's."""
    colocated_rate: float
    timesliced_rate: float
    mig_profile: str | None
    """None: no profile holds its memory."""
    mig_rate: float | None


@dataclass(frozen=True, kw_only=True)
class IsolationReport:
    """Per-job rows and what each way of sharing costs the whole device."""

    device: str
    jobs: tuple[JobRow, ...]
    memory_fits_shared: bool
    """Whether the footprints fit together (co-location and time-slicing share memory)."""
    mig_fits: bool
    mig_idle_compute_fraction: float
    mig_idle_bandwidth_fraction: float
    slice_s: float
    switch_s: float


def choose_profile(job: Job, device: Device, accelerator: str) -> mig.MigProfile | None:
    """The smallest profile that holds the job's memory and keeps up with it (rate 1);
    if none keeps up, the largest (7g); None if none holds its memory."""
    fitting = [p for p in mig.profiles_of(accelerator) if p.memory_bytes >= job.memory_bytes]
    for profile in fitting:
        if mig_rate(job, device, profile) >= 1.0:
            return profile
    return fitting[-1] if fitting else None


def compare(specs: list[JobSpec], device: Device, *, accelerator: str, slice_s: float,
            switch_s: float) -> IsolationReport:
    """Rates of every job co-located, time-sliced and on its MIG instance."""
    jobs = [s.job for s in specs]
    bw, _ = demands(jobs, device)
    shared = colocated_rates(jobs, device)
    sliced = timesliced_rates(jobs, slice_s=slice_s, switch_s=switch_s)
    profiles = [mig.profile_named(accelerator, s.profile) if s.profile is not None
                else choose_profile(s.job, device, accelerator) for s in specs]
    packing = mig.pack(tuple(p for p in profiles if p is not None))
    rows = tuple(JobRow(
        name=j.name, intensity_flop_per_byte=j.intensity_flop_per_byte, busy=j.busy,
        memory_bytes=j.memory_bytes,
        bandwidth_demand_fraction=float(bw[i] / device.mem_bw_bytes_per_s),
        colocated_rate=float(shared[i]), timesliced_rate=float(sliced[i]),
        mig_profile=None if p is None else p.name,
        mig_rate=None if p is None else mig_rate(j, device, p))
        for i, (j, p) in enumerate(zip(jobs, profiles, strict=True)))
    return IsolationReport(
        device=device.name, jobs=rows,
        memory_fits_shared=sum(j.memory_bytes for j in jobs) <= (device.hbm_bytes or 0.0),
        mig_fits=packing.fits and None not in profiles,
        mig_idle_compute_fraction=packing.idle_compute_fraction,
        mig_idle_bandwidth_fraction=packing.idle_bandwidth_fraction,
        slice_s=slice_s, switch_s=switch_s)
