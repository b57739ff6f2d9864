"""The training question's inputs over a sweep: one numpy column per scenario quantity.

:func:`training_inputs` reads, from each valid scenario of a grid, the numbers the plan's
training step reads (GPUs, batch, sequence length, assumed MFU, how much to train, the
cloud price, the parallelism degrees) into arrays, and labels each point with its
*family*: the workload, accelerator and precision that fix the roofline's constants.
The model then runs once per family on whole arrays (:mod:`mlfleet.sweep.training`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from mlfleet.catalog.types import Workload
from mlfleet.plan.communication import dp_degree
from mlfleet.plan.context import DEFAULT_MFU, units_total
from mlfleet.scenario import Scenario
from mlfleet.sweep.grid import SweepInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class Family:
    """What a group of points shares: the roofline's constants come from these names."""

    workload: str
    accelerator: str
    precision: str


@dataclass(frozen=True, kw_only=True)
class TrainingInputs:
    """Per-point inputs of the training question (NaN where a scenario leaves one out)."""

    families: tuple[Family, ...]
    family_index: IntArray
    """Index into ``families`` of each point."""
    gpus: FloatArray
    units_per_step: FloatArray
    """Tokens (token workloads) or samples per optimizer step."""
    seq_len: FloatArray
    """Tokens per sequence (NaN for sample workloads without one)."""
    mfu: FloatArray
    """Assumed compute efficiency: ``training.mfu`` or the plan's default."""
    units_total: FloatArray
    """Tokens or samples to train on (NaN when the scenario does not say)."""
    cloud_usd_per_gpu_h: FloatArray
    data: IntArray
    """Data-parallel degree (:func:`mlfleet.plan.communication.dp_degree`)."""
    shards: IntArray
    """Tensor x pipeline degree."""
    tensor: IntArray
    zero_stage: IntArray
    """The scenario's ZeRO stage, -1 where the planner picks it."""


TrainingRow = tuple[Family, int, float, float, float, float, float, int, int, int, int]
"""One point's inputs, in :class:`TrainingInputs` order (family first)."""


def training_inputs(scenarios: Sequence[Scenario]) -> TrainingInputs:
    """The arrays of :class:`TrainingInputs` for scenarios that all have a training job."""
    return inputs_from_rows([training_row(s) for s in scenarios])


def inputs_from_rows(rows: Sequence[TrainingRow]) -> TrainingInputs:
    """The columns of :func:`training_row`'s rows."""
    families: dict[Family, int] = {}
    index = [families.setdefault(row[0], len(families)) for row in rows]
    columns = list(zip(*rows, strict=True)) if rows else [()] * 11

    def floats(i: int) -> FloatArray:
        return np.asarray(columns[i], dtype=np.float64)

    def ints(i: int) -> IntArray:
        return np.asarray(columns[i], dtype=np.int64)

    return TrainingInputs(
        families=tuple(families), family_index=np.asarray(index, dtype=np.int64),
        gpus=floats(1), units_per_step=floats(2), seq_len=floats(3), mfu=floats(4),
        units_total=floats(5), cloud_usd_per_gpu_h=floats(6), data=ints(7), shards=ints(8),
        tensor=ints(9), zero_stage=ints(10))


def training_row(scenario: Scenario) -> TrainingRow:
    """The numbers of one scenario that the training question reads; SweepInputError
    without a training section."""
    training = scenario.training
    if training is None:
        raise SweepInputError("the training question needs a scenario with a training "
                              "section; use --sim serving for a serving scenario")
    family = Family(workload=scenario.workload, accelerator=scenario.cluster.accelerator,
                    precision=training.precision)
    unit = _unit(scenario.workload)
    per_step = training.batch_tokens if unit == "token" else training.batch_samples
    assert per_step is not None  # a token workload has seq_len (checked on load)
    total, _ = units_total(scenario, training, unit)
    data, shards = dp_degree(scenario)
    par = training.parallelism
    price = scenario.prices.cloud_usd_per_gpu_h
    return (family, scenario.cluster.gpus, float(per_step), float(training.seq_len or np.nan),
            DEFAULT_MFU if training.mfu is None else training.mfu,
            np.nan if total is None else total, np.nan if price is None else price,
            data, shards, (par.tensor or 1) if par else 1,
            -1 if training.zero_stage is None else training.zero_stage)


def _unit(workload: str) -> str:
    return workload_of_name(workload).unit


@cache
def workload_of_name(name: str) -> Workload:
    """The catalog workload, read once (catalog lookups would dominate the extraction)."""
    return Workload.from_name(name)
