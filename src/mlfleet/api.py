"""The public Python API for notebooks: one call per question, a typed result back.

Every function takes keyword arguments in SI units (the unit is in the name:
``size_bytes``, ``service_time_s``), raises an :class:`~mlfleet.errors.InputError`
subclass quoting a bad value, and returns a frozen dataclass with ``to_dict()`` (strict
JSON types) and, where the answer is a table, ``rows()`` and ``to_arrow()`` (see
:mod:`mlfleet.results`). Array arguments broadcast, as the models do. The models are
the CLI's own; each function's docstring names the module (and so the source) it uses.
See ``docs/api.md``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.results import Result, TableResult
from mlfleet.scenario import Scenario
from mlfleet.serving.models.queueing import MMcSummary

__all__ = ["Checkpointing", "ClusterSchedule", "CollectiveTimes", "PlanResult", "Queue",
           "Roofline", "ServingStep", "Sweep", "SweepPoints", "allreduce", "checkpoint",
           "cluster_schedule", "mmc", "plan", "roofline_gemm", "serving_step", "sweep",
           "sweep_points"]


def _rows(columns: dict[str, Any]) -> list[dict[str, Any]]:
    """Row dicts from equally long columns (arrays broadcast to one shape, C order)."""
    arrays = dict(zip(columns, np.broadcast_arrays(*(np.asarray(v) for v in columns.values())),
                      strict=True))
    size = next(iter(arrays.values())).size if arrays else 0
    flat = {k: np.ravel(v) for k, v in arrays.items()}
    return [{k: v[i].item() for k, v in flat.items()} for i in range(size)]


@dataclass(frozen=True, kw_only=True)
class PlanResult(Result):
    """``mlfleet plan`` for one scenario: every chapter's section and the checks."""

    plan: dict[str, Any]
    """The plan as ``mlfleet plan --json`` prints it (chapters, ``checks``, ...)."""
    violated: tuple[str, ...]
    """Names of the checks that do not hold."""


def plan(scenario: str | os.PathLike[str] | Scenario) -> PlanResult:
    """Plan a scenario (a file, a bundled example's name, or a :class:`Scenario`);
    :func:`mlfleet.plan.compose.build_plan`."""
    from mlfleet.plan.compose import build_plan
    from mlfleet.scenario.loading import load_scenario

    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    built = build_plan(loaded)
    return PlanResult(plan=built.as_dict(), violated=tuple(c.name for c in built.violated()))


@dataclass(frozen=True, kw_only=True)
class Roofline(TableResult):
    """Roofline of GEMMs on one device: one row per shape."""

    device: str
    ridge_point_flop_per_byte: float
    """Arithmetic intensity above which an op is compute-bound."""
    points: tuple[dict[str, Any], ...]
    """Per shape: m, n, k, time_s, bound, arithmetic_intensity, mfu, ..."""

    def rows(self) -> list[dict[str, Any]]:
        return list(self.points)


def roofline_gemm(*, m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike, accelerator: str,
                  precision: str = "bf16") -> Roofline:
    """Roofline time of an (m x k) @ (k x n) GEMM at the accelerator's peaks
    (:func:`mlfleet.infra.roofline.gemm` and :func:`~mlfleet.infra.roofline.predict`)."""
    from mlfleet.infra import roofline as rl

    device = rl.Device.from_accelerator(accelerator, precision)
    result = rl.predict(rl.gemm(m, n, k, bytes_per_element=device.bytes_per_element), device)
    shapes = _rows({"m": m, "n": n, "k": k})
    points = tuple({**s, **r} for s, r in zip(shapes, result.rows(), strict=True))
    return Roofline(device=device.name, ridge_point_flop_per_byte=device.ridge_point_flop_per_byte,
                    points=points)


@dataclass(frozen=True, kw_only=True)
class CollectiveTimes(TableResult):
    """AllReduce time per algorithm and message size on a catalog cluster's topology."""

    topology: str
    ranks: int
    times_s: dict[str, tuple[float, ...]]
    """Algorithm -> seconds at each of ``sizes_bytes``."""
    sizes_bytes: tuple[float, ...]
    best: tuple[str, ...]
    """The fastest algorithm at each size."""

    def rows(self) -> list[dict[str, Any]]:
        return [{"algorithm": name, "size_bytes": size, "time_s": t}
                for name, times in self.times_s.items()
                for size, t in zip(self.sizes_bytes, times, strict=True)]


def allreduce(*, cluster: str, ranks: int, sizes_bytes: Sequence[float],
              algorithms: Sequence[str] | None = None) -> CollectiveTimes:
    """AllReduce of each size over ``ranks`` GPUs of catalog ``cluster``, every algorithm
    (:func:`mlfleet.comm.select.allreduce_times`: α-β models, docs/communication.md)."""
    from mlfleet.catalog.types import Cluster
    from mlfleet.comm.select import allreduce_times
    from mlfleet.comm.topology import from_cluster

    topo = from_cluster(Cluster.from_name(cluster), ranks=ranks)
    sizes = np.asarray(sizes_bytes, dtype=np.float64)
    times = allreduce_times(topo, sizes, algorithms=algorithms)
    names = list(times)
    fastest = np.argmin(np.stack([np.atleast_1d(times[n]) for n in names]), axis=0)
    return CollectiveTimes(topology=topo.name, ranks=topo.ranks,
                           times_s={n: tuple(np.atleast_1d(t).tolist()) for n, t in times.items()},
                           sizes_bytes=tuple(sizes.tolist()),
                           best=tuple(names[i] for i in fastest))


@dataclass(frozen=True, kw_only=True)
class ServingStep(TableResult):
    """Decode step time of an LLM replica: one row per (batch, context) point."""

    workload: str
    accelerator: str
    tp: int
    points: tuple[dict[str, Any], ...]
    """Per point: batch, context_len, time_s, tokens_per_s, bound, mfu."""

    def rows(self) -> list[dict[str, Any]]:
        return list(self.points)


def serving_step(*, workload: str, accelerator: str, batch: npt.ArrayLike,
                 context_len: npt.ArrayLike, precision: str = "bf16", tp: int = 1) -> ServingStep:
    """One decode step of ``batch`` sequences with ``context_len`` cached tokens each
    (:func:`mlfleet.serving.models.llm_step.llm_step_model`)."""
    from mlfleet.serving.models.llm_step import llm_step_model

    model = llm_step_model(workload=workload, accelerator=accelerator, precision=precision, tp=tp)
    step = model.decode(batch=batch, context_len=context_len)
    points = _rows({"batch": batch, "context_len": context_len, "time_s": step.time_s,
                    "tokens_per_s": step.tokens_per_s, "bound": step.bound, "mfu": step.mfu})
    return ServingStep(workload=workload, accelerator=accelerator, tp=tp, points=tuple(points))


@dataclass(frozen=True, kw_only=True)
class Queue(Result):
    """An M/M/c system by Erlang C, and the fewest servers meeting a wait target."""

    summary: MMcSummary
    """Utilisation, P(wait) (Erlang C), mean and percentile waits and responses."""
    servers_for_p99_wait_s: int | None
    """Fewest servers whose p99 wait is within ``p99_wait_s`` (None: no target given)."""


def mmc(*, servers: int, arrival_rate_per_s: float, service_time_s: float,
        p99_wait_s: float | None = None) -> Queue:
    """Erlang C figures of an M/M/c queue (:mod:`mlfleet.serving.models.queueing`), and with
    ``p99_wait_s`` the replicas that meet it."""
    from mlfleet.serving.models import queueing

    summary = queueing.summarize(servers=servers, arrival_rate=arrival_rate_per_s,
                                 service_time_s=service_time_s)
    needed = None if p99_wait_s is None else queueing.servers_for_wait(
        arrival_rate_per_s, 1.0 / service_time_s, wait_s=p99_wait_s, p=0.99)
    return Queue(summary=summary, servers_for_p99_wait_s=needed)


@dataclass(frozen=True, kw_only=True)
class Checkpointing(TableResult):
    """Optimal checkpoint intervals (Young, Daly) and goodput against the interval."""

    young_interval_s: float
    daly_interval_s: float
    daly_goodput: float
    """Useful work / wall time at Daly's interval."""
    curve: tuple[dict[str, float], ...]
    """Goodput at each interval asked for."""

    def rows(self) -> list[dict[str, Any]]:
        return list(self.curve)


def checkpoint(*, ckpt_s: float, mtbf_s: float, restart_s: float,
               intervals_s: Sequence[float] = ()) -> Checkpointing:
    """Young's and Daly's intervals and Daly's goodput
    (:mod:`mlfleet.reliability.checkpoint_interval`; Daly, FGCS 2006)."""
    from mlfleet.reliability import checkpoint_interval as ci

    daly = ci.daly_interval_s(ckpt_s=ckpt_s, mtbf_s=mtbf_s)

    def goodput(interval_s: float) -> float:
        return ci.daly_goodput(interval_s=interval_s, ckpt_s=ckpt_s, restart_s=restart_s,
                               mtbf_s=mtbf_s)

    return Checkpointing(young_interval_s=ci.young_interval_s(ckpt_s=ckpt_s, mtbf_s=mtbf_s),
                         daly_interval_s=daly, daly_goodput=goodput(daly),
                         curve=tuple({"interval_s": float(t), "goodput": goodput(float(t))}
                                     for t in intervals_s))


@dataclass(frozen=True, kw_only=True)
class ClusterSchedule(TableResult):
    """A cluster-scheduling simulation: summary metrics and one row per job."""

    policy: str
    nodes: int
    gpus_per_node: int
    metrics: dict[str, Any]
    """avg/median/p95/p99 JCT, queueing, makespan, GPU utilisation, restarts, ..."""
    jobs: tuple[dict[str, Any], ...]

    def rows(self) -> list[dict[str, Any]]:
        return list(self.jobs)


def cluster_schedule(*, workload: str = "workload-3@0.5", policy: str = "tiresias",
                     nodes: int | None = None, gpus_per_node: int = 4) -> ClusterSchedule:
    """Simulate a job trace under a scheduling policy
    (:func:`mlfleet.infra.scheduling.run.run_cluster`, ``mlfleet sim cluster``)."""
    from dataclasses import asdict

    from mlfleet.infra.scheduling.run import run_cluster
    from mlfleet.infra.scheduling.workload import load_workload

    run = run_cluster(load_workload(workload), policy=policy, nodes=nodes,
                      gpus_per_node=gpus_per_node)
    jobs = tuple({**asdict(r), "jct_s": r.jct_s} for r in run.result.records)
    return ClusterSchedule(policy=policy, nodes=run.nodes, gpus_per_node=run.gpus_per_node,
                           metrics=asdict(run.result.metrics), jobs=jobs)


@dataclass(frozen=True, kw_only=True)
class SweepPoints(TableResult):
    """A simulation sweep: each point's fields and its metrics, in the points' order."""

    func: str
    points: tuple[dict[str, Any], ...]
    results: tuple[dict[str, Any], ...]

    def rows(self) -> list[dict[str, Any]]:
        return [{**p, **r} for p, r in zip(self.points, self.results, strict=True)]


def sweep_points(func: str, points: Sequence[dict[str, Any]], *, address: str | None = None,
                 num_cpus: int | None = None) -> SweepPoints:
    """Run ``func`` (``"module:function"``, e.g. ``mlfleet.sweep.points:serving_point``) on
    every point as Ray tasks (:func:`mlfleet.sweep.ray_backend.run_points`; the ``ray``
    extra): a private local Ray, or the cluster at ``address``."""
    from mlfleet.sweep.ray_backend import run_points

    results = run_points(func, list(points), address=address, num_cpus=num_cpus)
    return SweepPoints(func=func, points=tuple(points), results=tuple(results))


@dataclass(frozen=True, kw_only=True)
class Sweep(TableResult):
    """A design-space sweep over scenario fields (``mlfleet sweep``): one row per point."""

    scenario: str
    question: str
    columns: dict[str, tuple[Any, ...]]
    """Swept fields (dotted paths), derived fields, metrics, ``invalid_reason``."""
    units: dict[str, str]
    """Metric -> unit."""

    def rows(self) -> list[dict[str, Any]]:
        names = list(self.columns)
        return [dict(zip(names, row, strict=True))
                for row in zip(*self.columns.values(), strict=True)]


def sweep(scenario: str | os.PathLike[str], settings: Sequence[str], *,
          question: str = "training", address: str | None = None) -> Sweep:
    """Sweep ``settings`` (``"FIELD=V1,V2,..."`` as for ``--set``) over a scenario file and
    answer ``question`` (``training``: the closed-form model, vectorised; ``serving`` or
    ``cluster``: a simulation per point on Ray) — :func:`mlfleet.sweep.run.sweep`."""
    from mlfleet.sweep.grid import parse_grid
    from mlfleet.sweep.run import sweep as run_sweep
    from mlfleet.sweep.simulate import SimOptions

    table = run_sweep(scenario, parse_grid(list(settings)), question=question,
                      sim=SimOptions(address=address)).table
    columns = {f: tuple(v) for f, v in zip(table.fields, table.field_values, strict=True)}
    columns.update({k: tuple(np.asarray(v).tolist()) for k, v in table.derived.items()})
    columns.update({k: tuple(np.asarray(v).tolist()) for k, v in table.metrics.items()})
    columns["invalid_reason"] = tuple(table.invalid_reason)
    return Sweep(scenario=str(scenario), question=question, columns=columns,
                 units=dict(table.units))
