"""The reliability section of a plan: interruptions, checkpoint interval, goodput, storage.

Fidelity: model. The job's failure rate is the catalog's component causes in series times
its GPUs (:mod:`mlfleet.reliability.failures`); a checkpoint holds the model's weights at
the training precision plus fp32 master weights and Adam moments
(:mod:`mlfleet.storage.checkpoint.size`), written synchronously to the scenario's
``storage.medium`` scaled to the job (:func:`mlfleet.reliability.job.storage_bw_bytes_per_s`;
``parallel-fs`` when the scenario names none). The interval is ``storage.checkpoint_every_s``
when set, else Daly's optimum; goodput and expected wall time are Daly's (FGCS 2006, eq. 20)
with the stated default detection and restart times. Checkpoint storage per month keeps
the last :data:`KEEP_LAST` checkpoints plus one a day (:data:`KEEP_PER_MONTH`), priced at
the medium's cost per GB-month where the catalog has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.plan.context import TrainingEstimate, workload_of
from mlfleet.plan.section import Section, not_applicable
from mlfleet.reliability.checkpoint_interval import daly_expected_wall_s
from mlfleet.reliability.checkpoint_policy import PolicyResult, async_policy, sync_policy
from mlfleet.reliability.failures import DAY_S, HOUR_S, component_rates, total_rate_per_gpu_s
from mlfleet.reliability.interruption_cost import interruption_cost
from mlfleet.reliability.job import (
    DEFAULT_DETECTION_S,
    JobShape,
    checkpoint_setting,
    storage_bw_bytes_per_s,
)
from mlfleet.scenario import Scenario
from mlfleet.units import format_bytes, format_rate

NOT_APPLICABLE = "no training job in the scenario"
DEFAULT_MEDIUM = "parallel-fs"
KEEP_LAST = 3
KEEP_PER_MONTH = 30
"""Retention: the last 3 checkpoints plus one a day, so a month holds 33 checkpoints."""
STORAGE_PRECISION = {"tf32": "fp32"}
"""tf32 trains on fp32 tensors: its weights are stored as fp32."""


@dataclass(frozen=True, kw_only=True)
class ReliabilityPlan:
    """The job's expected interruptions, its checkpoint policy and what they cost."""

    gpus: int
    mtbf_s: float
    interruptions_per_day: float
    ckpt_bytes: float
    medium: str
    medium_source: str
    """'storage.medium' or 'default'."""
    write_bw_bytes_per_s: float
    ckpt_write_s: float
    interval_s: float
    interval_source: str
    """'storage.checkpoint_every_s' or 'Daly optimum'."""
    goodput: float
    """Useful work / wall time with synchronous checkpoints at ``interval_s``."""
    async_goodput: float
    """The same with asynchronous checkpoints at their own optimum, for the recommendation."""
    failure_cost_s: float
    """Detection + restart + checkpoint load, per interruption."""
    interruption_gpu_hours: float
    interruption_usd: float | None
    compute_s: float | None
    """Failure-free time of the whole job (steps x step time); None without a job length."""
    expected_wall_s: float | None
    interruptions_expected: float | None
    storage_bytes: float
    """Checkpoint bytes the retention holds: the last 3 plus a month of daily ones."""
    storage_usd_per_month: float | None
    """``storage_bytes`` at the medium's price per GB-month; None where it has none."""


def plan(scenario: Scenario, estimate: TrainingEstimate | None, *,
         step_time_s: float | None = None) -> ReliabilityPlan | None:
    """The section's result; None without a training job. ``step_time_s`` (compute plus
    exposed communication, from the infrastructure section) replaces the compute-only step."""
    if scenario.training is None or estimate is None:
        return None
    cluster = scenario.cluster
    shape = JobShape(gpus=cluster.gpus, gpus_per_node=min(cluster.gpus, cluster.gpus_per_node),
                     node_net_bw_bytes_per_s=cluster.to_cluster().node_scaleout_bw_bytes_per_s)
    mtbf_s = 1.0 / (total_rate_per_gpu_s(component_rates(gpus_per_node=shape.gpus_per_node))
                    * shape.gpus)
    medium, medium_source = _medium(scenario)
    write_bw, read_bw = storage_bw_bytes_per_s(medium, gpus=shape.gpus,
                                               gpus_per_node=shape.gpus_per_node)
    setting = checkpoint_setting(shape, ckpt_bytes=_ckpt_bytes(scenario),
                                 write_bw_bytes_per_s=write_bw, read_bw_bytes_per_s=read_bw,
                                 mtbf_s=mtbf_s)
    fixed = scenario.storage.checkpoint_every_s if scenario.storage is not None else None
    sync = sync_policy(setting, interval_s=fixed)
    step_s = step_time_s if step_time_s is not None else estimate.step_compute_s
    compute_s = None if estimate.units_total is None \
        else estimate.units_total / estimate.units_per_step * step_s
    return _result(scenario, setting.ckpt_bytes, sync, async_policy(setting), shape=shape,
                   mtbf_s=mtbf_s, medium=(medium, medium_source), write_bw=write_bw,
                   fixed=fixed, compute_s=compute_s)


def _result(scenario: Scenario, ckpt_bytes: float, sync: PolicyResult, asyn: PolicyResult, *,
            shape: JobShape, mtbf_s: float, medium: tuple[str, str], write_bw: float,
            fixed: float | None, compute_s: float | None) -> ReliabilityPlan:
    cost = interruption_cost(gpus=shape.gpus, segment_s=sync.interval_s + sync.stall_s,
                             detection_s=DEFAULT_DETECTION_S,
                             restart_s=sync.failure_cost_s - DEFAULT_DETECTION_S, mtbf_s=mtbf_s)
    price = scenario.prices.cloud_usd_per_gpu_h if scenario.prices is not None else None
    wall_s = None if compute_s is None else daly_expected_wall_s(
        solve_s=compute_s, interval_s=sync.interval_s, ckpt_s=sync.stall_s,
        restart_s=sync.failure_cost_s, mtbf_s=mtbf_s)
    stored = (KEEP_LAST + KEEP_PER_MONTH) * ckpt_bytes
    usd_per_gb_month = _usd_per_gb_month(medium[0])
    return ReliabilityPlan(
        gpus=shape.gpus, mtbf_s=mtbf_s, interruptions_per_day=DAY_S / mtbf_s,
        ckpt_bytes=ckpt_bytes, medium=medium[0], medium_source=medium[1],
        write_bw_bytes_per_s=write_bw, ckpt_write_s=sync.stall_s, interval_s=sync.interval_s,
        interval_source="Daly optimum" if fixed is None else "storage.checkpoint_every_s",
        goodput=sync.goodput, async_goodput=asyn.goodput, failure_cost_s=sync.failure_cost_s,
        interruption_gpu_hours=cost.gpu_hours,
        interruption_usd=None if price is None else cost.usd(price),
        compute_s=compute_s, expected_wall_s=wall_s,
        interruptions_expected=None if wall_s is None else wall_s / mtbf_s,
        storage_bytes=stored,
        storage_usd_per_month=None if usd_per_gb_month is None
        else stored / 1e9 * usd_per_gb_month)


def _medium(scenario: Scenario) -> tuple[str, str]:
    if scenario.storage is not None and scenario.storage.medium is not None:
        return scenario.storage.medium, "storage.medium"
    return DEFAULT_MEDIUM, "default"


def _ckpt_bytes(scenario: Scenario) -> float:
    from mlfleet.storage.checkpoint.size import checkpoint_bytes

    assert scenario.training is not None
    precision = STORAGE_PRECISION.get(scenario.training.precision, scenario.training.precision)
    return checkpoint_bytes(workload_of(scenario), precision=precision).total_bytes


def _usd_per_gb_month(medium: str) -> float | None:
    from mlfleet.catalog.types import StorageMedium

    return StorageMedium.from_name(medium).usd_per_gb_month


def section(result: ReliabilityPlan | None) -> Section:
    """The plan section of a reliability result."""
    if result is None:
        return not_applicable(NOT_APPLICABLE)
    numbers: dict[str, object] = {
        "gpus": result.gpus, "mtbf_s": result.mtbf_s,
        "interruptions_per_day": result.interruptions_per_day,
        "interruptions_expected": result.interruptions_expected,
        "ckpt_bytes": result.ckpt_bytes, "ckpt_write_s": result.ckpt_write_s,
        "ckpt_write_bw_bytes_per_s": result.write_bw_bytes_per_s,
        "ckpt_interval_s": result.interval_s, "goodput": result.goodput,
        "async_goodput": result.async_goodput, "failure_cost_s": result.failure_cost_s,
        "interruption_gpu_hours": result.interruption_gpu_hours,
        "interruption_usd": result.interruption_usd,
        "expected_wall_s": result.expected_wall_s,
        "ckpt_storage_bytes": result.storage_bytes,
        "ckpt_storage_monthly_usd": result.storage_usd_per_month}
    return Section(status="ok", fidelity="model", numbers=numbers,
                   bottleneck=_bottleneck(result), recommendation=_recommendation(result),
                   reasoning=_reasoning(result),
                   details={"medium": result.medium, "medium_source": result.medium_source,
                            "interval_source": result.interval_source,
                            "retention": f"last {KEEP_LAST} plus one a day"})


def _bottleneck(r: ReliabilityPlan) -> str:
    restart_waste = r.failure_cost_s / r.mtbf_s
    ckpt_waste = max(0.0, 1.0 - r.goodput - restart_waste)
    return ("restarts (detection, restart, checkpoint load)" if restart_waste >= ckpt_waste
            else "checkpoint writes and lost work")


def _recommendation(r: ReliabilityPlan) -> str:
    text = f"checkpoint every {r.interval_s / 60:.3g} min ({r.interval_source})"
    if r.async_goodput - r.goodput > 0.01:
        text += (f"; asynchronous checkpoints raise goodput from {r.goodput:.1%} to "
                 f"{r.async_goodput:.1%}")
    return text


def _reasoning(r: ReliabilityPlan) -> list[str]:
    return [
        f"{r.gpus:,} GPUs fail every {r.mtbf_s / HOUR_S:.3g} h "
        f"({r.interruptions_per_day:.3g} interruptions/day) at the catalog's component rates",
        f"a {format_bytes(r.ckpt_bytes)} checkpoint takes {r.ckpt_write_s:.3g} s at "
        f"{format_rate(r.write_bw_bytes_per_s)} to {r.medium} ({r.medium_source})",
        f"each interruption costs {r.failure_cost_s / 60:.3g} min of detection, restart and "
        f"load plus the lost work: {r.interruption_gpu_hours:,.0f} GPU-hours",
    ]


def reads(scenario: Scenario, result: ReliabilityPlan | None) -> set[str]:
    """Scenario fields this section's result depends on."""
    if result is None:
        return set()
    out = {"workload", "cluster.name", "cluster.gpus", "cluster.gpus_per_node",
           "training.precision"}
    if result.medium_source == "storage.medium":
        out.add("storage.medium")
    if result.interval_source == "storage.checkpoint_every_s":
        out.add("storage.checkpoint_every_s")
    if result.interruption_usd is not None:
        out.add("prices.cloud_usd_per_gpu_h")
    return out
