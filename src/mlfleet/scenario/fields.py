"""The fields of the scenario format, and the ones a scenario file sets, as dotted paths.

``mlfleet plan`` compares the fields a file sets with the fields its chapters read and
lists the rest under ``unused_fields``; the field-coverage test walks :func:`field_paths`.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from mlfleet import catalog
from mlfleet.scenario.specs import Scenario, cluster_defaults


def field_paths(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """Every leaf field of the scenario format as a dotted path (``storage.dataset_bytes``),
    in schema order; a section (a nested model) contributes its fields, not itself."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        nested = _nested_model(info.annotation)
        out.extend(field_paths(nested, f"{prefix}{name}.") if nested else [f"{prefix}{name}"])
    return out


def fields_given(scenario: Scenario) -> list[str]:
    """The leaf fields the scenario's file sets, as dotted paths. Cluster fields filled in
    from the named catalog cluster (equal to its value) count as not given."""
    out = _given(scenario, "")
    if scenario.cluster.name is not None:
        defaults = cluster_defaults(catalog.get(scenario.cluster.name, kind="cluster"))
        out = [path for path in out if not (
            path.startswith("cluster.") and path != "cluster.name"
            and defaults.get(path.removeprefix("cluster.")) == getattr(
                scenario.cluster, path.removeprefix("cluster.")))]
    return out


def _given(model: BaseModel, prefix: str) -> list[str]:
    out: list[str] = []
    for name in type(model).model_fields:
        if name not in model.model_fields_set:
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out.extend(_given(value, f"{prefix}{name}."))
        elif value is not None:
            out.append(f"{prefix}{name}")
    return out


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``X``, ``X | None`` or ``Annotated[X | None, ...]``."""
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
