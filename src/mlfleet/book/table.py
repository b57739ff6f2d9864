"""A book table: the typed result every table builder returns, before it is rendered.

A table answers one quantitative item of the spec. Its numbers come from the models
(never re-derived here); each column says which fidelity its numbers have, and the
catalog entries the models read are listed so the rendering can cite every source.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import one_of

FIDELITIES = ("model", "simulation", "published", "measured")
"""Where a number comes from: a closed form, a seeded simulation, a published figure, a
measurement. Label columns (names, the swept input) have no fidelity."""

Cell = str | int | float | bool | None
"""One cell: text, a number (formatted on rendering), a flag, or None for 'not defined'."""


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column: its heading, the unit its numbers are in, and their fidelity."""

    name: str
    unit: str = ""
    """Unit of every number in the column ('' for labels and plain ratios)."""
    fidelity: str | None = None
    """One of :data:`FIDELITIES`; None for a label or an input the table sweeps."""

    def __post_init__(self) -> None:
        if self.fidelity is not None:
            one_of("fidelity", self.fidelity, FIDELITIES)


@dataclass(frozen=True, kw_only=True)
class CatalogInput:
    """Catalog values a table's models read: an entry and dotted value paths (all: empty)."""

    entry: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Cited:
    """An input a model reports with its citation text rather than a catalog path
    (e.g. the TCO model's ``sources``): what it is, and the citation."""

    what: str
    citation: str


Input = CatalogInput | Cited
"""Anything a table cites."""


@dataclass(frozen=True, kw_only=True)
class BookTable:
    """A computed table, ready to render."""

    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    inputs: tuple[Input, ...]
    """Catalog values behind the numbers; each becomes a footnote with its citation."""
    notes: tuple[str, ...] = ()
    """The models used (with their published sources) and every assumption not in the catalog."""

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in self.rows:
            assert len(row) == width, f"{self.id}: row {row!r} has {len(row)} cells, not {width}"
