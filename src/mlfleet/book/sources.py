"""Footnotes for book tables: every catalog value a table reads, cited by its source key.

The catalog stores each value's citation text; the key the data file filed it under
(``nvidia-h100-datasheet``) is recovered from the bundled data files' ``sources:`` maps, so
a footnote reads ``[1] nvidia-h100-datasheet: NVIDIA H100 ... — H100-SXM: tdp_w``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from mlfleet import catalog
from mlfleet.book.table import CatalogInput, Input


@dataclass(frozen=True, kw_only=True)
class Footnote:
    """One source: its catalog key, its citation, and the values of a table it backs."""

    key: str
    citation: str
    values: tuple[str, ...]
    """``entry: path`` of each catalog value it is the source of; a model input's name."""


@cache
def source_keys() -> dict[str, str]:
    """Citation text -> source key, over every bundled catalog data file."""
    import yaml

    keys: dict[str, str] = {}
    data = resources.files("mlfleet.catalog").joinpath("data")
    for item in sorted(data.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            doc = yaml.safe_load(item.read_text(encoding="utf-8")) or {}
            for key, text in (doc.get("sources") or {}).items():
                keys.setdefault(str(text), str(key))
    return keys


NON_CATALOG_KEYS = ("assumption", "model", "given", "user-catalog")
"""Keys of footnotes whose text is not a catalog citation: an assumption a model states, a
model it composes, a value given to it, an entry of the user's own catalog."""


def _catalog_values(item: CatalogInput) -> list[tuple[str, str]]:
    entry = catalog.get(item.entry)
    out = []
    for path in item.paths or tuple(entry.values):
        assert path in entry.values, f"catalog entry {entry.name} has no value {path!r}"
        out.append((entry.values[path].source, f"{entry.name}: {path}"))
    return out


def source_key(citation: str) -> str:
    """The catalog key of ``citation`` (also of ``NAME: citation``), else the kind of
    non-catalog source it is (:data:`NON_CATALOG_KEYS`)."""
    keys = source_keys()
    tail = citation.split(": ", 1)[-1]
    if citation in keys or tail in keys:
        return keys.get(citation) or keys[tail]
    for kind in ("assumption", "given"):
        if citation.startswith(kind):
            return kind
    return "model" if citation.startswith("mlfleet.") else "user-catalog"


def footnotes(inputs: tuple[Input, ...]) -> tuple[Footnote, ...]:
    """One footnote per distinct source of ``inputs``, in order of first use."""
    backing: dict[str, list[str]] = {}
    for item in inputs:
        pairs = _catalog_values(item) if isinstance(item, CatalogInput) \
            else [(item.citation, item.what)]
        for citation, value in pairs:
            backing.setdefault(citation, []).append(value)
    notes = []
    for text, values in backing.items():
        key = source_key(text)
        shown = text.removeprefix(f"{key}: ") if key in NON_CATALOG_KEYS else text
        notes.append(Footnote(key=key, citation=shown, values=tuple(values)))
    return tuple(notes)
