"""The error every canary command raises for bad input (exit 2, one line)."""

from __future__ import annotations

from mlfleet.errors import InputError


class CanaryInputError(InputError):
    """A bad canary config, metric file or argument: the message names the value and what
    is allowed."""
