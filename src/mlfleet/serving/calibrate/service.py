"""How long the real server's batches take: the service-time model and the machine speed.

* :class:`ServiceTimeModel` — busy time of a batch of B requests, as the closed-loop
  sweep measured it: the empirical distribution per batch size, and a non-negative
  least-squares line ``a + b·B`` with multiplicative residuals for sizes seen rarely.
* The machine's *speed* relative to that model: :func:`speed_factor` (one run's total
  busy time over the model's), :class:`SpeedTrace` (batch by batch, over time),
  :func:`speed_estimate` (a run's mean speed with its batch-means standard error) and
  :class:`LoadSlowdown` (a line in the offered rate through several runs, with the
  scatter of the runs around it: the drift between runs).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError, RunError
from mlfleet.serving.calibrate.client import BatchSamples

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class ServiceSummary:
    """The fitted line and the measured mean per batch size, for reports."""

    intercept_s: float
    per_request_s: float
    batches: int
    mean_s_by_size: dict[int, float]


class ServiceTimeModel:
    """Busy time of a batch of B requests: empirical per size, else a line with residuals."""

    def __init__(self, *, intercept_s: float, per_request_s: float,
                 by_size: dict[int, FloatArray], residual_ratios: FloatArray,
                 min_samples: int) -> None:
        self.intercept_s = intercept_s
        self.per_request_s = per_request_s
        self.by_size = by_size
        self.residual_ratios = residual_ratios
        self.min_samples = min_samples

    @classmethod
    def fit(cls, samples: BatchSamples, *, min_samples: int = 25) -> ServiceTimeModel:
        """Least squares of per-size mean busy times (weighted by counts) on batch size,
        both coefficients constrained >= 0 (a batch never takes < 0 s).

        Raises :class:`~mlfleet.errors.RunError` with fewer than two measured batches.
        """
        if samples.size.size < 2:
            raise RunError(f"need measured batches to calibrate, got {samples.size.size}")
        sizes = np.unique(samples.size)
        by_size = {int(b): samples.cycle_s[samples.size == b] for b in sizes}
        means = np.array([by_size[int(b)].mean() for b in sizes])
        a, b = float(means[0]), 0.0
        if sizes.size >= 2:
            from scipy.optimize import nnls  # only here: keeps the package import light

            w = np.sqrt([by_size[int(s)].size for s in sizes])
            design = np.stack([np.ones_like(means), sizes.astype(np.float64)], axis=1)
            coef, _ = nnls(design * w[:, None], means * w)
            a, b = float(coef[0]), float(coef[1])
        ratios = samples.cycle_s / np.maximum(a + b * samples.size, 1e-9)
        return cls(intercept_s=a, per_request_s=b, by_size=by_size,
                   residual_ratios=ratios / ratios.mean(), min_samples=min_samples)

    def line_s(self, size: int) -> float:
        """The fitted line at ``size`` (at least 1 µs)."""
        return max(self.intercept_s + self.per_request_s * size, 1e-6)

    def _seen(self, size: int) -> FloatArray | None:
        seen = self.by_size.get(size)
        return seen if seen is not None and seen.size >= self.min_samples else None

    def mean_s(self, size: int) -> float:
        """Mean busy time of a batch of ``size``."""
        seen = self._seen(size)
        return float(seen.mean()) if seen is not None else self.line_s(size)

    def sample_s(self, size: int, rng: np.random.Generator) -> float:
        """One busy time for a batch of ``size``, drawn from what was measured."""
        seen = self._seen(size)
        if seen is not None:
            return float(seen[rng.integers(seen.size)])
        ratio = float(self.residual_ratios[rng.integers(self.residual_ratios.size)])
        return self.line_s(size) * ratio

    def scaled(self, factor: float) -> ServiceTimeModel:
        """The same model on a machine ``factor`` times slower."""
        return ServiceTimeModel(intercept_s=self.intercept_s * factor,
                                per_request_s=self.per_request_s * factor,
                                by_size={b: v * factor for b, v in self.by_size.items()},
                                residual_ratios=self.residual_ratios,
                                min_samples=self.min_samples)

    def capacity_rps(self, max_batch_size: int) -> float:
        """Saturation throughput: full batches back to back."""
        return max_batch_size / self.mean_s(max_batch_size)

    def summary(self) -> ServiceSummary:
        return ServiceSummary(
            intercept_s=self.intercept_s, per_request_s=self.per_request_s,
            batches=int(sum(v.size for v in self.by_size.values())),
            mean_s_by_size={b: float(v.mean()) for b, v in sorted(self.by_size.items())})


@dataclass(frozen=True, kw_only=True)
class SpeedTrace:
    """How fast the machine worked during one run, moment by moment.

    *Work* is measured in sweep-seconds: a batch of B is ``mean_s(B)`` of work. Each real
    batch did its work between its dispatch and its end, at rate ``mean_s(B) / cycle_s``;
    between batches (the server idle) the machine is taken to work at the run's mean rate.
    A simulated batch dispatched at ``t`` then ends when the machine has done its work
    after ``t`` (:meth:`finish_s`): a stall that slowed the real server at some moment
    delays the simulated batch running at that moment by the same time, and a slow
    stretch stretches it by the same factor.
    """

    t_s: FloatArray
    """Breakpoints on the run's clock (seconds from the load run's time 0), ascending."""
    work_s: FloatArray
    """Work done by each breakpoint (sweep-seconds, cumulative, strictly increasing)."""

    @classmethod
    def measure(cls, samples: BatchSamples, model: ServiceTimeModel, *,
                t0_s: float) -> SpeedTrace:
        """From the batches the server executed during a run that started at ``t0_s``.

        Raises :class:`~mlfleet.errors.RunError` when there are no batches."""
        if samples.size.size == 0:
            raise RunError("no batches to measure the speed of")
        work = np.array([model.mean_s(int(b)) for b in samples.size])
        cycle = np.maximum(samples.cycle_s, 1e-9)
        idle_rate = float(work.sum() / cycle.sum())
        t, w = [samples.dispatched_s[0] - t0_s - 1e4], [-1e4 * idle_rate]
        for start, busy, done in zip(samples.dispatched_s - t0_s, cycle, work, strict=True):
            begin = max(float(start), t[-1])  # a batch starts after the previous one ends
            idle_work = w[-1] + idle_rate * (begin - t[-1])
            t += [begin, begin + float(busy)]
            w += [idle_work, idle_work + float(done)]
        t.append(t[-1] + 1e4)
        w.append(w[-1] + 1e4 * idle_rate)
        return cls(t_s=np.array(t), work_s=np.array(w))

    def finish_s(self, start_s: float, work_s: float) -> float:
        """When work of ``work_s`` sweep-seconds started at ``start_s`` is done."""
        done = float(np.interp(start_s, self.t_s, self.work_s))
        return float(np.interp(done + work_s, self.work_s, self.t_s))


def speed_factor(samples: BatchSamples, model: ServiceTimeModel) -> float:
    """How much slower the server ran than ``model`` says: the batches' total busy time
    over the model's mean busy time for the same batch sizes (1.0: as in the sweep).

    Raises :class:`~mlfleet.errors.RunError` when there are no batches."""
    if samples.size.size == 0:
        raise RunError("no batches to measure the speed of")
    expected = sum(model.mean_s(int(b)) for b in samples.size)
    return float(samples.cycle_s.sum()) / expected


@dataclass(frozen=True, kw_only=True)
class SpeedEstimate:
    """A run's mean speed factor and its standard error."""

    mean: float
    se: float
    """Standard error by batch means (consecutive blocks, so the slow stretches' time
    correlation is kept; Law & Kelton, *Simulation Modeling and Analysis*, §9.5.2)."""


def speed_estimate(samples: BatchSamples, model: ServiceTimeModel, *,
                   blocks: int = 10) -> SpeedEstimate:
    """:func:`speed_factor` of the run, and its batch-means standard error over ``blocks``
    consecutive blocks of batches (``nan`` with fewer batches than two blocks need)."""
    mean = speed_factor(samples, model)
    expected = np.array([model.mean_s(int(b)) for b in samples.size])
    if samples.size.size < 2 * blocks:
        return SpeedEstimate(mean=mean, se=math.nan)
    parts = zip(np.array_split(samples.cycle_s, blocks), np.array_split(expected, blocks),
                strict=True)
    block_speeds = np.array([float(c.sum() / e.sum()) for c, e in parts])
    return SpeedEstimate(mean=mean, se=float(block_speeds.std(ddof=1) / math.sqrt(blocks)))


@dataclass(frozen=True, kw_only=True)
class LoadSlowdown:
    """Batch busy time under open-loop load relative to the closed-loop sweep, as a
    function of the offered rate: ``k(λ) = k0 + k1·λ``.

    Why it depends on λ: the event loop parses requests and writes responses while the
    worker thread computes, and the load generator runs beside them; both take CPU and
    the GIL from the worker in proportion to how many requests pass per second. The
    closed-loop sweep's contention pattern differs, so the sweep gives the *shape* of
    ``s(B)`` and open-loop calibration runs at other rates give ``k``.
    """

    intercept: float
    per_rps: float
    """Change of ``k`` per request per second of offered load."""
    drift_sd: float = math.nan
    """Standard deviation of the runs' speeds around the line (residual, ``n - 2``
    degrees of freedom): how much the machine's speed moves between runs at one load.
    ``nan`` with only two runs (the line passes through both)."""

    @classmethod
    def fit(cls, rates_rps: Sequence[float], factors: Sequence[float]) -> LoadSlowdown:
        """Least squares through the runs' speed factors.

        Raises :class:`~mlfleet.errors.InputError` with fewer than two distinct rates."""
        rates = np.asarray(rates_rps, dtype=np.float64)
        k = np.asarray(factors, dtype=np.float64)
        if rates.size != k.size or np.unique(rates).size < 2:
            raise InputError(f"need speed factors at >= 2 distinct rates, got rates {rates_rps}")
        slope, intercept = np.polyfit(rates, k, 1)
        residual = k - (intercept + slope * rates)
        dof = rates.size - 2
        drift = float(np.sqrt(np.sum(residual**2) / dof)) if dof > 0 else math.nan
        return cls(intercept=float(intercept), per_rps=float(slope), drift_sd=drift)

    def at(self, rate_rps: float) -> float:
        """``k`` at ``rate_rps``, floored at 0.5: a busy host never makes batches twice as
        fast as the sweep, whatever a steep line through noisy points says."""
        return max(self.intercept + self.per_rps * rate_rps, 0.5)
