"""Parquet files as DuckDB relations, with one-line errors for missing, corrupt or short files.

A source is a Parquet file, a directory (every ``*.parquet`` under it) or a glob.
:func:`parquet_schema` reads only the footer; a path that does not exist, a file that is
not Parquet and a missing column each raise :class:`FeatureDataError` naming the path.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from mlfleet.errors import InputError

TIMESTAMP_TYPES: tuple[str, ...] = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS",
                                    "TIMESTAMP_MS", "TIMESTAMP_S", "DATE")
"""DuckDB column types accepted as event or created timestamps."""


class FeatureDataError(InputError):
    """A data file (source or entity table) that is missing, not Parquet, or lacks a column."""


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def parquet_glob(path: Path) -> str:
    """The pattern DuckDB reads for ``path``: the file, ``dir/**/*.parquet``, or the glob."""
    if path.is_dir():
        return str(path / "**" / "*.parquet")
    return str(path)


def _exists(path: Path, what: str) -> str:
    pattern = parquet_glob(path)
    if not glob.glob(pattern, recursive=True):
        raise FeatureDataError(f"{what} {str(path)!r} does not exist (or holds no *.parquet)")
    return pattern


def parquet_schema(con: duckdb.DuckDBPyConnection, path: Path, what: str) -> dict[str, str]:
    """Column name -> DuckDB type of the Parquet ``path``; ``what`` names it in errors."""
    pattern = _exists(path, what)
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_string(pattern)})").fetchall()
    except duckdb.Error as exc:
        reason = " ".join(str(exc).split())[:160]
        raise FeatureDataError(f"{what} {str(path)!r} is not a readable Parquet file "
                               f"({reason})") from None
    return {str(row[0]): str(row[1]) for row in rows}


def require_columns(schema: Mapping[str, str], columns: Iterable[str], *, what: str,
                    path: Path) -> None:
    """FeatureDataError naming the first of ``columns`` missing from ``schema``."""
    for column in columns:
        if column not in schema:
            raise FeatureDataError(f"{what} {str(path)!r} has no column {column!r}; columns: "
                                   f"{', '.join(schema)}")


def require_timestamp(schema: Mapping[str, str], column: str, *, what: str,
                      path: Path) -> None:
    """FeatureDataError unless ``column`` exists and holds timestamps (or dates)."""
    require_columns(schema, [column], what=what, path=path)
    if schema[column] not in TIMESTAMP_TYPES:
        raise FeatureDataError(f"{what} {str(path)!r}: column {column!r} has type "
                               f"{schema[column]}; a timestamp is required")
