"""Immutable dataset versions on Delta Lake: commit, time travel, history, schema checks.

A dataset is a Delta table (``deltalake``, the delta-rs Python binding): every commit
is a new version numbered 0, 1, 2, …; old versions stay readable (time travel) until
vacuumed. Delta's commit protocol makes a version atomic: data files are written
first, then one JSON entry in ``_delta_log/`` names them, created with put-if-absent;
a writer killed before that entry leaves only unreferenced files, so readers never see
half a version (Armbrust et al., "Delta Lake", VLDB 2020, §3.2).

Schema evolution rule (:func:`schema_change`), checked before every commit:

* adding a nullable column is compatible (older rows read it as null);
* dropping a column, changing a column's type (widening included), or adding a
  non-nullable column is refused (:class:`SchemaEvolutionError`, exit 2) unless
  ``force=True``, which rewrites the table's schema in a new version (old versions
  keep theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from mlfleet.checks import one_of
from mlfleet.errors import InputError

MODES = ("append", "overwrite")
"""How a commit combines with the latest version."""


class SchemaEvolutionError(InputError):
    """A commit whose schema change the evolution rule refuses."""


class DatasetNotFoundError(InputError):
    """A path that holds no dataset, or a version it never had."""


@dataclass(frozen=True, kw_only=True)
class SchemaChange:
    """How a new schema differs from the current one (column names)."""

    added_nullable: tuple[str, ...] = ()
    """New nullable columns (compatible)."""
    added_required: tuple[str, ...] = ()
    """New non-nullable columns (refused: old rows have no value)."""
    dropped: tuple[str, ...] = ()
    """Columns that are gone (refused)."""
    retyped: tuple[tuple[str, str, str], ...] = ()
    """(column, old type, new type) (refused)."""

    @property
    def compatible(self) -> bool:
        """True when the rule accepts the change without ``force``."""
        return not (self.added_required or self.dropped or self.retyped)

    def describe(self) -> str:
        """One line naming each refused change."""
        parts = [f"drops column {c!r}" for c in self.dropped]
        parts += [f"changes {c!r} from {a} to {b}" for c, a, b in self.retyped]
        parts += [f"adds non-nullable column {c!r}" for c in self.added_required]
        return "; ".join(parts) or "compatible"


def schema_change(old: pa.Schema, new: pa.Schema) -> SchemaChange:
    """Compare two Arrow schemas by column name (see the module's rule)."""
    old_fields = {f.name: f for f in old}
    new_fields = {f.name: f for f in new}
    added = [f for name, f in new_fields.items() if name not in old_fields]
    return SchemaChange(
        added_nullable=tuple(f.name for f in added if f.nullable),
        added_required=tuple(f.name for f in added if not f.nullable),
        dropped=tuple(n for n in old_fields if n not in new_fields),
        retyped=tuple((n, str(f.type), str(new_fields[n].type)) for n, f in old_fields.items()
                      if n in new_fields and not _same_type(f.type, new_fields[n].type)))


def _same_type(a: pa.DataType, b: pa.DataType) -> bool:
    """Equal types, with Delta's storage of strings/binaries as their large variants."""
    def norm(t: pa.DataType) -> pa.DataType:
        return {pa.large_string(): pa.string(), pa.string_view(): pa.string(),
                pa.large_binary(): pa.binary(), pa.binary_view(): pa.binary()}.get(t, t)
    return bool(norm(a) == norm(b))


@dataclass(frozen=True, kw_only=True)
class VersionInfo:
    """One entry of a dataset's history."""

    version: int
    """Version number."""
    timestamp_ms: int
    """Commit time, ms since the epoch."""
    operation: str
    """Delta operation (WRITE, …) and mode."""
    rows_added: int | None
    """Rows the commit wrote (None when Delta did not record it)."""
    message: str | None
    """The committer's message."""


def _table(path: Path, version: int | None = None) -> Any:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(str(path))
    except (TableNotFoundError, OSError):
        raise DatasetNotFoundError(f"{str(path)!r} holds no dataset (no Delta log)") from None
    if version is not None:
        latest = table.version()
        if not 0 <= version <= latest:
            raise DatasetNotFoundError(f"version(={version}) of {str(path)!r} does not exist; "
                                       f"versions are 0..{latest}")
        table.load_as_version(version)
    return table


def exists(path: Path) -> bool:
    """True when ``path`` holds a dataset."""
    from deltalake import DeltaTable

    if not path.is_dir():
        return False
    try:
        return bool(DeltaTable.is_deltatable(str(path)))
    except OSError:  # e.g. a _delta_log that is a file
        return False


def latest_version(path: Path) -> int:
    """The newest version number."""
    return int(_table(path).version())


def read_version(path: Path, version: int | None = None) -> pa.Table:
    """The rows of ``version`` (None: the latest) as an Arrow table."""
    return _table(path, version).to_pyarrow_table()


def version_schema(path: Path, version: int | None = None) -> pa.Schema:
    """The Arrow schema of ``version`` (None: the latest)."""
    return pa.schema(_table(path, version).schema().to_arrow())


def commit(path: Path, data: pa.Table, *, mode: str = "append", force: bool = False,
           message: str | None = None) -> int:
    """Write ``data`` as a new version of the dataset at ``path``; returns its number.

    The first commit creates the dataset. Raises :class:`SchemaEvolutionError` for a
    change the rule refuses (unless ``force``).
    """
    from deltalake import CommitProperties, write_deltalake
    from deltalake.exceptions import DeltaError

    one_of("mode", mode, MODES)
    if path.exists() and not path.is_dir():
        raise DatasetNotFoundError(f"{str(path)!r} is a file, not a dataset directory")
    schema_mode: str | None = None
    if exists(path):
        change = schema_change(version_schema(path), data.schema)
        if not change.compatible and not force:
            raise SchemaEvolutionError(f"{str(path)!r}: the new data {change.describe()}; "
                                       "only nullable columns may be added (force to rewrite "
                                       "the schema)")
        if not change.compatible:
            mode, schema_mode = "overwrite", "overwrite"
        elif change.added_nullable:
            schema_mode = "merge"
    properties = CommitProperties(custom_metadata={"message": message} if message else None)
    options: dict[str, Any] = {"schema_mode": schema_mode, "commit_properties": properties}
    try:
        if mode == "overwrite":
            write_deltalake(str(path), data, mode="overwrite", **options)
        else:
            write_deltalake(str(path), data, mode="append", **options)
    except (OSError, DeltaError) as exc:
        raise InputError(f"{str(path)!r}: cannot write a version there "
                         f"({' '.join(str(exc).split())[:160]})") from None
    return latest_version(path)


def history(path: Path) -> list[VersionInfo]:
    """Every version, oldest first."""
    entries = []
    for entry in _table(path).history():
        metrics = entry.get("operationMetrics") or {}
        mode = (entry.get("operationParameters") or {}).get("mode")
        entries.append(VersionInfo(
            version=int(entry["version"]), timestamp_ms=int(entry["timestamp"]),
            operation=f"{entry.get('operation', '?')}" + (f" ({mode})" if mode else ""),
            rows_added=metrics.get("num_added_rows"), message=entry.get("message")))
    return sorted(entries, key=lambda e: e.version)
