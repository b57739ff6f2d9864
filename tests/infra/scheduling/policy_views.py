"""Builders for policy tests: job and cluster views, and a tiny round stepper.

The stepper is deliberately the simplest engine that exercises a policy: rounds every
``interval_s``, fixed-duration jobs progressing at ``1 / duration`` (``spread_slowdown``
times slower when spread over more nodes than they need), no restart delay, a job that
finishes mid-round frees its GPUs at the next round. Hand-worked schedules are exact on
it; end-to-end runs go through the real engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlfleet.infra.scheduling.placement import is_consolidated
from mlfleet.infra.scheduling.types import ClusterView, JobSpec, JobView, Placement, Policy


def spec(name: str, gpus: int = 1, **overrides: Any) -> JobSpec:
    """A job spec with defaults: submitted at 0, 60 s long."""
    fields: dict[str, Any] = {"name": name, "submit_s": 0.0, "gpus": gpus, "duration_s": 60.0}
    fields.update(overrides)
    return JobSpec(**fields)


def cluster(nodes: int = 2, gpus_per_node: int = 4, free: tuple[int, ...] = ()) -> ClusterView:
    """A cluster view; ``free`` defaults to all free."""
    return ClusterView(nodes=nodes, gpus_per_node=gpus_per_node,
                       free_gpus=free or (gpus_per_node,) * nodes)


def rate(job: JobSpec, placement: Placement, *, gpus_per_node: int,
         spread_slowdown: float) -> float:
    """Fraction of the job per second on ``placement`` (linear in GPUs, slower spread)."""
    if not placement:
        return 0.0
    assert job.duration_s is not None
    base = len(placement) / job.gpus / job.duration_s
    return base if is_consolidated(placement, gpus_per_node) else base / spread_slowdown


def view(job: JobSpec, *, placement: Placement = (), progress: float = 0.0, now_s: float = 0.0,
         gpus_per_node: int = 4, spread_slowdown: float = 1.5, **overrides: Any) -> JobView:
    """A job view whose speed callables follow :func:`rate`."""
    def throughput(p: Placement) -> float:
        return rate(job, p, gpus_per_node=gpus_per_node, spread_slowdown=spread_slowdown)

    def remaining(p: Placement) -> float:
        r = throughput(p)
        return (1.0 - progress) / r if r > 0 else float("inf")

    fields: dict[str, Any] = {"spec": job, "placement": placement,
                              "age_s": now_s - job.submit_s, "attained_service_gpu_s": 0.0,
                              "executed_s": 0.0, "progress": progress,
                              "throughput": throughput, "remaining_s": remaining}
    fields.update(overrides)
    return JobView(**fields)


@dataclass
class Run:
    """What :func:`step` observed."""

    finish_s: dict[str, float] = field(default_factory=dict)
    start_s: dict[str, float] = field(default_factory=dict)
    rounds: list[dict[str, Placement]] = field(default_factory=list)
    preemptions: Counter[str] = field(default_factory=Counter)


def check_capacity(chosen: Mapping[str, Placement], nodes: int, gpus_per_node: int,
                   fraction: Mapping[str, float] | None = None) -> None:
    """No node holds more GPUs than it has (a fractional job counts its ``gpu_fraction``,
    as the engine counts it)."""
    used: dict[int, float] = {}
    for name, placement in chosen.items():
        for node in placement:
            used[node] = used.get(node, 0.0) + (fraction or {}).get(name, 1.0)
    assert all(0 <= n < nodes and c <= gpus_per_node + 1e-9 for n, c in used.items()), used


def step(policy: Policy, jobs: list[JobSpec], *, nodes: int = 1, gpus_per_node: int = 1,
         spread_slowdown: float = 1.5, max_rounds: int = 10_000) -> Run:
    """Run ``jobs`` under ``policy`` round by round until all finish."""
    state = {j.name: {"progress": 0.0, "placement": (), "gpu_s": 0.0, "exec_s": 0.0}
             for j in jobs}
    run, dt = Run(), policy.interval_s
    for k in range(max_rounds):
        now = k * dt
        active = [j for j in jobs if j.submit_s <= now and j.name not in run.finish_s]
        if not active and len(run.finish_s) == len(jobs):
            return run
        views = [view(j, placement=state[j.name]["placement"],  # type: ignore[arg-type]
                      progress=state[j.name]["progress"],  # type: ignore[arg-type]
                      now_s=now, gpus_per_node=gpus_per_node, spread_slowdown=spread_slowdown,
                      attained_service_gpu_s=state[j.name]["gpu_s"],
                      executed_s=state[j.name]["exec_s"],
                      first_start_s=run.start_s.get(j.name)) for j in active]
        chosen = dict(policy.schedule(now, views, ClusterView(
            nodes=nodes, gpus_per_node=gpus_per_node)))
        check_capacity(chosen, nodes, gpus_per_node, {j.name: j.gpu_fraction for j in jobs})
        run.rounds.append(chosen)
        for j in active:
            _advance(j, state[j.name], chosen.get(j.name, ()), now, dt, run,
                     gpus_per_node=gpus_per_node, spread_slowdown=spread_slowdown)
    raise AssertionError("jobs did not finish")


def _advance(job: JobSpec, st: dict[str, Any], placement: Placement, now: float, dt: float,
             run: Run, *, gpus_per_node: int, spread_slowdown: float) -> None:
    if st["placement"] and not placement:
        run.preemptions[job.name] += 1
    st["placement"] = placement
    if not placement:
        return
    run.start_s.setdefault(job.name, now)
    r = rate(job, placement, gpus_per_node=gpus_per_node, spread_slowdown=spread_slowdown)
    left_s = (1.0 - st["progress"]) / r
    if left_s <= dt + 1e-9:
        run.finish_s[job.name] = round(now + left_s, 6)  # drop float dust from the sums
        st["progress"] = 1.0
    else:
        st["progress"] += r * dt
    st["gpu_s"] += len(placement) * min(dt, left_s)
    st["exec_s"] += min(dt, left_s)
