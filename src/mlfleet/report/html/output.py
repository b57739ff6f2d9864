"""Where the report goes: its ``--out`` is checked before any work
(:func:`mlfleet.atomic.check_writable`), so a bad path fails at once."""

from __future__ import annotations

from mlfleet.errors import InputError


class ReportOutputError(InputError):
    """An ``--out`` path the report cannot be written to."""
