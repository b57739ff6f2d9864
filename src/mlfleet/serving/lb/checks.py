"""Validation shared by the serving policies (load balancing, admission, deployment).

Every bad configuration value raises :class:`PolicyConfigError`, an
:class:`~mlfleet.errors.InputError` whose one-line message quotes the value and says
what is allowed, e.g. ``epsilon(=0) must be > 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from mlfleet.errors import PolicyConfigError


def positive(name: str, value: float) -> float:
    """``value`` if it is a finite number > 0, else :class:`PolicyConfigError`."""
    if not _finite(value) or value <= 0:
        raise PolicyConfigError(f"{name}(={value!r}) must be a finite number > 0")
    return float(value)


def non_negative(name: str, value: float) -> float:
    """``value`` if it is a finite number >= 0, else :class:`PolicyConfigError`."""
    if not _finite(value) or value < 0:
        raise PolicyConfigError(f"{name}(={value!r}) must be a finite number >= 0")
    return float(value)


def positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    """``value`` if it is an integer >= ``minimum``, else :class:`PolicyConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyConfigError(f"{name}(={value!r}) must be an integer >= {minimum}")
    return value


def fraction(name: str, value: float, *, open_low: bool = False) -> float:
    """``value`` if it lies in [0, 1] ((0, 1] with ``open_low``), else an error."""
    low_ok = value > 0 if open_low else value >= 0
    if not _finite(value) or not low_ok or value > 1:
        allowed = "(0, 1]" if open_low else "[0, 1]"
        raise PolicyConfigError(f"{name}(={value!r}) must be a fraction in {allowed}")
    return float(value)


def one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed``, else an error listing them."""
    known = tuple(allowed)
    if value not in known:
        raise PolicyConfigError(f"{name}(={value!r}) is unknown; known: {', '.join(known)}")
    return value


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def build_policy(table: dict[str, Callable[..., Any]], kind: str, name: str,
                 params: dict[str, Any]) -> Any:
    """``table[name](**params)`` with one-line errors for unknown names and parameters."""
    if name not in table:
        raise PolicyConfigError(f"{kind} {name!r} is unknown; known: {', '.join(sorted(table))}")
    try:
        return table[name](**params)
    except TypeError as exc:  # an unexpected or missing keyword
        raise PolicyConfigError(f"{kind} {name!r}: bad parameters {sorted(params)} ({exc})") \
            from exc
