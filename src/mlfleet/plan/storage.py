"""The storage section of a plan: read bandwidth needed vs provided, starvation, tier and
checkpoint costs per month.

Fidelity: model. The training step model (:class:`~mlfleet.plan.context.TrainingEstimate`,
compute only, so the bandwidth is an upper bound) consumes ``units_per_step / step_s`` samples
or tokens per second; each unit is ``storage.sample_bytes`` (per ``seq_len`` tokens for token
workloads) or, without it, ``dataset_bytes / dataset_samples`` or the catalog's
``bytes_per_sample``. The medium (``storage.medium``) gives the units to deploy for that
bandwidth and request rate (:mod:`mlfleet.storage.io_budget`), and starvation is judged with
one unit of it (:mod:`mlfleet.storage.starvation`; decode costs are not in a scenario and are
not counted). The dataset's month in hot/warm/cold (:mod:`mlfleet.storage.tiers`) assumes it
is packed in :data:`SHARD_BYTES` objects and read ``epochs`` times over the job's duration.
Checkpoints (:func:`mlfleet.storage.checkpoint.size.checkpoint_bytes`) are written every
``storage.checkpoint_every_s`` (else :data:`DEFAULT_CHECKPOINT_EVERY_S`), the last
:data:`CHECKPOINTS_KEPT` kept on the medium.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.catalog.types import StorageMedium
from mlfleet.plan.context import TrainingEstimate, workload_of
from mlfleet.plan.reliability import KEEP_LAST, ReliabilityPlan
from mlfleet.plan.section import Section, not_applicable
from mlfleet.scenario import Scenario
from mlfleet.storage import tiers
from mlfleet.storage.checkpoint.size import checkpoint_bytes
from mlfleet.storage.io_budget import IoBudget, io_budget, stored_bytes_per_unit
from mlfleet.storage.starvation import exposed_s_per_step, starved_fraction_jittered
from mlfleet.units import format_bytes, format_duration, format_rate

NOT_APPLICABLE = "no training job with a storage section in the scenario"
SHARD_BYTES = 256e6
"""Object size assumed for the dataset's request costs: data packed in 256 MB shards
(WebDataset tar, Parquet files); ``mlfleet storage small-files`` shows file-per-sample."""
DEFAULT_CHECKPOINT_EVERY_S = 3600.0
"""Interval assumed when the scenario gives none (the reliability section picks the optimum)."""
CHECKPOINTS_KEPT = 3
"""Retention: the last checkpoints kept on the medium."""
CHECKPOINT_PRECISION = {"tf32": "fp32", "fp8": "bf16"}
"""Weights are saved at the training precision, fp8 runs keeping bf16 weights."""
PREFETCH_BATCHES = 2
"""Batches a loader holds ready (PyTorch DataLoader's default prefetch_factor)."""


@dataclass(frozen=True, kw_only=True)
class StarvationRisk:
    """The GPU fed from one unit of the medium, reads the only cost counted."""

    samples_per_s: float
    exposed_s_per_step: float
    """Seconds per step the GPU waits, deterministic times."""
    gpu_busy_fraction: float
    starved_fraction_jittered: float
    """Idle fraction with exponential load and step times and PREFETCH_BATCHES (M/M/1/K)."""


@dataclass(frozen=True, kw_only=True)
class CheckpointStorage:
    """Checkpoint bytes written and kept per month."""

    bytes: float
    every_s: float
    interval_source: str
    retention: str
    """Which checkpoints are kept (the reliability section's policy where it planned one)."""
    written_bytes_per_month: float
    kept_bytes: float
    kept_usd_per_month: float | None
    """None when the medium has no capacity price."""


@dataclass(frozen=True, kw_only=True)
class StoragePlan:
    """What storage must deliver to the training job and what it costs."""

    budget: IoBudget
    bytes_per_unit_source: str
    starvation_one_unit: StarvationRisk
    tier_costs: list[tiers.TierCost]
    epochs_per_month: float | None
    dataset_bytes: float | None
    dataset_samples: int | None
    checkpoint: CheckpointStorage


def plan(scenario: Scenario, estimate: TrainingEstimate | None, *,
         reliability: ReliabilityPlan | None = None) -> StoragePlan | None:
    """The storage plan; None without a training job and a storage section.

    With the reliability section's result, checkpoints are written at its interval (the
    scenario's, else Daly's optimum) and kept under its retention, so both sections quote
    the same checkpoint numbers."""
    training, storage = scenario.training, scenario.storage
    if training is None or storage is None or estimate is None:
        return None
    workload = workload_of(scenario)
    medium = StorageMedium.from_name(storage.medium or "parallel-fs")
    per_unit, source = _bytes_per_unit(scenario)
    rate = estimate.units_per_step / estimate.step_compute_s
    budget = io_budget(workload=workload, units_per_s=rate, bytes_per_unit=per_unit, medium=medium)
    return StoragePlan(
        budget=budget, bytes_per_unit_source=source,
        starvation_one_unit=_starvation(scenario, estimate, per_unit, medium),
        tier_costs=_tier_costs(scenario, estimate, per_unit),
        epochs_per_month=_epochs_per_month(scenario, estimate, per_unit),
        dataset_bytes=storage.dataset_bytes, dataset_samples=storage.samples,
        checkpoint=_checkpoint(scenario, medium, reliability))


def _bytes_per_unit(scenario: Scenario) -> tuple[float, str]:
    storage, training = scenario.storage, scenario.training
    assert storage is not None and training is not None
    workload = workload_of(scenario)
    per_sample = storage.sample_bytes
    source = "storage.sample_bytes"
    if per_sample is None and storage.dataset_bytes and storage.dataset_samples:
        per_sample, source = storage.dataset_bytes / storage.dataset_samples, \
            "storage.dataset_bytes / storage.dataset_samples"
    if per_sample is None:
        return stored_bytes_per_unit(workload), "catalog"
    if workload.unit == "token":
        return per_sample / float(training.seq_len or 1), source + " / training.seq_len"
    return per_sample, source


def _dataset_bytes(scenario: Scenario, per_unit: float) -> float | None:
    storage = scenario.storage
    assert storage is not None
    if storage.dataset_bytes is not None:
        return storage.dataset_bytes
    return None if storage.samples is None else storage.samples * per_unit


def _epochs_per_month(scenario: Scenario, estimate: TrainingEstimate,
                      per_unit: float) -> float | None:
    """Passes over the dataset in a month: a month at the job's read rate, or the whole job
    when it is shorter and the scenario says how much it trains."""
    size = _dataset_bytes(scenario, per_unit)
    if not size:
        return None
    units = estimate.units_per_step / estimate.step_compute_s * tiers.MONTH_S
    if estimate.units_total is not None:
        units = min(units, estimate.units_total)
    return units * per_unit / size


def _tier_costs(scenario: Scenario, estimate: TrainingEstimate,
                per_unit: float) -> list[tiers.TierCost]:
    size = _dataset_bytes(scenario, per_unit)
    epochs = _epochs_per_month(scenario, estimate, per_unit)
    if not size or epochs is None:
        return []
    return tiers.dataset_costs([tiers.Tier.from_name(n) for n in tiers.DEFAULT_TIERS],
                               dataset_bytes=size, epochs_per_month=epochs,
                               object_bytes=SHARD_BYTES)


def _starvation(scenario: Scenario, estimate: TrainingEstimate, per_unit: float,
                medium: StorageMedium) -> StarvationRisk:
    """Loading from one unit of the medium (no decode or worker limit counted)."""
    training = scenario.training
    assert training is not None
    units_per_sample = float(training.seq_len or 1) if estimate.unit == "token" else 1.0
    rate = medium.read_bw_bytes_per_s / (per_unit * units_per_sample)  # samples/s
    batch = max(1, round(estimate.units_per_step / units_per_sample))
    step_s = estimate.step_compute_s
    exposed = float(exposed_s_per_step(batch_size=batch, samples_per_s=rate, step_s=step_s))
    idle = starved_fraction_jittered(load_batches_per_s=rate / batch,
                                     step_batches_per_s=1 / step_s,
                                     prefetch_batches=PREFETCH_BATCHES)
    return StarvationRisk(samples_per_s=rate, exposed_s_per_step=exposed,
                          gpu_busy_fraction=step_s / (step_s + exposed),
                          starved_fraction_jittered=idle)


def _checkpoint(scenario: Scenario, medium: StorageMedium,
                reliability: ReliabilityPlan | None) -> CheckpointStorage:
    training, storage = scenario.training, scenario.storage
    assert training is not None and storage is not None
    precision = CHECKPOINT_PRECISION.get(training.precision, training.precision)
    size = checkpoint_bytes(workload_of(scenario), precision=precision).total_bytes
    if reliability is not None:
        every, why = reliability.interval_s, f"reliability section ({reliability.interval_source})"
        kept = reliability.storage_bytes
        retention = f"the last {KEEP_LAST} plus one a day, as the reliability section keeps"
    else:
        every, why = (storage.checkpoint_every_s, "storage.checkpoint_every_s") \
            if storage.checkpoint_every_s else (DEFAULT_CHECKPOINT_EVERY_S, "assumed: none given")
        kept = CHECKPOINTS_KEPT * size
        retention = f"the last {CHECKPOINTS_KEPT}"
    price = medium.usd_per_gb_month
    return CheckpointStorage(
        bytes=size, every_s=every, interval_source=why, retention=retention,
        written_bytes_per_month=size * tiers.MONTH_S / every, kept_bytes=kept,
        kept_usd_per_month=None if price is None else kept / tiers.GB * price)


def section(result: StoragePlan | None) -> Section:
    """The plan section of a storage result."""
    if result is None:
        return not_applicable(NOT_APPLICABLE)
    b, s, ckpt = result.budget, result.starvation_one_unit, result.checkpoint
    numbers: dict[str, object] = {
        "medium": b.medium, f"{b.unit}s_per_s": b.units_per_s, "bytes_per_unit": b.bytes_per_unit,
        "read_bw_needed_bytes_per_s": b.read_bw_bytes_per_s,
        "read_requests_per_s": b.requests_per_s,
        "medium_unit_read_bw_bytes_per_s": b.medium_read_bw_bytes_per_s,
        "medium_units_needed": b.medium_units,
        "gpu_busy_fraction_one_unit": s.gpu_busy_fraction,
        "exposed_load_s_per_step_one_unit": s.exposed_s_per_step,
        "checkpoint_bytes": ckpt.bytes, "checkpoint_every_s": ckpt.every_s,
        "checkpoint_written_bytes_per_month": ckpt.written_bytes_per_month,
        "checkpoint_kept_bytes": ckpt.kept_bytes}
    if ckpt.kept_usd_per_month is not None:
        numbers["checkpoint_kept_usd_per_month"] = ckpt.kept_usd_per_month
    if result.dataset_bytes is not None:
        numbers["dataset_bytes"] = result.dataset_bytes
    if result.dataset_samples is not None:
        numbers["dataset_samples"] = result.dataset_samples
    if result.epochs_per_month is not None:
        numbers["epochs_per_month"] = result.epochs_per_month
    for cost in result.tier_costs:
        numbers[f"{cost.tier}_usd_per_month"] = cost.total_usd
    return Section(status="ok", fidelity="model", numbers=numbers,
                   bottleneck=_bottleneck(result), recommendation=_recommendation(result),
                   reasoning=_reasoning(result), details=_details(result))


def _bottleneck(result: StoragePlan) -> str:
    b = result.budget
    if b.medium_units <= 1:
        return "none: one unit of the medium feeds the job"
    return f"read {b.bound_by}: {b.medium_units} units of {b.medium} needed"


def _recommendation(result: StoragePlan) -> str:
    b = result.budget
    cheapest = min(result.tier_costs, key=lambda c: c.total_usd, default=None)
    parts = [f"provision {b.medium_units} x {b.medium} for "
             f"{format_rate(b.read_bw_bytes_per_s)} of reads"]
    if cheapest is not None:
        parts.append(f"back the dataset with {cheapest.tier} "
                     f"(${cheapest.total_usd:,.0f}/month at this read rate)")
    parts.append(f"budget {format_bytes(result.checkpoint.kept_bytes)} for the checkpoints kept "
                 f"({result.checkpoint.retention})")
    return "; ".join(parts)


def _reasoning(result: StoragePlan) -> list[str]:
    b, s, ckpt = result.budget, result.starvation_one_unit, result.checkpoint
    lines = [f"{b.units_per_s:.4g} {b.unit}s/s (compute-only step) x {b.bytes_per_unit:.4g} "
             f"bytes ({result.bytes_per_unit_source}) = {format_rate(b.read_bw_bytes_per_s)}",
             f"one {b.medium} unit reads {format_rate(b.medium_read_bw_bytes_per_s)}: "
             f"GPU busy {s.gpu_busy_fraction:.1%} of each step when fed by one unit "
             "(decode costs not in the scenario, not counted)",
             f"checkpoint {format_bytes(ckpt.bytes)} every {format_duration(ckpt.every_s)} "
             f"({ckpt.interval_source}): {format_bytes(ckpt.written_bytes_per_month)} "
             "written per month"]
    if result.tier_costs:
        lines.append(f"tier costs read the dataset {result.epochs_per_month:.3g} times a month "
                     f"in {SHARD_BYTES / 1e6:g} MB objects")
    return lines


def _details(result: StoragePlan) -> dict[str, object]:
    return {"tier_costs": [{"tier": c.tier, "storage_usd": c.storage_usd,
                            "request_usd": c.request_usd, "retrieval_usd": c.retrieval_usd,
                            "total_usd": c.total_usd} for c in result.tier_costs],
            "units_for_bandwidth": result.budget.units_for_bandwidth,
            "units_for_requests": result.budget.units_for_requests,
            "starved_fraction_jittered_one_unit": result.starvation_one_unit.starved_fraction_jittered}


def reads(scenario: Scenario, result: StoragePlan | None) -> set[str]:
    """Scenario fields this section's result depends on."""
    storage = scenario.storage
    if result is None or storage is None:
        return set()
    return {f"storage.{name}" for name in ("dataset_bytes", "sample_bytes", "dataset_samples",
                                           "medium", "checkpoint_every_s")
            if getattr(storage, name) is not None}
