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
    """``cls(**options)``; an unknown option name raises :class:`PolicyOptionError`.

    A value given as text (``"600"``, ``"true"``, from a command line) is converted to the
    type of the option's default (number or boolean) first.
    """
    params = {name: p for name, p in inspect.signature(cls).parameters.items()
              if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise PolicyOptionError(f"policy {policy!r}: unknown option(s) {', '.join(unknown)}; "
                                f"known: {', '.join(params)}")
    return cls(**{name: from_text(policy, name, value, params[name].default)
                  for name, value in options.items()})


BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def from_text(policy: str, option: str, value: Any, default: Any) -> Any:
    """``value`` converted to the type of ``default`` when it is text and the default is
    a number or a boolean; otherwise unchanged."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    if isinstance(default, bool):
        if value.strip().lower() not in BOOLEANS:
            raise PolicyOptionError(f"policy {policy!r}: {option}(={value!r}) must be true or "
                                    "false")
        return BOOLEANS[value.strip().lower()]
    if isinstance(default, int | float):
        try:
            return float(value)
        except ValueError:
            raise PolicyOptionError(f"policy {policy!r}: {option}(={value!r}) must be a "
                                    "number") from None
    return value


def choice(policy: str, option: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else :class:`PolicyOptionError`."""
    if value not in allowed:
        raise PolicyOptionError(f"policy {policy!r}: {option}(={value!r}) is unknown; "
                                f"known: {', '.join(allowed)}")
    return value
