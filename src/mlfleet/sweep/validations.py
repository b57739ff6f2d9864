"""Validation provider of the sweep (``mlfleet validate``): the vectorised training question
against the plan's own per-point functions (an exact reference).

A 24-point grid over Llama 3 405B pretraining (GPU counts x ZeRO stages x precisions) is
answered once by :func:`mlfleet.sweep.run.sweep`; each point is then planned alone
(:func:`~mlfleet.plan.context.training_estimate`, :func:`~mlfleet.plan.infrastructure.plan`
without exposed communication, :func:`~mlfleet.plan.training_memory.training_memory`). Each
check reports the grid's worst point for one metric; the sweep calls the same functions in
the same order, so the bound is 1e-9 and the observed error is 0.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from mlfleet.plan import communication, infrastructure
from mlfleet.plan.context import training_estimate
from mlfleet.plan.training_memory import training_memory
from mlfleet.scenario import Scenario, default_scenario_path
from mlfleet.sweep.combinations import base_document, combinations
from mlfleet.sweep.grid import parse_grid
from mlfleet.sweep.run import sweep
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="infra", reference_kind="exact", bound=1e-9,
                 model="mlfleet.sweep.run.sweep (vectorised)")
GRID = ("cluster.gpus=2048:16384:x2", "training.zero_stage=0,1,3", "training.precision=bf16,fp8")
METRICS = {"step_compute_s": "roofline step time (s)",
           "training_compute_s": "training time without exposed communication (s)",
           "memory_bytes_per_gpu": "memory per GPU (bytes)"}


def provide(ctx: Context) -> list[Check]:
    """One check per metric of :data:`METRICS`: the worst point of the grid."""
    scenario_path: Path = default_scenario_path()
    grid = parse_grid(list(GRID))
    table = sweep(scenario_path, grid).table
    scenarios = combinations(base_document(scenario_path), grid, lambda s: s).records
    planned = [_planned(s) if s is not None else None for s in scenarios]
    checks = []
    for metric, quantity in METRICS.items():
        column = table.metrics[metric]
        pairs = [(float(column[i]), ref[metric]) for i, ref in enumerate(planned) if ref]
        predicted, reference = max(pairs, key=lambda p: abs(p[0] - p[1]) / abs(p[1]))
        checks.append(_check(
            id=f"sweep.training.{metric.replace('_', '-')}", quantity=f"{quantity}, worst of "
            f"{len(pairs)} grid points", reference="the plan's per-point functions (exact)",
            reference_value=reference, predicted=predicted))
    return checks


def _planned(scenario: Scenario) -> dict[str, float]:
    est = training_estimate(scenario)
    assert est is not None
    memory = training_memory(scenario, communication.plan(scenario, est))
    train = infrastructure.plan(scenario, est, None, memory).training
    assert train is not None and memory is not None and train.training_time_s is not None
    return {"step_compute_s": train.step_compute_s,
            "training_compute_s": train.training_time_s,
            "memory_bytes_per_gpu": memory.need_bytes}
