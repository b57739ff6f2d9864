"""The catalog: accelerators, interconnects, storage, workloads and clusters, each value sourced.

>>> from mlfleet import catalog
>>> h100 = catalog.get("H100")
>>> h100.get("hbm_bytes")
80000000000.0

Names are matched case-insensitively against canonical names and aliases; an unknown
name raises :class:`~mlfleet.errors.CatalogError` listing the closest known names.
Typed views for the models live in :mod:`mlfleet.catalog.types`.
"""

from __future__ import annotations

import difflib
from functools import cache

from mlfleet.catalog.loader import KINDS, Entry, Sourced
from mlfleet.catalog.user import load_all, merged_catalog, user_catalog_dirs
from mlfleet.errors import CatalogError

__all__ = ["KINDS", "Entry", "Sourced", "get", "names", "entries", "closest"]


def _index() -> dict[str, str]:
    return _index_for(user_catalog_dirs())


@cache
def _index_for(user_dirs: tuple[str, ...]) -> dict[str, str]:
    """Lower-cased names and aliases -> canonical name, for one user catalog setting."""
    index: dict[str, str] = {}
    for entry in merged_catalog(user_dirs).values():
        for key in (entry.name, *entry.aliases):
            index[key.lower()] = entry.name
    return index


def closest(name: str, *, kind: str | None = None, n: int = 5) -> list[str]:
    """Canonical names closest to ``name`` (for 'did you mean' messages)."""
    pool = {k: v for k, v in _index().items() if kind is None or load_all()[v].kind == kind}
    lowered = name.lower()
    hits = [v for k, v in pool.items() if lowered and (lowered in k or k in lowered)]
    hits += [pool[k] for k in difflib.get_close_matches(lowered, list(pool), n=n, cutoff=0.4)]
    return list(dict.fromkeys(hits))[:n]


def get(name: str, *, kind: str | None = None) -> Entry:
    """The entry called ``name`` (or an alias), optionally requiring a ``kind``."""
    if kind is not None and kind not in KINDS:
        raise CatalogError(f"unknown catalog kind {kind!r}; known kinds: {', '.join(KINDS)}")
    canonical = _index().get(str(name).lower())
    entry = load_all().get(canonical) if canonical else None
    if entry is None or (kind is not None and entry.kind != kind):
        what = f"{kind} " if kind else ""
        near = closest(str(name), kind=kind)
        hint = f"; closest: {', '.join(near)}" if near else f"; see `mlfleet catalog list {kind or ''}`"
        raise CatalogError(f"unknown {what}name {name!r}{hint}")
    return entry


def entries(kind: str | None = None) -> list[Entry]:
    """All entries, or those of one kind, in file order."""
    if kind is not None and kind not in KINDS:
        raise CatalogError(f"unknown catalog kind {kind!r}; known kinds: {', '.join(KINDS)}")
    return [e for e in load_all().values() if kind is None or e.kind == kind]


def names(kind: str | None = None) -> list[str]:
    """Canonical names, or those of one kind."""
    return [e.name for e in entries(kind)]
