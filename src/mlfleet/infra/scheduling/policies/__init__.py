"""The scheduling policies ``mlfleet sim cluster --policy NAME`` can run.

Each row: name -> (module, factory attribute, one-line help). A factory takes keyword
options (``interval_s=...`` and the policy's own) and returns a
:class:`~mlfleet.infra.scheduling.types.Policy`. Modules are imported on first use.
"""

from __future__ import annotations

POLICIES: dict[str, tuple[str, str, str]] = {}
"""Policy name -> (module, factory, one-line help). Chapters add rows; never reorder."""
