"""One chapter's part of a plan: key numbers, bottleneck, recommendation, reasoning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Section:
    """A chapter section of a plan. ``numbers`` keys carry their unit (``step_time_s``)."""

    status: str
    """'ok', 'not applicable' (the scenario has nothing for this chapter) or 'not yet implemented'."""
    fidelity: str = ""
    """Which fidelity produced the numbers: 'model', 'simulate' or 'run'."""
    numbers: dict[str, Any] = field(default_factory=dict)
    """The key figures, each name carrying its unit."""
    bottleneck: str = ""
    recommendation: str = ""
    reasoning: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    """Tables and supporting figures (JSON-ready)."""
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.status == "ok":
            out.update(fidelity=self.fidelity, numbers=self.numbers, bottleneck=self.bottleneck,
                       recommendation=self.recommendation, reasoning=self.reasoning,
                       details=self.details)
        if self.note:
            out["note"] = self.note
        return out


def not_implemented(chapter: str, where: str) -> Section:
    """A section for a chapter mlfleet does not model yet: no numbers at all."""
    return Section(status="not yet implemented",
                   note=f"{chapter}: not yet implemented; arrives with {where}")


def not_applicable(why: str) -> Section:
    """A section the scenario gives nothing to plan for (e.g. no training job)."""
    return Section(status="not applicable", note=why)
