"""A full-stack plan: every chapter's typed result, its section, the checks, unused fields.

:func:`build_plan` computes each shared result once and passes it on explicitly: the
training step (:func:`~mlfleet.plan.context.training_estimate`) feeds communication and
infrastructure, and communication's exposed time feeds the infrastructure step time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mlfleet.plan import (
    communication,
    infrastructure,
    infrastructure_section,
    operations,
    operations_section,
    reliability,
    serving,
    storage,
)
from mlfleet.plan.checks import Check, Results, evaluate_checks
from mlfleet.plan.context import describe_scenario, training_estimate
from mlfleet.plan.fields import check_reads, unused_fields
from mlfleet.plan.section import Section
from mlfleet.plan.training_memory import training_memory
from mlfleet.scenario import Scenario

CHAPTERS: tuple[str, ...] = (
    "infrastructure", "storage", "communication", "reliability", "serving", "operations",
)
"""The six chapters of the spec, in book order; each is a top-level key of a plan."""


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What ``mlfleet plan`` computes for one scenario."""

    scenario: dict[str, object]
    """What was planned, in canonical names."""
    results: Results
    """The typed chapter results."""
    sections: dict[str, Section]
    """One section per chapter of :data:`CHAPTERS`, for display and JSON."""
    checks: tuple[Check, ...]
    unused_fields: tuple[str, ...]
    """Fields the scenario sets that no chapter reads yet."""

    def violated(self) -> list[Check]:
        """The checks that do not hold."""
        return [c for c in self.checks if c.holds is False]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``scenario``, one key per chapter, ``checks``, ``unused_fields``."""
        out: dict[str, Any] = {"scenario": self.scenario}
        out.update({chapter: self.sections[chapter].as_dict() for chapter in CHAPTERS})
        out["checks"] = [asdict(c) for c in self.checks]
        out["unused_fields"] = list(self.unused_fields)
        return out


def build_plan(scenario: Scenario) -> Plan:
    """The full plan for a validated scenario."""
    estimate = training_estimate(scenario)
    comm = communication.plan(scenario, estimate)
    infra = infrastructure.plan(scenario, estimate,
                                None if comm is None else comm.exposed_comm_s,
                                training_memory(scenario, comm))
    serve = serving.plan(scenario)
    ops = operations.plan(scenario, fleet_usd_per_year=None if serve is None
                          else serve.cloud_cost_usd_per_year)
    reliable = reliability.plan(scenario, estimate, step_time_s=None if infra.training is None
                                else infra.training.step_time_s)
    stored = storage.plan(scenario, estimate, reliability=reliable)
    sections = {
        "infrastructure": infrastructure_section.section(scenario, infra, estimate),
        "communication": communication.section(comm),
        "serving": serving.section(serve),
        "reliability": reliability.section(reliable),
        "storage": storage.section(stored),
        "operations": operations_section.section(ops),
    }
    results = Results(infrastructure=infra, communication=comm, serving=serve,
                      reliability=reliable, storage=stored)
    read = (infrastructure.reads(scenario, infra, estimate) | communication.reads(scenario, comm)
            | serving.reads(scenario, serve) | reliability.reads(scenario, reliable)
            | storage.reads(scenario, stored) | operations.reads(scenario, ops)
            | check_reads(scenario))
    return Plan(scenario=describe_scenario(scenario), results=results, sections=sections,
                checks=evaluate_checks(scenario, results),
                unused_fields=unused_fields(scenario, read))
