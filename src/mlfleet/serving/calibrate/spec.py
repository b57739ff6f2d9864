"""The calibration experiment's settings and what it measured (typed results)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from mlfleet.errors import InputError
from mlfleet.serving.calibrate.client import BatchingPolicy
from mlfleet.serving.calibrate.interval import PredictionInterval, SpeedInterval, speed_interval
from mlfleet.serving.calibrate.overhead import OverheadModel
from mlfleet.serving.calibrate.service import LoadSlowdown, ServiceSummary, ServiceTimeModel
from mlfleet.serving.calibrate.simulate import SimPrediction
from mlfleet.serving.loadgen import LoadReport

Calibration = Literal["per_run", "predictive"]


@dataclass(frozen=True, kw_only=True)
class ExperimentSpec:
    """The calibration experiment against a running server's ranker path."""

    base_url: str = ""
    """``http://HOST:PORT`` of a running ``mlfleet serve`` on this host (used when
    :func:`~mlfleet.serving.calibrate.experiment.run_experiment` gets no client)."""
    load_fractions: tuple[float, ...] = (0.3, 0.6, 0.9)
    """Compared offered loads, as fractions of the measured capacity."""
    calibration_fractions: tuple[float, ...] = (0.15, 1.0)
    """Open-loop calibration runs of the predictive path, fractions of the measured
    capacity (the slowdown of batches under load and the overhead are measured there and
    interpolated by rate); each at least 0.05 away from every compared load. Empty: no
    predictive path (the trace-driven comparison needs none)."""
    calibration_repeats: int = 1
    """Runs at each calibration fraction. With more than two runs in all, their scatter
    around the slowdown line measures the machine's drift between runs, which widens the
    prediction interval (:mod:`mlfleet.serving.calibrate.interval`)."""
    calibration_requests: int = 800
    """Requests per calibration run (the duration stays within the run bounds)."""
    min_requests: int = 2000
    """Requests per compared load point (the duration is stretched to reach it, within
    ``min_duration_s`` .. ``max_duration_s``)."""
    min_duration_s: float = 8.0
    max_duration_s: float = 30.0
    sweep_concurrency: tuple[int, ...] = (1, 2, 4, 8, 12, 16, 24, 32, 48)
    sweep_duration_s: float = 2.0
    capacity_duration_s: float = 4.0
    """The top sweep concurrency runs this long; its throughput is the capacity that
    every load fraction refers to (measured once)."""
    overload_factor: float | None = 2.0
    """Overload run at this multiple of capacity; ``None`` skips it."""
    overload_duration_s: float = 8.0
    items_per_request: int = 64
    replications: int = 10
    tolerance: float = 0.15
    """Relative p50/p99 error below which a comparison agrees."""
    calibration: Calibration = "per_run"
    """Which comparison decides agreement (and re-measurement): ``per_run``
    (trace-driven) or ``predictive`` (the prediction interval's center)."""
    max_attempts: int = 1
    """Measurements per load point: one outside the tolerance is measured again (a fresh
    run, new seed) up to this many times; every attempt is kept in the result."""
    quiet_cores: float = 0.1
    """A run during which other processes used more CPU than this (cores,
    :mod:`mlfleet.serving.host_cpu`) counts as *disturbed*: a disturbed sweep or
    calibration run is repeated (up to ``calibration_attempts``, the least disturbed is
    kept), and every compared run reports its figure."""
    quiet_wait_s: float = 0.0
    """Before each timed run, wait up to this long for a quiet host (other processes
    below ``quiet_cores`` over one second); 0 never waits."""
    calibration_attempts: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.load_fractions or any(not 0 < f < 1 for f in self.load_fractions):
            raise InputError(f"load_fractions(={self.load_fractions}) must be in (0, 1)")
        cal = self.calibration_fractions
        if cal and (len(set(cal)) < 2 or any(not 0 < f <= 1.5 for f in cal)):
            raise InputError(f"calibration_fractions(={cal}) must be empty or >= 2 distinct "
                             "values in (0, 1.5]")
        near = [(c, f) for c in cal for f in self.load_fractions if abs(c - f) < 0.05]
        if near:
            raise InputError(f"calibration_fractions(={cal}) must stay 0.05 away from "
                             f"load_fractions(={self.load_fractions}): {near}")
        for name in ("min_requests", "calibration_requests"):
            if getattr(self, name) < 100:
                raise InputError(f"{name}(={getattr(self, name)}) must be >= 100")
        for name in ("calibration_attempts", "max_attempts", "calibration_repeats",
                     "replications"):
            if getattr(self, name) < 1:
                raise InputError(f"{name}(={getattr(self, name)}) must be >= 1")
        if self.calibration not in ("predictive", "per_run"):
            raise InputError(f"calibration(={self.calibration!r}) must be 'predictive' or "
                             "'per_run'")
        if self.calibration == "predictive" and not cal:
            raise InputError("calibration(='predictive') needs calibration_fractions, got ()")

    def duration_s(self, rate_rps: float, requests: int) -> float:
        """How long a run at ``rate_rps`` must last to send about ``requests``."""
        return min(max(requests / rate_rps, self.min_duration_s), self.max_duration_s)


@dataclass(frozen=True, kw_only=True)
class CalibrationRun:
    """What one open-loop calibration run measured."""

    fraction: float
    rate_rps: float
    requests: int
    speed: float
    """Busy time over the sweep model's (:func:`~mlfleet.serving.calibrate.service.speed_factor`)."""
    speed_se: float
    """Its batch-means standard error."""
    mean_batch: float
    overhead_p50_s: float
    overhead_p99_s: float
    per_response_s: float
    others_cores: float
    """CPU used by other processes on the host meanwhile (:mod:`mlfleet.serving.host_cpu`)."""
    attempts: int = 1
    """Runs made (a disturbed one is repeated; the least disturbed is kept)."""


@dataclass(frozen=True, kw_only=True)
class LoadCalibration:
    """The predictive calibration, measured before any compared run: the sweep's service
    shape, its slowdown under open-loop load ``k(λ)`` with its uncertainty, and the
    overhead by rate."""

    service: ServiceTimeModel
    slowdown: LoadSlowdown
    runs: tuple[CalibrationRun, ...]
    """The calibration runs, by ascending rate."""
    overheads: tuple[OverheadModel, ...]
    """Overhead measured in each calibration run (same order)."""

    def speed_at(self, rate_rps: float) -> SpeedInterval:
        return speed_interval(self.slowdown, rates_rps=[r.rate_rps for r in self.runs],
                              standard_errors=[r.speed_se for r in self.runs],
                              rate_rps=rate_rps)

    def overhead_at(self, rate_rps: float, *, combine: Combine = "pool") -> OverheadModel:
        """Interpolated between the calibration rates that bracket ``rate_rps`` (the
        nearest one outside them). Repeated runs at one rate are pooled, or, for the
        prediction interval's ends, combined quantile by quantile into the least
        (``"low"``) or most (``"high"``) overhead any of them measured: how much the
        overhead moved between runs is calibration uncertainty too."""
        rates = sorted({r.rate_rps for r in self.runs})
        groups = [[o for r, o in zip(self.runs, self.overheads, strict=True) if r.rate_rps == rate]
                  for rate in rates]
        combined = [_combine(group, combine) for group in groups]
        i = int(np.clip(np.searchsorted(rates, rate_rps), 1, len(rates) - 1))
        lo, hi = rates[i - 1], rates[i]
        return OverheadModel.interpolate(combined[i - 1], combined[i],
                                         weight=(rate_rps - lo) / (hi - lo))


Combine = Literal["pool", "low", "high"]


def _combine(group: list[OverheadModel], how: Combine) -> OverheadModel:
    per_response = [o.per_response_s for o in group]
    if how == "pool":
        return OverheadModel(samples_s=np.concatenate([o.samples_s for o in group]),
                             per_response_s=float(np.mean(per_response)))
    q = np.linspace(0.0, 100.0, 401)
    curves = np.stack([np.percentile(o.samples_s, q) for o in group])
    pick = np.min if how == "low" else np.max
    return OverheadModel(samples_s=pick(curves, axis=0), per_response_s=float(pick(per_response)))


@dataclass(frozen=True, kw_only=True)
class LoadComparison:
    """Real vs simulated latency at one load."""

    load_fraction: float
    capacity_rps: float
    """The measured capacity the fraction refers to."""
    rate_rps: float
    real: LoadReport
    real_p99_ci_s: tuple[float, float]
    """95 % confidence interval of the real p99 (order statistics): its sampling noise."""
    real_mean_batch: float
    per_run: SimPrediction
    """Trace-driven: the run's own arrivals, overheads and machine speed."""
    predictive: PredictionInterval | None
    """Calibrated before the run (None without calibration runs)."""
    real_speed: float
    """The slowdown the server actually ran at in this run."""
    others_cores: float = math.nan
    """CPU used by other processes on the host during the run (nan where unknown)."""
    attempt: int = 1
    """Which measurement of this load point (see ``ExperimentSpec.max_attempts``)."""

    def agrees(self, calibration: Calibration, tolerance: float) -> bool:
        """Both p50 and p99 within ``tolerance`` (relative)."""
        return all(abs(e) <= tolerance for e in self.errors(calibration))

    def errors(self, calibration: Calibration) -> tuple[float, float]:
        """Relative errors (sim / real - 1) of p50 and p99 (``predictive``: its center;
        ``nan`` without a predictive path)."""
        sim = self.per_run if calibration == "per_run" else (
            self.predictive.center if self.predictive is not None else None)
        if sim is None:
            return (math.nan, math.nan)
        return (sim.p50_s / self.real.e2e.p50_s - 1.0, sim.p99_s / self.real.e2e.p99_s - 1.0)

    def covered(self) -> tuple[bool, bool] | None:
        """Whether the predictive interval covered the measured p50 and p99."""
        if self.predictive is None:
            return None
        return self.predictive.covers(p50_s=self.real.e2e.p50_s, p99_s=self.real.e2e.p99_s)


@dataclass(frozen=True, kw_only=True)
class OverloadResult:
    """The server under ``factor`` × capacity, and the bound its queue guarantees."""

    factor: float
    rate_rps: float
    report: LoadReport
    admitted_max_wait_s: float
    """Largest queue + service time (``Server-Timing``) of an admitted request."""
    admitted_p99_wait_s: float
    wait_bound_s: float
    """What the queue-depth limit guarantees in this run
    (:func:`~mlfleet.serving.calibrate.overload.wait_bound_s`)."""
    client_admitted_p99_s: float
    """Client-measured, from the scheduled arrival (client lag and HTTP included)."""
    all_admitted_completed: bool
    every_429_has_retry_after: bool
    alive_after: bool
    sim: SimPrediction
    """The trace-driven simulator's prediction of the same run."""

    @property
    def holds(self) -> bool:
        return (self.alive_after and self.all_admitted_completed
                and self.every_429_has_retry_after and self.report.rejected > 0
                and self.admitted_max_wait_s <= self.wait_bound_s)


@dataclass(frozen=True, kw_only=True)
class ExperimentResult:
    """Everything one experiment measured and simulated."""

    policy: BatchingPolicy
    service: ServiceSummary
    capacity_rps: float
    """Measured saturation throughput (the top of the sweep)."""
    model_capacity_rps: float
    """``max_batch / mean s(max_batch)`` from the calibrated service model."""
    sweep_others_cores: float
    """CPU other processes used during the (kept) sweep."""
    calibration: LoadCalibration | None
    comparisons: list[LoadComparison] = field(default_factory=list)
    overload: OverloadResult | None = None

    def final(self) -> list[LoadComparison]:
        """The last attempt at every load point."""
        last = {c.load_fraction: c for c in self.comparisons}
        return list(last.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the comparisons with their errors and coverage, without the
        pooled simulated latencies or the service model's raw samples."""
        doc: dict[str, Any] = _drop_arrays(asdict(replace(self, calibration=None)))
        for row, comp in zip(doc["comparisons"], self.comparisons, strict=True):
            row["per_run"]["p50_error"], row["per_run"]["p99_error"] = comp.errors("per_run")
            row["covered"] = comp.covered()
        if self.calibration is not None:
            doc["calibration_runs"] = [asdict(r) for r in self.calibration.runs]
            doc["slowdown"] = asdict(self.calibration.slowdown)
        return doc


def _drop_arrays(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_arrays(v) for k, v in value.items() if not isinstance(v, np.ndarray)}
    if isinstance(value, list):
        return [_drop_arrays(v) for v in value]
    return value
