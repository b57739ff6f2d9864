"""Checks for the arguments of ``mlfleet ops platform``: bounded so that a sweep stays fast."""

from __future__ import annotations

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.errors import InputError

MAX_MODELS = 100_000
"""Largest portfolio a sweep accepts (Meta reports hundreds of production models)."""
MAX_TEAMS = 10_000
MAX_PEOPLE = 100_000
"""Largest team a command accepts (paths stay exact integers a JSON reader keeps)."""
MAX_SIMULATED_MODEL_WEEKS = 1_000_000
"""Largest simulation (models x weeks): a few seconds on one core."""


def _counts(text: str, option: str, maximum: int) -> list[int]:
    try:
        values = [int(t) for t in text.split(",")]
    except ValueError:
        raise InputError(f"{option} {text!r} must be a comma-separated list of integers from 1 "
                         f"to {maximum:,}") from None
    for value in values:
        if not 1 <= value <= maximum:
            raise InputError(f"{option}(={value}) must be an integer from 1 to {maximum:,}")
    return values


def model_counts(text: str) -> list[int]:
    """``'1,10,100'`` -> [1, 10, 100]; InputError unless each is in [1, MAX_MODELS]."""
    return _counts(text, "--models", MAX_MODELS)


def team_counts(text: str) -> list[int]:
    """``'2,5'`` -> [2, 5]; InputError unless each is in [1, MAX_TEAMS]."""
    return _counts(text, "--product-teams", MAX_TEAMS)


def people(option: str, value: int) -> int:
    """A head count in [1, MAX_PEOPLE]."""
    positive_int(option, value)
    if value > MAX_PEOPLE:
        raise InputError(f"{option}(={value}) must be an integer from 1 to {MAX_PEOPLE:,}")
    return value


def members(value: int) -> int:
    """Models per ensemble: at least 2."""
    return positive_int("--ensemble-members", value, minimum=2)


def share(option: str, value: float) -> float:
    return fraction(option, value)


def weeks(value: float, largest_portfolio: int) -> float:
    """Weeks to simulate (0: none); InputError beyond MAX_SIMULATED_MODEL_WEEKS."""
    if value == 0:
        return 0.0
    positive("--simulate-weeks", value)
    if value * largest_portfolio > MAX_SIMULATED_MODEL_WEEKS:
        raise InputError(f"--simulate-weeks(={value:g}) x --models ({largest_portfolio}) must be "
                         f"at most {MAX_SIMULATED_MODEL_WEEKS:,} model-weeks")
    return value


def usd(option: str, text: str) -> float:
    from mlfleet.units import parse_quantity

    return positive(option, parse_quantity(text, "usd"))
