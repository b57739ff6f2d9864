"""Many seeded runs of one job, summarised with 95 % confidence intervals and set
against Daly's model (:mod:`mlfleet.reliability.checkpoint_interval`).

Run ``i`` uses seed ``seed + i``, so a study is reproducible and two studies with the
same seeds share their failure draws (common random numbers: differences between
intervals are far less noisy than either mean).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import non_negative, positive_int
from mlfleet.reliability.checkpoint_interval import daly_expected_wall_s
from mlfleet.reliability.sim.failure_process import Exponential
from mlfleet.reliability.sim.job import STATES, JobResult, JobSpec, simulate_job

Z95 = 1.959963984540054
"""Two-sided 95 % normal quantile."""


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A mean over runs and the half-width of its 95 % confidence interval."""

    mean: float
    ci95: float

    @classmethod
    def of(cls, values: np.ndarray) -> Estimate:
        """Mean and normal-approximation CI of ``values`` (CI NaN for a single run)."""
        n = len(values)
        half = Z95 * float(np.std(values, ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        return cls(mean=float(np.mean(values)), ci95=half)


@dataclass(frozen=True, kw_only=True)
class DalyComparison:
    """The simulated mean wall time against Daly's eq. 20 for the same job."""

    daly_wall_s: float
    """Daly's expected wall time (checkpoint cost = the job's stall per checkpoint)."""
    ratio: float
    """Simulated mean / Daly."""
    ratio_ci95: float
    """Half-width of the ratio's 95 % CI."""
    within_ci: bool
    """Whether Daly's value lies inside the simulated 95 % CI."""
    exact_regime: bool
    """Whether the job meets Daly's assumptions (exponential failures, unlimited spares,
    sync and final checkpoints): only then should they agree."""
    segments: float
    """Work segments, ``solve_s / interval_s``. When it is not whole, the simulated last
    segment is shorter than the others while eq. 20 counts a fraction of a full one:
    they may then differ by up to about one segment in ``segments``."""


@dataclass(frozen=True, kw_only=True)
class Replications:
    """Summary of ``runs`` seeded runs of one job."""

    runs: int
    wall_s: Estimate
    goodput: Estimate
    failures: Estimate
    lost_work_s: Estimate
    time_in_state_s: dict[str, float]
    """Mean wall seconds per state."""
    daly: DalyComparison
    events: int
    """Kernel events over all runs."""


def replicate(spec: JobSpec, *, runs: int, seed: int = 0, max_events: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> Replications:
    """``runs`` runs of ``spec`` with seeds ``seed, seed + 1, ...``, summarised.

    ``max_events`` bounds each run (:class:`~.job.NoProgressError` beyond it)."""
    positive_int("runs", runs)
    non_negative("seed", seed)
    results: list[JobResult] = []
    for i in range(runs):
        results.append(simulate_job(spec, seed=seed + i, max_events=max_events))
        if progress is not None:
            progress(i + 1, runs)
    wall = np.array([r.wall_s for r in results])
    states = {s: float(np.mean([r.time_in_state_s[s] for r in results])) for s in STATES}
    return Replications(
        runs=runs, wall_s=Estimate.of(wall), goodput=Estimate.of(spec.solve_s / wall),
        failures=Estimate.of(np.array([r.failures for r in results], dtype=float)),
        lost_work_s=Estimate.of(np.array([r.lost_work_s for r in results])),
        time_in_state_s=states, daly=compare_with_daly(spec, Estimate.of(wall)),
        events=sum(r.events for r in results))


def compare_with_daly(spec: JobSpec, wall_s: Estimate) -> DalyComparison:
    """Daly's eq. 20 for ``spec`` (its stall per checkpoint as the checkpoint cost)."""
    ckpt = spec.checkpoint
    model_s = daly_expected_wall_s(solve_s=spec.solve_s, interval_s=ckpt.interval_s,
                                   ckpt_s=ckpt.stall_s, restart_s=spec.recovery_s,
                                   mtbf_s=spec.failures.mtbf_s)
    segments = spec.solve_s / ckpt.interval_s
    exact = (isinstance(spec.failures, Exponential) and spec.spares.spares is None
             and ckpt.mode == "sync" and ckpt.final)
    return DalyComparison(daly_wall_s=model_s, ratio=wall_s.mean / model_s,
                          ratio_ci95=wall_s.ci95 / model_s,
                          within_ci=abs(wall_s.mean - model_s) <= wall_s.ci95,
                          exact_regime=exact, segments=segments)
