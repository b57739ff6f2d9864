"""Which scenario fields a plan honours, and the ones it lists as unused.

A field the file sets that no chapter reads is never dropped silently: the plan lists
it under ``unused_fields`` and ``mlfleet plan`` prints one warning line per field on
stderr. Each chapter reports the fields its result depends on (its ``reads``); the
checks read the constraints and SLOs they evaluate.
"""

from __future__ import annotations

from mlfleet.scenario import Scenario
from mlfleet.scenario.fields import fields_given


def check_reads(scenario: Scenario) -> set[str]:
    """Constraint and SLO fields: each becomes a check in the plan."""
    out = {f"constraints.{name}" for name in type(scenario.constraints).model_fields}
    out |= {f"serving.slo.{name}" for name in ("p50_s", "p99_s", "ttft_p99_s", "tpot_p99_s")}
    return out


DECLARED_STATE = ("deployment.",)
"""Sections that declare a real deployment's state rather than plan it: `mlfleet serve
--scenario` applies them and `mlfleet ops diff` checks them, so they are never unused."""


def unused_fields(scenario: Scenario, read: set[str]) -> tuple[str, ...]:
    """Fields the scenario sets that nothing in the plan read, in schema order."""
    return tuple(path for path in fields_given(scenario)
                 if path not in read and not path.startswith(DECLARED_STATE))


def warning(path: str) -> str:
    """The stderr line for an unused field."""
    return f"`{path}`: not used by any chapter yet"
