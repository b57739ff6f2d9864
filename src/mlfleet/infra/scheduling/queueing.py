"""Expected queueing delay of one job on a shared cluster, for ``mlfleet plan``.

A job of ``job_gpus`` GPUs arrives at a cluster of ``cluster_gpus`` GPUs that other
jobs keep busy at an offered ``load`` (their GPU-seconds over the cluster's). The
other jobs are sampled (seeded) from the Philly trace (Jeon et al., ATC'19; the Pollux
artifact's ``traces/philly.csv``): their GPU counts (only those that fit) and durations
(capped at :data:`DURATION_CAP_S`, so a run reaches steady state quickly), arriving as
a Poisson process at the rate that gives ``load``. The scheduling engine runs them
under ``policy``; :data:`PROBES` copies of the job are submitted, evenly spaced, after
a warm-up third of the window, and the estimate is the mean and 95th percentile of
their delays from submission to first start. A probe shows policies its real duration
(an oracle policy ranks it by that) but leaves one round after it starts, so probes
add almost no load.

Validated in ``tests/infra/scheduling/test_queueing.py``: with single-GPU exponential
jobs and FIFO order the same machinery reproduces Erlang C's mean wait (M/M/c).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.infra.scheduling.engine import simulate
from mlfleet.infra.scheduling.pollux_data import PHILLY
from mlfleet.infra.scheduling.run import make_policy
from mlfleet.infra.scheduling.speed.model import JobSpeed
from mlfleet.infra.scheduling.speed.trace import LocalityModel, TraceSpeed
from mlfleet.infra.scheduling.types import JobSpec

DURATION_CAP_S = 8 * 3600.0
"""Background job durations are capped here (Philly's tail runs for weeks)."""
PROBES = 24
"""Copies of the job measured per estimate."""
WINDOW_CAPS = 3.0
"""The arrival window spans at least this many capped durations."""
MAX_BACKGROUND = 4000
"""Most background jobs per estimate (keeps an estimate under about two seconds)."""
INTERVAL_S = 60.0
"""Scheduling interval of the estimate's runs."""


@dataclass(frozen=True, kw_only=True)
class QueueingEstimate:
    """Queueing delay of the job (submission to first start), from a simulation."""

    mean_s: float
    p95_s: float
    policy: str
    load: float
    cluster_gpus: int
    probes: int
    background_jobs: int


@cache
def philly_sizes() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(GPUs, duration s) of every Philly job."""
    with PHILLY.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("num_gpus")]
    return (np.array([int(r["num_gpus"]) for r in rows]),
            np.array([float(r["duration"]) for r in rows]))


class ProbeSpeed(TraceSpeed):
    """A probe: oracle views see its real duration; it leaves one round after it starts."""

    __slots__ = ("hold_s",)

    def __init__(self, *, duration_s: float, gpus: int, hold_s: float) -> None:
        super().__init__(duration_s=duration_s, gpus=gpus, locality=LocalityModel())
        self.hold_s = hold_s

    def advance(self, seconds: float) -> float | None:
        if not self.counts:
            return None
        self.hold_s -= seconds
        return seconds if self.hold_s <= 0 else None

    def time_to_finish_s(self) -> float:
        return max(self.hold_s, 0.0) if self.counts else math.inf


def _background(rng: np.random.Generator, *, cluster_gpus: int, load: float,
                window_s: float) -> list[JobSpec]:
    gpus, dur = philly_sizes()
    fits = gpus <= cluster_gpus
    gpus, dur = gpus[fits], np.minimum(dur[fits], DURATION_CAP_S)
    rate = load * cluster_gpus / float(np.mean(gpus * dur))  # arrivals per second
    count = min(MAX_BACKGROUND, max(1, int(rate * window_s)))
    times = np.cumsum(rng.exponential(1.0 / rate, size=count))
    pick = rng.integers(0, gpus.size, size=count)
    return [JobSpec(name=f"bg{i}", submit_s=float(t), gpus=int(gpus[k]), duration_s=float(dur[k]))
            for i, (t, k) in enumerate(zip(times, pick, strict=True))]


def expected_queueing_delay(*, cluster_gpus: int, gpus_per_node: int, job_gpus: int,
                            job_duration_s: float, policy: str = "tiresias", load: float = 0.8,
                            seed: int = 0) -> QueueingEstimate:
    """Mean and p95 queueing delay of a ``job_gpus``-GPU job of ``job_duration_s`` on
    ``cluster_gpus`` GPUs (``gpus_per_node`` each) busy at ``load`` under ``policy``.

    Raises InputError for a value out of range (the job larger than the cluster, a
    load outside (0, 1), an unknown policy)."""
    positive_int("cluster_gpus", cluster_gpus)
    positive_int("gpus_per_node", gpus_per_node)
    if positive_int("job_gpus", job_gpus) > cluster_gpus:
        raise InputError(f"job_gpus(={job_gpus}) must be <= cluster_gpus(={cluster_gpus})")
    positive("job_duration_s", job_duration_s)
    fraction("load", load, open_low=True, open_high=True)
    chosen = make_policy(policy, interval_s=INTERVAL_S)
    rng = np.random.default_rng(seed)
    window_s = WINDOW_CAPS * DURATION_CAP_S
    specs = _background(rng, cluster_gpus=cluster_gpus, load=load, window_s=window_s)
    end_s = specs[-1].submit_s
    probe_times = np.linspace(end_s / 3, end_s, PROBES, endpoint=False)
    probes = [JobSpec(name=f"probe{i}", submit_s=float(t), gpus=job_gpus,
                      duration_s=job_duration_s) for i, t in enumerate(probe_times)]
    loc = LocalityModel(gpus_per_node=gpus_per_node)
    speeds: list[JobSpeed] = [TraceSpeed(duration_s=s.duration_s or 0.0, gpus=s.gpus,
                                         locality=loc) for s in specs]
    speeds += [ProbeSpeed(duration_s=job_duration_s, gpus=job_gpus, hold_s=INTERVAL_S)
               for _ in probes]
    nodes = math.ceil(cluster_gpus / gpus_per_node)
    result = simulate([*specs, *probes], speeds, chosen, nodes=nodes, gpus_per_node=gpus_per_node)
    waits = np.array([r.queueing_s if r.queueing_s is not None else math.inf
                      for r in result.records if r.name.startswith("probe")])
    return QueueingEstimate(mean_s=float(np.mean(waits)), p95_s=float(np.percentile(waits, 95)),
                            policy=policy, load=load, cluster_gpus=cluster_gpus,
                            probes=PROBES, background_jobs=len(specs))
