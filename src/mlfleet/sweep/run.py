"""One sweep: the grid's scenarios, the question's metrics on the valid ones, the table.

:func:`sweep` is the Python entry point behind ``mlfleet sweep``: it validates every
point (:mod:`mlfleet.sweep.combinations`), answers the question — the closed-form
training model vectorised in this process (:mod:`mlfleet.sweep.training`), or a
simulation per point on Ray (:mod:`mlfleet.sweep.simulate`) — and returns a
:class:`~mlfleet.sweep.parquet.SweepTable` with one row per grid point.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.scenario import Scenario
from mlfleet.sweep.combinations import base_document, combinations
from mlfleet.sweep.grid import Grid, SweepInputError
from mlfleet.sweep.parquet import SweepTable
from mlfleet.sweep.simulate import SIM_METRICS, SimOptions, sim_point, simulate
from mlfleet.sweep.training import TRAINING_METRICS, training_metrics
from mlfleet.sweep.training_inputs import inputs_from_rows, training_row

QUESTIONS = ("training", "serving", "cluster")
"""What a sweep can answer: the closed-form training model, or a simulator per point."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class SweepRun:
    """A finished sweep: its table and where the time went."""

    table: SweepTable
    validate_s: float
    """Wall time spent validating the grid's scenarios."""
    evaluate_s: float
    """Wall time of the model (vectorised) or the simulations (on Ray)."""


def sweep(scenario: str | os.PathLike[str], grid: Grid, *, question: str = "training",
          metrics: Sequence[str] = (), sim: SimOptions | None = None,
          progress: Progress | None = None) -> SweepRun:
    """Answer ``question`` at every point of ``grid`` over the ``scenario`` file.

    ``metrics`` keeps only those metric columns (all when empty). Raises SweepInputError
    (unknown question or metric, no valid point, no training section), ScenarioError for
    a bad base scenario, RunError when a simulation point fails.
    """
    if question not in QUESTIONS:
        raise SweepInputError(f"question {question!r} is unknown; known: {', '.join(QUESTIONS)}")
    units = _units(question)
    chosen = check_metrics(metrics, units)
    started = time.perf_counter()
    options = sim or SimOptions()
    combos = combinations(base_document(scenario), grid, _recorder(question, options),
                          progress=progress)
    validated = time.perf_counter()
    valid = np.flatnonzero([r is not None for r in combos.records])
    values = _answer(question, combos.valid, options, progress, grid.size)
    table = SweepTable(
        scenario=str(scenario), question=question, fields=grid.fields,
        field_values=tuple(zip(*grid.points(), strict=True)),
        metrics={name: scatter(values[name], valid, grid.size) for name in chosen},
        units={name: units[name] for name in chosen}, invalid_reason=combos.invalid_reason,
        derived=combos.derived)
    return SweepRun(table=table, validate_s=validated - started,
                    evaluate_s=time.perf_counter() - validated)


def check_metrics(metrics: Sequence[str], units: Mapping[str, str]) -> list[str]:
    """The metric columns to keep, in the question's order; SweepInputError for unknown ones."""
    unknown = [m for m in metrics if m not in units]
    if unknown:
        raise SweepInputError(f"--metric {unknown[0]!r} is unknown; known: {', '.join(units)}")
    return [name for name in units if not metrics or name in metrics]


def _units(question: str) -> Mapping[str, str]:
    if question == "training":
        return TRAINING_METRICS
    return {name: sim_unit(name) for name in SIM_METRICS[question]}


def sim_unit(metric: str) -> str:
    """The unit a simulator metric's name carries (``ttft_p99_s`` → s)."""
    if metric.endswith("_per_s"):
        return "1/s"
    if metric.endswith("_s"):
        return "s"
    return "fraction" if metric.startswith(("utili", "gpu_utili")) else "count"


def _recorder(question: str, options: SimOptions) -> Callable[[Scenario], Any]:
    """What the sweep keeps of each valid scenario: the model's inputs or a simulator point."""
    if question == "training":
        return training_row
    return lambda scenario: sim_point(question, scenario, options)


def _answer(question: str, records: list[Any], options: SimOptions,
            progress: Progress | None, total: int) -> Mapping[str, Any]:
    if question != "training":
        done = None if progress is None else (lambda n: progress(n, len(records)))
        return simulate(question, records, options, progress=done)
    result = training_metrics(inputs_from_rows(records))
    if progress is not None:
        progress(total, total)
    return result


def scatter(values: Sequence[Any] | npt.NDArray[np.generic], at: npt.NDArray[np.intp],
            size: int) -> npt.NDArray[np.generic] | list[Any]:
    """``values`` of the valid points placed at ``at`` in a column of ``size`` points:
    NaN (floats) or None (anything else) at the invalid ones."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        out = np.full(size, np.nan)
        out[at] = array
        return out
    column: list[Any] = [None] * size
    for index, value in zip(at.tolist(), array.tolist(), strict=True):
        column[index] = value
    return column
