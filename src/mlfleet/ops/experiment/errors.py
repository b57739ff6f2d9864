"""The error every experimentation command raises for bad input (exit 2, one line)."""

from __future__ import annotations

from mlfleet.errors import InputError


class ExperimentInputError(InputError):
    """A bad experiment argument or metric file: the message names the value and what is allowed."""
