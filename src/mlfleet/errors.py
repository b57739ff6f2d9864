"""The one exception hierarchy of mlfleet.

Bad user input (scenario files, CLI arguments, data files) raises a subclass of
:class:`InputError`; its message quotes the bad value and says what is allowed.
The CLI prints the message on one line and exits with :attr:`MlfleetError.exit_code`.
Internal invariants use ``assert`` instead.
"""

from __future__ import annotations


class MlfleetError(Exception):
    """Base of every error mlfleet raises on purpose."""

    exit_code: int = 1
    details: tuple[str, ...] = ()
    """Independent errors this one sums up; the CLI prints one line for each."""


class InputError(MlfleetError):
    """Bad input from the user: the message names the value and what is allowed."""

    exit_code = 2


class UnitError(InputError):
    """A quantity string could not be parsed or has the wrong dimension."""


class CatalogError(InputError):
    """An unknown catalog name, or a malformed catalog data file."""


class ScenarioError(InputError):
    """A scenario file that does not validate."""


class CommInputError(InputError):
    """A communication-model argument out of range (ranks, size, bandwidth, algorithm name)."""


class ServingInputError(InputError):
    """A serving-model argument out of range (a rate, a count, a probability, a name)."""


class PolicyConfigError(InputError):
    """A serving policy was configured with a value outside its allowed range."""


class ConstraintViolation(MlfleetError):
    """A scenario SLO or assertion does not hold for the computed plan."""

    exit_code = 3


class RunError(MlfleetError):
    """A real run failed: a peer was lost, a timeout expired, a service is missing."""

    exit_code = 1


def one_line(message: str) -> str:
    """Collapse a message to a single line, as the CLI prints it."""
    return " ".join(str(message).split())


def error_lines(exc: MlfleetError) -> list[str]:
    """The lines the CLI prints for ``exc``: one per entry of ``details``, else its message."""
    return [one_line(d) for d in exc.details] or [one_line(str(exc))]
