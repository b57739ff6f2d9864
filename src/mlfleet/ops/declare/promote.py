"""Environment promotion (dev -> staging -> prod) behind validation gates.

Promoting FROM onto TO ships FROM's declared deployment (the server configuration and
model version that were tested in FROM) to the next environment, and keeps TO's
environment-specific values. Every field where the two scenarios differ falls in one of
three classes:

* an *allowed* field (:data:`DEFAULT_ALLOWED` plus ``--allow``): environment-specific,
  TO's value is kept (replicas, traffic);
* a field of the ``deployment:`` section: the change being promoted, FROM's value wins;
* anything else (workload, cluster, SLOs, constraints ...): the environments disagree
  where they should not, and the difference *blocks* the promotion.

The gates, all evaluated so that every failure is named at once: both scenarios
validate (on load), no blocking difference, the promoted scenario validates, and
``mlfleet plan`` of it holds every constraint and SLO.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from mlfleet.errors import InputError
from mlfleet.scenario import Scenario, parse_scenario

DEFAULT_ALLOWED: tuple[str, ...] = ("name", "description", "deployment.replicas", "serving.qps",
                                    "serving.peak_to_mean")
"""Fields every environment may set for itself."""
PROMOTED_SECTION = "deployment"
"""The section whose differences are the change being promoted."""
_ABSENT = "<absent>"


class UnknownFieldError(InputError):
    """An ``--allow`` path that names no scenario field."""


@dataclass(frozen=True, kw_only=True)
class FieldChange:
    """One field where FROM and TO differ (``<absent>``: not set on that side)."""

    field: str
    source: Any
    """FROM's value."""
    target: Any
    """TO's value."""

    def describe(self) -> str:
        """``deployment.rank.max_batch_size: 16 (from) vs 8 (to)``."""
        return f"{self.field}: {self.source!r} (from) vs {self.target!r} (to)"


@dataclass(frozen=True, kw_only=True)
class Promotion:
    """The outcome of the gates, and the promoted scenario when they pass."""

    carried: tuple[FieldChange, ...]
    """Deployment fields promoted: FROM's value replaces TO's."""
    kept: tuple[FieldChange, ...]
    """Allowed, environment-specific fields: TO's value kept."""
    blocked: tuple[FieldChange, ...]
    """Differences outside the deployment that are not allowed."""
    failed_checks: tuple[str, ...]
    """Plan checks of the promoted scenario that do not hold, or why it does not validate."""
    promoted: dict[str, Any] | None
    """The promoted scenario in canonical form (SI units), None when a gate failed before
    it could be built."""

    @property
    def passed(self) -> bool:
        """Every gate passed."""
        return self.promoted is not None and not self.blocked and not self.failed_checks


def canonical(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain data: every field, SI units, canonical names, no nulls."""
    return scenario.model_dump(mode="json", exclude_none=True)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are leaves."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def unflatten(leaves: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten`."""
    tree: dict[str, Any] = {}
    for path, value in leaves.items():
        *parents, last = path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


def check_field_path(path: str) -> str:
    """``path`` if it names a scenario field (or a key under a mapping field), else
    :class:`UnknownFieldError` listing the fields allowed at the first unknown part."""
    model: type[BaseModel] | None = Scenario
    for depth, part in enumerate(path.split(".")):
        if model is None:  # under a mapping field (ops.teams.x): any key
            continue
        if part not in model.model_fields:
            where = ".".join(path.split(".")[:depth]) or "a scenario"
            known = ", ".join(sorted(model.model_fields))
            raise UnknownFieldError(f"--allow(={path!r}) names no field of {where}; "
                                    f"known: {known}")
        model = _section_model(model.model_fields[part].annotation)
    return path


def _section_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def classify(source: Mapping[str, Any], target: Mapping[str, Any], allowed: Sequence[str],
             ) -> tuple[tuple[FieldChange, ...], tuple[FieldChange, ...], tuple[FieldChange, ...]]:
    """(carried, kept, blocked) differences between two flattened scenarios."""
    carried: list[FieldChange] = []
    kept: list[FieldChange] = []
    blocked: list[FieldChange] = []
    for path in sorted(set(source) | set(target)):
        a, b = source.get(path, _ABSENT), target.get(path, _ABSENT)
        if a == b:
            continue
        change = FieldChange(field=path, source=a, target=b)
        if _is_under(path, allowed):
            kept.append(change)
        elif _is_under(path, (PROMOTED_SECTION,)):
            carried.append(change)
        else:
            blocked.append(change)
    return tuple(carried), tuple(kept), tuple(blocked)


def promote(source: Scenario, target: Scenario, *, allow: Sequence[str] = ()) -> Promotion:
    """Run the gates for promoting ``source`` (FROM) onto ``target`` (TO)."""
    allowed = (*DEFAULT_ALLOWED, *(check_field_path(p) for p in allow))
    flat_source, flat_target = flatten(canonical(source)), flatten(canonical(target))
    carried, kept, blocked = classify(flat_source, flat_target, allowed)
    leaves = dict(flat_target)
    for change in carried:
        leaves.pop(change.field, None)
        if change.source != _ABSENT:
            leaves[change.field] = change.source
    try:
        promoted = parse_scenario(unflatten(leaves), source="promoted scenario")
    except InputError as exc:
        return Promotion(carried=carried, kept=kept, blocked=blocked,
                         failed_checks=(str(exc),), promoted=None)
    return Promotion(carried=carried, kept=kept, blocked=blocked,
                     failed_checks=plan_failures(promoted), promoted=canonical(promoted))


def plan_failures(scenario: Scenario) -> tuple[str, ...]:
    """The checks of ``mlfleet plan`` that do not hold, as ``mlfleet plan`` names them."""
    from mlfleet.plan import build_plan

    return tuple(f"{c.name} ({c.observed_text} vs {c.limit_text})"
                 for c in build_plan(scenario).violated())
