"""The validations that ``mlfleet validate`` cannot rerun: recorded in ``data/recorded.yaml``.

They need a real measurement on a particular machine, a service (Slurm, a server, network
namespaces) or minutes of running, and are held by serial tests and benchmarks under
``tests/`` and ``benchmarks/``. Their numbers are kept as those runs printed them, with the
test or benchmark that produced them, so the generated ``docs/validation.md`` loses none.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.package_data import package_yaml


@dataclass(frozen=True, kw_only=True)
class RecordedRow:
    """One summary row: a model, its reference, the error observed, how it is held."""

    model: str
    checked_against: str
    observed: str
    held: str
    """``asserted`` (a test fails when the criterion fails) or ``benchmark``, with the name."""
    evidence: tuple[str, ...]
    """The tests and benchmarks that produced ``observed``."""
    date: str
    """When ``observed`` was measured (ISO date)."""


@dataclass(frozen=True, kw_only=True)
class RecordedSection:
    """A section of detail (method, per-case tables) under its heading, as Markdown."""

    title: str
    body_md: str


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """The whole file: the page's title and header text, the rows, the sections."""

    title: str
    header_md: str
    rows: tuple[RecordedRow, ...]
    sections: tuple[RecordedSection, ...]


def load_recorded() -> Recorded:
    """Read ``mlfleet/validate/data/recorded.yaml`` (shipped with the package)."""
    data = package_yaml("mlfleet.validate", "data", "recorded.yaml")
    rows = tuple(RecordedRow(model=r["model"], checked_against=r["checked_against"],
                             observed=r["observed"], held=r["held"],
                             evidence=tuple(r["evidence"]), date=str(r["date"]))
                 for r in data["rows"])
    sections = tuple(RecordedSection(title=s["title"], body_md=s["body"])
                     for s in data["sections"])
    return Recorded(title=data["title"], header_md=data["header"], rows=rows,
                    sections=sections)
