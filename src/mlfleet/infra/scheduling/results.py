"""What a cluster simulation produced: per-job records and summary metrics."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from mlfleet.infra.scheduling.types import JobRecord


class _Recordable(Protocol):
    def record(self) -> JobRecord: ...


@dataclass(frozen=True, kw_only=True)
class ClusterMetrics:
    """Summary of one run (JCT = finish - submit, over finished jobs)."""

    jobs: int
    finished: int
    avg_jct_s: float
    median_jct_s: float
    p95_jct_s: float
    p99_jct_s: float
    max_jct_s: float
    avg_queueing_s: float
    """Mean delay from submission to first start (started jobs)."""
    p95_queueing_s: float
    makespan_s: float
    """Last finish minus first submission."""
    gpu_utilisation: float
    """GPU-seconds jobs held until they finished / (cluster GPUs x makespan)."""
    restarts: int
    preemptions: int
    rounds: int
    """Scheduling rounds the engine ran."""


@dataclass(frozen=True, kw_only=True)
class ClusterResult:
    """Records (one per job, workload order) and metrics of one policy's run."""

    policy: str
    records: tuple[JobRecord, ...]
    metrics: ClusterMetrics

    def jct_s(self) -> dict[str, float]:
        """Each finished job's completion time, by name."""
        return {r.name: r.jct_s for r in self.records if r.jct_s is not None}


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else math.nan


def metrics_of(records: Sequence[JobRecord], *, cluster_gpus: int, rounds: int) -> ClusterMetrics:
    """Summary metrics of ``records`` on a cluster of ``cluster_gpus``."""
    jct = np.array([r.jct_s for r in records if r.jct_s is not None], dtype=np.float64)
    queued = np.array([r.queueing_s for r in records if r.queueing_s is not None],
                      dtype=np.float64)
    finishes = [r.finish_s for r in records if r.finish_s is not None]
    makespan = (max(finishes) - min(r.submit_s for r in records)) if finishes else 0.0
    held = sum(r.gpu_s for r in records)
    return ClusterMetrics(
        jobs=len(records), finished=int(jct.size),
        avg_jct_s=float(jct.mean()) if jct.size else math.nan,
        median_jct_s=_pct(jct, 50), p95_jct_s=_pct(jct, 95), p99_jct_s=_pct(jct, 99),
        max_jct_s=float(jct.max()) if jct.size else math.nan,
        avg_queueing_s=float(queued.mean()) if queued.size else math.nan,
        p95_queueing_s=_pct(queued, 95), makespan_s=makespan,
        gpu_utilisation=held / (cluster_gpus * makespan) if makespan > 0 else 0.0,
        restarts=sum(r.restarts for r in records),
        preemptions=sum(r.preemptions for r in records), rounds=rounds)


def result_of(policy: str, jobs: Iterable[_Recordable], *, cluster_gpus: int,
              rounds: int) -> ClusterResult:
    """The result of a run from the engine's job states."""
    records = tuple(sorted((j.record() for j in jobs), key=_order_key))
    return ClusterResult(policy=policy, records=records,
                         metrics=metrics_of(records, cluster_gpus=cluster_gpus, rounds=rounds))


def _order_key(record: JobRecord) -> float:
    return record.submit_s


PER_JOB_COLUMNS = ("name", "submit_s", "start_s", "finish_s", "jct_s", "queueing_s", "gpus",
                   "team", "restarts", "preemptions", "isolated_s", "gpu_s", "application")
"""Columns of the per-job CSV (``--out``)."""


def write_per_job_csv(records: Iterable[JobRecord], path: Path) -> None:
    """One row per job; written to a temporary file and renamed (no partial file)."""
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(PER_JOB_COLUMNS)
            for r in records:
                row = {**asdict(r), "jct_s": r.jct_s, "queueing_s": r.queueing_s}
                out.writerow(["" if row[c] is None else row[c] for c in PER_JOB_COLUMNS])
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
