"""Building a scheduling policy from keyword options, with one-line errors.

Every policy module's factory is ``make(**options)``: it hands its policy class and the
options to :func:`build`, which rejects option names the class does not take (listing
the ones it does) before calling it; the class checks each value itself and raises
:class:`PolicyOptionError` naming the value and what is allowed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mlfleet.errors import InputError

T = TypeVar("T")


class PolicyOptionError(InputError):
    """A scheduling policy was given an option it does not know or a value out of range."""


def build(cls: Callable[..., T], policy: str, options: Mapping[str, Any]) -> T:
    """``cls(**options)``; an unknown option name raises :class:`PolicyOptionError`."""
    known = [name for name, p in inspect.signature(cls).parameters.items()
             if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise PolicyOptionError(f"policy {policy!r}: unknown option(s) {', '.join(unknown)}; "
                                f"known: {', '.join(known)}")
    return cls(**options)


def choice(policy: str, option: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else :class:`PolicyOptionError`."""
    if value not in allowed:
        raise PolicyOptionError(f"policy {policy!r}: {option}(={value!r}) is unknown; "
                                f"known: {', '.join(allowed)}")
    return value
