"""Fairness of a schedule: finish-time fairness ρ and Jain's index.

- Finish-time fairness (Mahajan et al., "Themis: Fair and Efficient GPU Cluster
  Scheduling", NSDI'20, Sec. 3): ρ = T_shared / T_id, a job's completion time in the
  shared cluster over its run time alone on an isolated 1/N share; here T_id is the
  job's run time alone on the whole cluster on the GPUs it asked for, packed (the
  "isolated" run time the engine's speed model gives), so ρ = 1 for a job that never
  waits or slows down, and ρ <= 1 can only come from a better-than-requested placement.
- Jain's fairness index (Jain, Chiu & Hawe, DEC-TR-301, 1984):
  J(x) = (Σ x_i)² / (n · Σ x_i²); 1 when all x_i are equal, 1/n when one takes all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import non_negative_array, positive_array
from mlfleet.infra.scheduling.types import JobRecord


def finish_time_fairness(shared_s: npt.ArrayLike, isolated_s: npt.ArrayLike
                         ) -> npt.NDArray[np.float64]:
    """ρ = T_shared / T_id per job (Themis, NSDI'20, Sec. 3); both in seconds, T_id > 0."""
    shared = non_negative_array("shared_s", shared_s)
    isolated = positive_array("isolated_s", isolated_s)
    rho: npt.NDArray[np.float64] = shared / isolated
    return rho


def jain_index(values: npt.ArrayLike) -> float:
    """Jain's index (Σx)² / (n·Σx²) of non-negative values; 1.0 for an empty or all-zero set."""
    x = non_negative_array("values", values)
    total_sq = float(np.sum(x * x))
    if x.size == 0 or total_sq == 0.0:
        return 1.0
    return float(np.sum(x)) ** 2 / (x.size * total_sq)


@dataclass(frozen=True, kw_only=True)
class Fairness:
    """Finish-time fairness over the finished jobs of a run."""

    jobs: int
    """Finished jobs with a known isolated run time."""
    rho_max: float
    """Worst ρ: the job treated least fairly."""
    rho_median: float
    rho_mean: float
    jain_rho: float
    """Jain's index over the ρ values (1: every job slowed down alike)."""


def fairness_of(records: Iterable[JobRecord],
                isolated_s: Mapping[str, float] | None = None) -> Fairness:
    """ρ summary over the finished ``records``; T_id is each record's ``isolated_s``
    (the engine's) unless ``isolated_s`` maps job name -> T_id.

    Unfinished jobs are left out (their ρ is not known yet); so are jobs without an
    isolated time. Raises ``InputError`` when an isolated time is not > 0.
    """
    pairs = [(r.jct_s, t_id) for r in records
             if r.jct_s is not None and (t_id := _isolated(r, isolated_s)) is not None]
    if not pairs:
        nan = float("nan")
        return Fairness(jobs=0, rho_max=nan, rho_median=nan, rho_mean=nan, jain_rho=1.0)
    rho = finish_time_fairness([p[0] for p in pairs], [p[1] for p in pairs])
    return Fairness(jobs=len(pairs), rho_max=float(rho.max()), rho_median=float(np.median(rho)),
                    rho_mean=float(rho.mean()), jain_rho=jain_index(rho))


def _isolated(record: JobRecord, given: Mapping[str, float] | None) -> float | None:
    return record.isolated_s if given is None else given.get(record.name)


def team_gpu_seconds(records: Iterable[JobRecord]) -> dict[str, float]:
    """GPU-seconds each team held (the records' ``gpu_s``)."""
    used: dict[str, float] = {}
    for r in records:
        used[r.team] = used.get(r.team, 0.0) + r.gpu_s
    return used


def jain_over_teams(used: Mapping[str, float], weights: Mapping[str, float] | None = None,
                    teams: Sequence[str] | None = None) -> float:
    """Jain's index over each team's usage divided by its weight (its entitled share):
    1.0 when every team got service in proportion to its weight."""
    names = list(teams) if teams is not None else sorted(used)
    w = positive_array("weights", [1.0 if weights is None else weights[t] for t in names])
    return jain_index(np.array([used.get(t, 0.0) for t in names]) / w)
