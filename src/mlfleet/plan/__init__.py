"""``mlfleet plan``: compose every chapter that exists into a full-stack plan.

A plan is a JSON-ready dict with one top-level key per chapter (see
:data:`CHAPTERS`), plus ``scenario`` (what was planned) and ``checks`` (the
scenario's constraints, each with its observed value and whether it holds).
Each chapter section has a ``status``: ``"ok"`` with its numbers, or
``"not yet implemented"`` with no numbers at all — never invented ones.
The keys are documented in ``docs/plan.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlfleet.plan.section import Section, not_implemented

CHAPTERS: tuple[str, ...] = (
    "infrastructure", "storage", "communication", "reliability", "serving", "operations",
)
"""The six chapters of the spec, in book order; each is a top-level key of a plan."""

SectionBuilder = Callable[[Any], Section]


def _builders() -> dict[str, SectionBuilder]:
    from mlfleet.plan import communication, infrastructure, serving

    return {
        "infrastructure": infrastructure.build,
        "storage": lambda s: not_implemented("storage", "the storage chapter"),
        "communication": communication.build,
        "reliability": lambda s: not_implemented("reliability", "the fault-tolerance chapter"),
        "serving": serving.build,
        "operations": lambda s: not_implemented("operations", "the ML-operations chapter"),
    }


def build_plan(scenario: Any) -> dict[str, Any]:
    """The full plan for a validated scenario (JSON-ready)."""
    from mlfleet.plan.checks import evaluate_checks
    from mlfleet.plan.context import describe_scenario

    builders = _builders()
    sections = {chapter: builders[chapter](scenario) for chapter in CHAPTERS}
    plan: dict[str, Any] = {"scenario": describe_scenario(scenario)}
    plan.update({chapter: section.as_dict() for chapter, section in sections.items()})
    plan["checks"] = evaluate_checks(scenario, plan)
    return plan


def violated(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks of a plan that do not hold."""
    return [c for c in plan.get("checks", []) if c.get("holds") is False]
