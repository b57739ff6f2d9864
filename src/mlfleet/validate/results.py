"""One row of ``mlfleet validate``: a check's outcome, and the results file that stores them.

A :class:`CheckResult` is a :class:`~mlfleet.validate.registry.Check` after it ran (or the
error of the provider that should have produced it), flattened to plain values so that a
results file from an earlier run can be read back and compared (:mod:`.baseline`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from mlfleet.validate.registry import Check

RESULTS_SCHEMA = "mlfleet.validate.results/1"
"""The ``schema`` field of every results file; another value is refused as a baseline."""

STATUSES = ("pass", "fail", "miss", "error")
"""``fail``: an asserted check out of bound; ``miss``: a goal out of bound (not fatal);
``error``: its provider raised, so nothing was compared."""


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """A check after it ran: the prediction, the reference, the error and the verdict."""

    id: str
    provider: str
    chapter: str
    quantity: str
    model: str
    reference: str
    reference_kind: str
    reference_value: float
    predicted: float
    error: float
    """Relative (or absolute, see ``absolute``) error of the prediction; NaN for ``error``."""
    bound: float
    absolute: bool
    held: str
    status: str
    """One of :data:`STATUSES`."""
    note: str = ""
    elapsed_s: float = 0.0
    """Wall time of the provider that produced the check (shared by its checks)."""

    @property
    def fatal(self) -> bool:
        """Whether this row alone makes ``mlfleet validate`` fail."""
        return self.status in ("fail", "error")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> CheckResult:
        """A row read back from a results file (KeyError/TypeError/ValueError when malformed)."""
        floats = ("reference_value", "predicted", "error", "bound", "elapsed_s")
        values = {f.name: row[f.name] for f in fields(cls) if f.name in row}
        for name in floats:
            if name in values:
                values[name] = math.nan if values[name] is None else float(values[name])
        return cls(**values)


def from_check(check: Check, *, provider: str, elapsed_s: float) -> CheckResult:
    """The outcome of one check: pass, or fail (asserted) / miss (goal)."""
    status = "pass" if check.passed else ("fail" if check.held == "asserted" else "miss")
    return CheckResult(id=check.id, provider=provider, chapter=check.chapter,
                       quantity=check.quantity, model=check.model, reference=check.reference,
                       reference_kind=check.reference_kind,
                       reference_value=float(check.reference_value),
                       predicted=float(check.predicted), error=float(check.error),
                       bound=float(check.bound), absolute=check.absolute, held=check.held,
                       status=status, note=check.note, elapsed_s=elapsed_s)


def from_error(*, provider: str, message: str, elapsed_s: float) -> CheckResult:
    """The row standing for every check of a provider that raised."""
    chapter = provider.split(".", 1)[0]
    return CheckResult(id=provider, provider=provider, chapter=chapter,
                       quantity="(provider raised)", model=provider, reference="",
                       reference_kind="", reference_value=math.nan, predicted=math.nan,
                       error=math.nan, bound=math.nan, absolute=False, held="asserted",
                       status="error", note=message, elapsed_s=elapsed_s)
