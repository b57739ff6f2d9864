"""Loader samples/s against worker count on this machine, and the starvation model's
prediction calibrated from the 1-worker run.

Calibration (:func:`calibrate`): from the run with the fewest workers, a worker's
per-sample cost is its CPU time per sample (read + decompress + decode + batching +
pickling) and the main process's is its CPU time per sample; nothing is fitted to
samples/s. The model (:mod:`mlfleet.storage.starvation`) then predicts every worker
count from those costs, the cores this process may run on (``os.sched_getaffinity``)
and the background load measured during that run
(:class:`~mlfleet.storage.loader.background.BackgroundLoad`): what the other
scheduling groups of a shared host want of the cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mlfleet.storage.loader.background import BackgroundLoad
from mlfleet.storage.loader.pool import EpochRun
from mlfleet.storage.loader.reader import Batch, LoaderConfig
from mlfleet.storage.loader.write import Dataset
from mlfleet.storage.starvation import LoaderCosts, bottleneck, loader_samples_per_s


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True, kw_only=True)
class LoaderPoint:
    """One measured epoch at one worker count."""

    workers: int
    """Worker processes."""
    samples: int
    """Samples delivered."""
    samples_per_s: float
    """Steady-state samples/s (first batch to last)."""
    samples_per_s_with_startup: float
    """Samples/s including worker startup."""
    worker_cpu_s_per_sample: float
    """CPU seconds the workers spent per sample (sum over workers / samples)."""
    main_cpu_s_per_sample: float
    """CPU seconds the consumer spent per sample."""
    background: tuple[float, ...]
    """Mean runnable processes of each other scheduling group during the run."""


def measure_point(dataset: Dataset, config: LoaderConfig,
                  on_batch: Callable[[Batch], None] | None = None) -> LoaderPoint:
    """Run one epoch with ``config`` and summarise it."""
    with EpochRun(dataset, config) as run, BackgroundLoad(run.pids) as load:
        for batch in run:
            if on_batch is not None:
                on_batch(batch)
    stats = run.stats
    samples = max(stats.samples, 1)
    return LoaderPoint(workers=config.workers, samples=stats.samples,
                       samples_per_s=stats.steady_samples_per_s,
                       samples_per_s_with_startup=stats.samples_per_s,
                       worker_cpu_s_per_sample=sum(w.cpu_s for w in stats.workers) / samples,
                       main_cpu_s_per_sample=max(0.0, stats.main_cpu_s - load.cpu_s) / samples,
                       background=load.groups)


def calibrate(point: LoaderPoint, *, decode_s: float, sample_bytes: float) -> LoaderCosts:
    """Per-sample costs from a run with few workers (see the module docstring)."""
    worker_s = point.worker_cpu_s_per_sample
    return LoaderCosts(read_s_per_sample=max(0.0, worker_s - decode_s),
                       decode_s_per_sample=min(decode_s, worker_s),
                       main_s_per_sample=point.main_cpu_s_per_sample,
                       sample_bytes=sample_bytes)


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Measured samples/s against the calibrated model at one worker count."""

    point: LoaderPoint
    """The measurement."""
    predicted_samples_per_s: float
    """The model's samples/s."""
    bottleneck: str
    """The model's limiting bound."""

    @property
    def error(self) -> float:
        """(predicted - measured) / measured."""
        return (self.predicted_samples_per_s - self.point.samples_per_s) / self.point.samples_per_s


@dataclass(frozen=True, kw_only=True)
class LoaderStudy:
    """A sweep over worker counts with the model calibrated on its first point."""

    cores: int
    """Cores the model was given."""
    costs: LoaderCosts
    """Calibrated per-sample costs."""
    rows: tuple[Comparison, ...]
    """One per worker count, in the order measured."""

    @property
    def max_abs_error(self) -> float:
        """Largest |error| over the rows."""
        return max(abs(r.error) for r in self.rows)


def compare(points: Sequence[LoaderPoint], costs: LoaderCosts, *, cores: int) -> LoaderStudy:
    """The model's prediction beside each measured point."""
    rows = tuple(Comparison(
        point=p, bottleneck=bottleneck(costs, workers=p.workers, cores=cores,
                                       background=p.background),
        predicted_samples_per_s=float(loader_samples_per_s(
            costs, workers=p.workers, cores=cores, background=p.background)))
        for p in points)
    return LoaderStudy(cores=cores, costs=costs, rows=rows)


def sweep(dataset: Dataset, config: LoaderConfig, *, workers: Sequence[int],
          cores: int | None = None,
          on_batch: Callable[[Batch], None] | None = None) -> LoaderStudy:
    """Measure each worker count (ascending), calibrate on the first, compare all."""
    points = [measure_point(dataset, replace(config, workers=count), on_batch)
              for count in sorted(workers)]
    costs = calibrate(points[0], decode_s=config.decode_s,
                      sample_bytes=dataset.stored_bytes / dataset.spec.samples)
    return compare(points, costs, cores=available_cores() if cores is None else cores)
