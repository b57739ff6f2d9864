"""Drift: the fields where a running server's configuration differs from the declared one.

A pure comparison of two path -> value mappings (:mod:`mlfleet.ops.declare.mapping`
builds both). Numbers compare equal within a relative 1e-9, so a declared ``4ms`` and a
reported ``0.004`` agree; everything else compares exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class FieldDrift:
    """One declared field whose running value differs."""

    field: str
    """Dotted path, as in the scenario's ``deployment:`` section (``rank.max_batch_size``)."""
    declared: Any
    """The declared value (SI units)."""
    running: Any
    """What the server reports (None: it does not report the field)."""

    def describe(self) -> str:
        """``rank.max_batch_size: declared 16, running 8``."""
        return f"{self.field}: declared {_show(self.declared)}, running {_show(self.running)}"


def _show(value: Any) -> str:
    if value is None:
        return "not reported"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def same_value(declared: Any, running: Any) -> bool:
    """Equal, numbers within a relative 1e-9 (a bool never equals a number)."""
    if isinstance(declared, bool) or isinstance(running, bool):
        return declared is running
    if isinstance(declared, int | float) and isinstance(running, int | float):
        return math.isclose(declared, running, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(declared, Mapping) and isinstance(running, Mapping):
        return declared.keys() == running.keys() and all(
            same_value(declared[key], running[key]) for key in declared)
    return bool(declared == running)


def find_drift(declared: Mapping[str, Any], running: Mapping[str, Any]) -> tuple[FieldDrift, ...]:
    """Every declared field whose running value differs, in declaration order."""
    return tuple(FieldDrift(field=path, declared=value, running=running.get(path))
                 for path, value in declared.items() if not same_value(value, running.get(path)))
