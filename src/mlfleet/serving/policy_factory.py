"""Build a serving policy (load balancer, admission) by name from a registry table.

The registries (:mod:`mlfleet.serving.lb.registry`, :mod:`mlfleet.serving.admission.registry`)
map names to constructors that take keyword-only parameters; this turns an unknown name
or an unexpected parameter into a one-line :class:`~mlfleet.errors.PolicyConfigError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mlfleet.errors import PolicyConfigError

PolicyT = TypeVar("PolicyT")


def build_policy(table: Mapping[str, Callable[..., PolicyT]], kind: str, name: str,
                 params: Mapping[str, Any]) -> PolicyT:
    """``table[name](**params)`` with one-line errors for unknown names and parameters."""
    if name not in table:
        raise PolicyConfigError(f"{kind} {name!r} is unknown; known: {', '.join(sorted(table))}")
    try:
        return table[name](**params)
    except TypeError as exc:  # an unexpected or missing keyword
        raise PolicyConfigError(f"{kind} {name!r}: bad parameters {sorted(params)} ({exc})") \
            from exc
