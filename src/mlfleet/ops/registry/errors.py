"""The registry's errors: bad input (exit 2) and a lost race with another writer (exit 1)."""

from __future__ import annotations

from mlfleet.errors import InputError, RunError


class RegistryInputError(InputError):
    """A bad registry argument: an unknown model or version, a cycle, a bad gate, a bad store."""


class GateFailed(InputError):
    """A promotion gate did not pass; the registry is left exactly as it was."""


class ConcurrentChange(RunError):
    """Another writer moved the alias between our read and our write; nothing was written."""
