"""Every grid point as a whole scenario: the base file with the point's fields set, validated.

A point whose combination the scenario rules refuse (``training.parallelism`` that does
not multiply to ``cluster.gpus``, a batch that the data-parallel degree does not divide)
is kept, not dropped: its ``invalid_reason`` is the scenario's one-line error and its
metrics are empty, so the sweep's table shows which part of the grid is infeasible and
why. A grid with no valid point at all is an input error.

When the grid sets ``cluster.gpus`` but not ``training.parallelism.data`` and the
scenario fixes a data degree, the data-parallel degree follows the GPU count:
``data = cluster.gpus / (tensor x pipeline)`` with the point's tensor and pipeline degrees
(swept or the scenario's, 1 when absent): scaling out adds replicas, the model's split
stays. That value is a *derived* field, written as its own column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel

from mlfleet.errors import ScenarioError
from mlfleet.scenario import Scenario, bundled_scenarios, load_scenario, parse_scenario
from mlfleet.sweep.grid import Grid, SweepInputError

R = TypeVar("R")

PROGRESS_EVERY = 256
"""Points validated between two progress updates."""
DERIVED_DATA = "training.parallelism.data"
"""The field derived from ``cluster.gpus`` (module docstring)."""


@dataclass(frozen=True, kw_only=True)
class Combinations(Generic[R]):
    """The grid's points: ``records[i]`` is what the sweep kept of point ``i``'s scenario
    (a row of model inputs, a simulator point), None where the point is invalid."""

    records: tuple[R | None, ...]
    invalid_reason: tuple[str | None, ...]
    """The scenario error of each invalid point (None where the point is valid)."""
    derived: dict[str, tuple[Any, ...]]
    """Fields the sweep set from others (module docstring), one value per point."""

    @property
    def valid(self) -> list[R]:
        return [r for r in self.records if r is not None]

    @property
    def invalid_count(self) -> int:
        return sum(reason is not None for reason in self.invalid_reason)


def base_document(source: str | os.PathLike[str]) -> dict[str, Any]:
    """The scenario's YAML as a mapping, each value already in its validated form
    (``16Mi`` → 16777216, ``H100`` → ``H100-SXM``) so that validating a point does not
    parse the base's units again; ScenarioError if the scenario does not load."""
    scenario = load_scenario(source)  # one-line errors with FILE:LINE for a bad base
    path = Path(source)
    if not path.is_file():
        path = {p.stem: p for p in bundled_scenarios()}[str(source)]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)  # load_scenario accepted it
    return _validated_values(document, scenario)


def _validated_values(document: dict[str, Any], model: BaseModel) -> dict[str, Any]:
    """``document`` with each leaf it sets replaced by ``model``'s value for it."""
    out: dict[str, Any] = {}
    for key, raw in document.items():
        value = getattr(model, key, None) if key in type(model).model_fields else None
        if isinstance(raw, dict) and isinstance(value, BaseModel):
            out[key] = _validated_values(raw, value)
        elif isinstance(value, BaseModel) or value is None or isinstance(raw, dict | list):
            out[key] = raw  # a section written in short form, or a value left as given
        else:
            out[key] = value
    return out


def with_values(document: dict[str, Any], fields: Sequence[str],
                values: Iterable[Any]) -> dict[str, Any]:
    """A copy of ``document`` with each dotted field set (sections created as needed); only
    the sections on the way are copied (the values are immutable scalars)."""
    out = dict(document)
    for field, value in zip(fields, values, strict=True):
        *sections, leaf = field.split(".")
        node = out
        for name in sections:
            child = node.get(name)
            if isinstance(child, str):  # `cluster: NAME` is short for {name: NAME}
                child = {"name": child}
            node[name] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        node[leaf] = value
    return out


def combinations(document: dict[str, Any], grid: Grid, record: Callable[[Scenario], R], *,
                 progress: Callable[[int, int], None] | None = None) -> Combinations[R]:
    """Validate every point of ``grid`` over ``document`` and keep ``record(scenario)`` of
    each valid one (a scenario is several kB: a million of them would not fit in memory).
    SweepInputError if no point is valid; ``record`` may raise it too."""
    records: list[R | None] = []
    reasons: list[str | None] = []
    derive = _derives_data(document, grid.fields)
    derived: list[Any] = []
    for index, values in enumerate(grid.points()):
        fields, point = grid.fields, tuple(values)
        if derive:
            derived.append(_data_degree(document, fields, point))
            fields, point = (*fields, DERIVED_DATA), (*point, derived[-1])
        try:
            scenario = parse_scenario(with_values(document, fields, point))
        except ScenarioError as exc:
            records.append(None)
            reasons.append(str(exc))
        else:
            records.append(record(scenario))
            reasons.append(None)
        if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1, grid.size)
    if all(r is None for r in records):
        raise SweepInputError(f"no valid design point: all {grid.size:,} combinations are "
                              f"invalid scenarios, e.g. {reasons[0]}")
    return Combinations(records=tuple(records), invalid_reason=tuple(reasons),
                        derived={DERIVED_DATA: tuple(derived)} if derive else {})


def _derives_data(document: dict[str, Any], fields: Sequence[str]) -> bool:
    """Whether the data degree follows cluster.gpus (module docstring)."""
    training = document.get("training")
    par = training.get("parallelism") if isinstance(training, dict) else None
    return ("cluster.gpus" in fields and DERIVED_DATA not in fields and isinstance(par, dict)
            and par.get("data") is not None)


def _data_degree(document: dict[str, Any], fields: Sequence[str], point: Sequence[Any]) -> Any:
    """cluster.gpus / (tensor x pipeline) at this point (floor: a remainder fails validation)."""
    par = document["training"]["parallelism"]
    values = dict(zip(fields, point, strict=True))
    degree = [values.get(f"training.parallelism.{k}", par.get(k)) or 1
              for k in ("tensor", "pipeline")]
    return max(1, values["cluster.gpus"] // (degree[0] * degree[1]))
