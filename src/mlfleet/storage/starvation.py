"""GPU starvation: how fast a multi-process data loader delivers samples, and how
much of each training step waits for it.

Throughput is a bottleneck (roofline-style) model of a PyTorch-``DataLoader``-like
pipeline: ``W`` worker processes each read and decode one sample at a time, hand it
to the training (main) process, which spends ``t_main`` per sample receiving it
(unpickling, collating). With ``C`` cores for the whole pipeline and a storage
system delivering ``B`` bytes/s, samples/s is the least of

* workers:  ``W / (t_read + t_decode)``          (each worker is serial)
* cores:    ``C / (t_read + t_decode + t_main)`` (all CPU work shares ``C`` cores)
* main:     ``1 / t_main``                       (one receiving process)
* storage:  ``B / sample_bytes``

So speedup is linear in workers until the cores (or the main process, or the disk)
saturate: the classic shape of loader scaling curves (PyTorch ``num_workers``
tuning guide; Mohan et al., "Analyzing and Mitigating Data Stalls in DNN
Training", VLDB 2021, Fig. 3 and §3: fetch- and prep-stalls bound by CPU cores).

On a shared host other jobs compete for the cores. Linux's fair scheduler (CFS)
shares the cores between *scheduling groups* (with ``sched_autogroup``, one group per
session; without it, one per thread), each capped at its own runnable threads
(``Documentation/scheduler/sched-design-CFS.rst``, group scheduling). The cores a group
wanting ``n`` threads gets, :func:`group_cores`, is a water-filling level: find ``λ``
with ``Σ_g min(d_g, λ) = C`` over every group's demand ``d_g``; the group gets
``min(n, λ)`` (all it wants when ``Σ d_g <= C``). The loader is one group: its workers
get ``X_W = group_cores(W)`` cores, the workers bound becomes ``X_W / (t_read +
t_decode)`` and the cores bound ``X_{W+1} / (t_read + t_decode + t_main)`` (the main
process is one more thread). With no other groups (the default) ``X_W = min(W, C)``.

Exposed loading time per step, steady state with deterministic times: a step
needs ``b / R`` seconds of loading for a batch of ``b`` samples at ``R`` samples/s,
and the GPU computes for ``t_step``; prefetching overlaps the two, so the step
waits ``max(0, b/R - t_step)`` (Mohan et al. §2.2).

Prefetch depth matters when times vary. With exponential batch-production and
step times the loader and the GPU form a birth-death chain on the number of
batches in the prefetch buffer plus the one being trained on (capacity
``K = prefetch + 1``); the GPU idles in state 0 with probability
``π0 = (1 - ρ) / (1 - ρ^(K+1))``, ``ρ = λ_load / μ_step`` (the M/M/1/K queue,
Kleinrock, *Queueing Systems* vol. 1, §3.6). The loader module's simulation
validates it (``tests/storage/test_starvation.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import non_negative, positive, positive_int, whole_array
from mlfleet.errors import InputError

FloatArray = npt.NDArray[np.float64]
BOUNDS = ("cores", "workers", "main", "storage")
"""Names of the four throughput bounds, in the order :func:`bound_samples_per_s` stacks them
(on a tie the first is named: more workers than cores are bound by the cores)."""


@dataclass(frozen=True, kw_only=True)
class LoaderCosts:
    """Per-sample costs of a data loader (seconds, bytes)."""

    read_s_per_sample: float
    """CPU seconds a worker spends reading one sample (open, read, parse the container)."""
    decode_s_per_sample: float
    """CPU seconds a worker spends decoding/augmenting one sample."""
    main_s_per_sample: float = 0.0
    """Seconds the main (training) process spends receiving one sample (IPC, collate)."""
    sample_bytes: float = 0.0
    """Stored bytes per sample (for the storage bound)."""
    storage_bw_bytes_per_s: float = math.inf
    """Bandwidth the storage system delivers to this job (inf: never the bound)."""

    def __post_init__(self) -> None:
        non_negative("read_s_per_sample", self.read_s_per_sample)
        non_negative("decode_s_per_sample", self.decode_s_per_sample)
        non_negative("main_s_per_sample", self.main_s_per_sample)
        non_negative("sample_bytes", self.sample_bytes)
        positive("storage_bw_bytes_per_s", self.storage_bw_bytes_per_s, allow_inf=True)
        if self.worker_s_per_sample + self.main_s_per_sample <= 0:
            raise InputError("LoaderCosts: read_s_per_sample, decode_s_per_sample and "
                             "main_s_per_sample(=0 each) must not all be 0")

    @property
    def worker_s_per_sample(self) -> float:
        """Seconds one worker spends on one sample (read + decode)."""
        return self.read_s_per_sample + self.decode_s_per_sample


def _rate(numerator: FloatArray | float, seconds: float) -> FloatArray:
    """numerator / seconds as a float array, infinite where seconds is 0."""
    num = np.asarray(numerator, dtype=np.float64)
    return np.full_like(num, np.inf) if seconds <= 0 else num / seconds


def group_cores(demand: float, *, cores: float, background: Sequence[float] = ()) -> float:
    """Cores a scheduling group wanting ``demand`` runnable threads gets on ``cores`` cores
    when other groups want ``background`` threads each (CFS group fair share)."""
    wants = np.sort(np.array([demand, *background], dtype=np.float64))
    remaining = float(cores)
    for i, want in enumerate(wants):
        if want * (wants.size - i) >= remaining:  # the level is below this demand
            return min(demand, remaining / (wants.size - i))
        remaining -= float(want)
    return float(demand)


def bound_samples_per_s(costs: LoaderCosts, *, workers: npt.ArrayLike, cores: float,
                        background: Sequence[float] = ()) -> FloatArray:
    """The four bounds (samples/s), shape ``(4,) + shape(workers)``, in :data:`BOUNDS` order.

    ``background``: mean runnable threads of each other scheduling group on the cores.
    """
    w = whole_array("workers", workers)
    positive("cores", cores)
    others = [non_negative("background", b) for b in background]
    ones = np.ones_like(w)
    workers_cores = np.vectorize(lambda n: group_cores(n, cores=cores, background=others))
    storage_s = costs.sample_bytes / costs.storage_bw_bytes_per_s
    return np.stack([
        _rate(workers_cores(w + 1), costs.worker_s_per_sample + costs.main_s_per_sample),
        _rate(workers_cores(w), costs.worker_s_per_sample),
        _rate(ones, costs.main_s_per_sample),
        _rate(ones, storage_s),
    ])


def loader_samples_per_s(costs: LoaderCosts, *, workers: npt.ArrayLike, cores: float,
                         background: Sequence[float] = ()) -> FloatArray:
    """Samples/s a loader with ``workers`` processes on ``cores`` cores delivers (vectorised),
    with other scheduling groups wanting ``background`` runnable threads each."""
    return np.asarray(bound_samples_per_s(costs, workers=workers, cores=cores,
                                          background=background).min(axis=0))


def bottleneck(costs: LoaderCosts, *, workers: int, cores: float,
               background: Sequence[float] = ()) -> str:
    """Which bound (:data:`BOUNDS`) limits the loader at ``workers`` workers."""
    bounds = bound_samples_per_s(costs, workers=workers, cores=cores, background=background)
    return BOUNDS[int(np.argmin(bounds))]


def workers_needed(costs: LoaderCosts, *, cores: float,
                   samples_per_s: float) -> int | None:
    """The fewest workers that deliver ``samples_per_s``, or None when no count can.

    Beyond ``ceil(cores)`` workers only the workers bound grows, and the cores bound
    caps it, so the search stops there.
    """
    positive("samples_per_s", samples_per_s)
    limit = max(1, math.ceil(cores))
    counts = np.arange(1, limit + 1)
    rates = loader_samples_per_s(costs, workers=counts, cores=cores)
    enough = np.nonzero(rates >= samples_per_s * (1 - 1e-12))[0]
    return int(counts[enough[0]]) if enough.size else None


def exposed_s_per_step(*, batch_size: npt.ArrayLike, samples_per_s: npt.ArrayLike,
                       step_s: npt.ArrayLike) -> FloatArray:
    """Seconds per step the GPU waits for data, steady state, deterministic times.

    ``max(0, batch_size / samples_per_s - step_s)`` (Mohan et al., VLDB 2021, §2.2).
    """
    batch = whole_array("batch_size", batch_size)
    rate = np.asarray(samples_per_s, dtype=np.float64)
    return np.asarray(np.maximum(0.0, batch / rate - np.asarray(step_s, dtype=np.float64)))


def starved_fraction_jittered(*, load_batches_per_s: float, step_batches_per_s: float,
                              prefetch_batches: int) -> float:
    """Fraction of time the GPU idles with exponential load and step times.

    The M/M/1/K idle probability with ``K = prefetch_batches + 1`` (Kleinrock vol. 1,
    §3.6): ``(1 - ρ) / (1 - ρ^(K+1))``, ``ρ = load/step``; ``1/(K+1)`` at ``ρ = 1``.
    """
    lam = positive("load_batches_per_s", load_batches_per_s)
    mu = positive("step_batches_per_s", step_batches_per_s)
    k = positive_int("prefetch_batches", prefetch_batches, minimum=0) + 1
    rho = lam / mu
    if math.isclose(rho, 1.0, rel_tol=1e-9):
        return 1.0 / (k + 1)
    if rho > 1:  # same formula in 1/ρ, which does not overflow for large K
        inv = 1.0 / rho
        return (inv ** k) * (1 - inv) / (1 - inv ** (k + 1))
    return (1 - rho) / (1 - rho ** (k + 1))


@dataclass(frozen=True, kw_only=True)
class LoaderSetup:
    """A training job's loader: its costs, processes, cores, batch and GPU step."""

    costs: LoaderCosts
    """Per-sample costs."""
    workers: int
    """Loader worker processes."""
    cores: float
    """CPU cores the loader and the training process share."""
    batch_size: int
    """Samples per step."""
    step_s: float
    """GPU compute seconds per step (forward + backward + optimizer)."""
    prefetch_batches: int = 2
    """Batches the loader may hold ready ahead of the GPU (``workers × prefetch_factor``)."""

    def __post_init__(self) -> None:
        positive_int("workers", self.workers)
        positive("cores", self.cores)
        positive_int("batch_size", self.batch_size)
        positive("step_s", self.step_s)
        positive_int("prefetch_batches", self.prefetch_batches, minimum=0)


@dataclass(frozen=True, kw_only=True)
class Starvation:
    """How a loader keeps up with the GPU: the model's verdict for one :class:`LoaderSetup`."""

    samples_per_s: float
    """Samples/s the loader delivers."""
    bottleneck: str
    """The bound that sets it (one of :data:`BOUNDS`)."""
    batch_s: float
    """Seconds to produce one batch."""
    exposed_s_per_step: float
    """Seconds per step the GPU waits, deterministic times."""
    gpu_busy_fraction: float
    """``step_s / (step_s + exposed_s_per_step)``."""
    starved_fraction_jittered: float
    """GPU idle fraction with exponential times and the prefetch depth (M/M/1/K)."""


def starvation(setup: LoaderSetup) -> Starvation:
    """The loader's samples/s, its bottleneck and the GPU time exposed to loading."""
    rate = float(loader_samples_per_s(setup.costs, workers=setup.workers, cores=setup.cores))
    batch_s = setup.batch_size / rate
    exposed = max(0.0, batch_s - setup.step_s)
    jittered = starved_fraction_jittered(load_batches_per_s=1 / batch_s,
                                         step_batches_per_s=1 / setup.step_s,
                                         prefetch_batches=setup.prefetch_batches)
    return Starvation(samples_per_s=rate,
                      bottleneck=bottleneck(setup.costs, workers=setup.workers, cores=setup.cores),
                      batch_s=batch_s, exposed_s_per_step=exposed,
                      gpu_busy_fraction=setup.step_s / (setup.step_s + exposed),
                      starved_fraction_jittered=jittered)
