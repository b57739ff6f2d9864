"""Our Tiresias and Optimus+Oracle against the Pollux artifact's published results.

Same cluster (16 nodes x 4 GPUs), 60 s rounds, 30 s restarts, the same 8 workloads at
loads 0.5 and 1.0; compared per workload (average JCT) and per job (each job's JCT).
``python -m mlfleet.infra.scheduling.reproduce`` prints the tables of
``docs/scheduling.md`` (asserted by ``tests/infra/scheduling/test_pollux_reproduction.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.infra.scheduling.pollux_data import LOADS, WORKLOADS, published
from mlfleet.infra.scheduling.results import ClusterResult
from mlfleet.infra.scheduling.run import run_cluster
from mlfleet.infra.scheduling.workload import load_workload

POLICIES = ("tiresias", "optimus")
"""Our policies with a published counterpart in the artifact."""


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """One policy on one workload at one load, ours next to the artifact's."""

    policy: str
    load: float
    workload: str
    ours_avg_jct_s: float
    published_avg_jct_s: float
    job_errors: tuple[float, ...]
    """Per job, |ours - published| / published JCT."""
    result: ClusterResult

    @property
    def avg_error(self) -> float:
        """Relative error of our average JCT (signed)."""
        return self.ours_avg_jct_s / self.published_avg_jct_s - 1.0


def workload_name(workload: str, load: float) -> str:
    """The bundled name of ``workload`` at ``load`` (``workload-3@0.5``)."""
    return workload if load == 1.0 else f"{workload}@{load}"


def compare(policy: str, load: float, workload: str) -> Comparison:
    """Run ``policy`` on ``workload`` at ``load`` and compare with the published run."""
    run = run_cluster(load_workload(workload_name(workload, load)), policy=policy)
    ours = run.result.jct_s()
    theirs = published(policy, load).jct_s[workload]
    errors = tuple(abs(ours[name] - jct) / jct for name, jct in theirs.items())
    return Comparison(policy=policy, load=load, workload=workload,
                      ours_avg_jct_s=sum(ours.values()) / len(ours),
                      published_avg_jct_s=published(policy, load).avg_jct_s[workload],
                      job_errors=errors, result=run.result)


def compare_all() -> list[Comparison]:
    """Every (policy, load, workload) with a published result: 32 comparisons."""
    return [compare(p, load, w) for p in POLICIES for load in LOADS for w in WORKLOADS]


def _markdown(comparisons: list[Comparison]) -> str:
    lines = ["| policy | load | workload | ours avg JCT (s) | published (s) | error |"
             " per-job median / p90 / max abs error | jobs exact |",
             "|---|---|---|---|---|---|---|---|"]
    for c in comparisons:
        e = np.array(c.job_errors)
        exact = int(np.sum(e == 0.0))
        lines.append(f"| {c.policy} | {c.load} | {c.workload} | {c.ours_avg_jct_s:.2f} | "
                     f"{c.published_avg_jct_s:.2f} | {c.avg_error:+.2%} | "
                     f"{np.median(e):.2%} / {np.percentile(e, 90):.2%} / {e.max():.2%} | "
                     f"{exact}/{e.size} |")
    return "\n".join(lines)


def _percentiles(comparisons: list[Comparison]) -> str:
    lines = ["| policy | load | JCT p50 (s) | p90 | p99 | max | mean queueing (s) |",
             "|---|---|---|---|---|---|---|"]
    for policy in POLICIES:
        for load in LOADS:
            runs = [c.result for c in comparisons if c.policy == policy and c.load == load]
            jct = np.concatenate([list(r.jct_s().values()) for r in runs])
            queue = np.mean([r.metrics.avg_queueing_s for r in runs])
            p50, p90, p99 = np.percentile(jct, [50, 90, 99])
            lines.append(f"| {policy} | {load} | {p50:.0f} | {p90:.0f} | {p99:.0f} | "
                         f"{jct.max():.0f} | {queue:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    found = compare_all()
    print(_markdown(found))
    print()
    print(_percentiles(found))
