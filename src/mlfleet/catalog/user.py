"""A user catalog: directories of data files that add or override catalog entries.

``MLFLEET_CATALOG=DIR[:DIR...]`` (or ``mlfleet --catalog DIR``) names directories whose
``*.yaml`` files have the bundled format (``kind``, ``sources``, ``entries``), so every
value still carries its source. An entry whose name or alias matches a bundled entry of
the same kind overrides that entry value by value (its other values stay, with their
sources); any other entry is added. The package's own files are never edited.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

from mlfleet.catalog.loader import Entry, load_bundled, parse_data_file
from mlfleet.errors import CatalogError

USER_CATALOG_ENV = "MLFLEET_CATALOG"
MAX_FILE_BYTES = 1 << 20
"""A catalog data file larger than this is refused (the bundled ones are ~30 kB)."""


def user_catalog_dirs() -> tuple[str, ...]:
    """The user catalog directories named by ``MLFLEET_CATALOG`` (``os.pathsep``-separated)."""
    return tuple(part for part in os.environ.get(USER_CATALOG_ENV, "").split(os.pathsep) if part)


@contextlib.contextmanager
def using_catalog(dirs: Sequence[str]) -> Iterator[None]:
    """Use ``dirs`` as the user catalog inside the block (children started there see it too);
    the previous setting is restored on exit. Raises :class:`CatalogError` for a directory
    that does not exist."""
    for directory in dirs:
        if not Path(directory).is_dir():
            raise CatalogError(f"--catalog(={directory!r}) is not a directory of catalog "
                               "*.yaml files")
    previous = os.environ.get(USER_CATALOG_ENV)
    os.environ[USER_CATALOG_ENV] = os.pathsep.join(dirs)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(USER_CATALOG_ENV, None)
        else:
            os.environ[USER_CATALOG_ENV] = previous


def load_all() -> dict[str, Entry]:
    """The bundled entries with the user catalog (``MLFLEET_CATALOG`` / ``--catalog``) laid
    over them, by canonical name; cached per set of user directories."""
    return merged_catalog(user_catalog_dirs())


@cache
def merged_catalog(dirs: tuple[str, ...]) -> dict[str, Entry]:
    """The bundled entries with every entry of the files in ``dirs`` laid over them."""
    entries = dict(load_bundled())
    added: dict[str, str] = {}  # canonical name -> the user file that defined it
    for path in _data_files(dirs):
        for entry in parse_data_file(_read(path), str(path)):
            name = _canonical(entries, entry, str(path))
            if name in added:
                raise CatalogError(f"{path}: {entry.name} is also defined in {added[name]}; "
                                   "define each entry once in the user catalog")
            added[name] = str(path)
            entries[name] = _overlay(entries.get(name), entry, str(path))
    _check_unique_names(entries)
    return entries


def _data_files(dirs: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for directory in dirs:
        folder = Path(directory)
        if not folder.is_dir():
            raise CatalogError(f"{USER_CATALOG_ENV}: {directory!r} is not a directory of "
                               "catalog *.yaml files")
        found = sorted(folder.glob("*.yaml"))
        if not found:
            raise CatalogError(f"user catalog {directory!r} has no *.yaml files")
        files += found
    return files


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CatalogError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a catalog "
                               "data file")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not UTF-8 text; a catalog data file is YAML") from None
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror or exc}") from None


def _canonical(entries: dict[str, Entry], entry: Entry, where: str) -> str:
    """The canonical name ``entry`` overrides (its name or an alias matches), or its own."""
    keys = {entry.name.lower(), *(alias.lower() for alias in entry.aliases)}
    hits = {e.name for e in entries.values()
            if keys & {e.name.lower(), *(a.lower() for a in e.aliases)}}
    if len(hits) > 1:
        raise CatalogError(f"{where}: {entry.name} matches several entries "
                           f"({', '.join(sorted(hits))}); give it one name")
    if not hits:
        return entry.name
    (name,) = hits
    if entries[name].kind != entry.kind:
        raise CatalogError(f"{where}: {entry.name} is of kind {entries[name].kind!r} in the "
                           f"catalog, not {entry.kind!r}")
    return name


def _overlay(base: Entry | None, entry: Entry, where: str) -> Entry:
    if base is None:
        return replace(entry, origin=where)
    aliases = tuple(dict.fromkeys((*base.aliases, *entry.aliases)))
    return replace(base, summary=entry.summary or base.summary, origin=where,
                   aliases=tuple(a for a in aliases if a.lower() != base.name.lower()),
                   values={**base.values, **entry.values})


def _check_unique_names(entries: dict[str, Entry]) -> None:
    seen: dict[str, str] = {}
    for entry in entries.values():
        for key in {entry.name.lower(), *(a.lower() for a in entry.aliases)}:
            if seen.setdefault(key, entry.name) != entry.name:
                raise CatalogError(f"{entry.origin}: {key!r} would name both {seen[key]} and "
                                   f"{entry.name}; rename the alias")
