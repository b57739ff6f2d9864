"""The reliability chapter's input error."""

from __future__ import annotations

from mlfleet.errors import InputError


class ReliabilityInputError(InputError):
    """A reliability-model argument out of range (a size, a bandwidth, a time, a name)."""
