"""The offline store: point-in-time-correct training data from Parquet sources, in DuckDB.

For each row of an entity table (join keys + an event timestamp) and each requested
feature view, the value is that of the view's latest row with the same keys whose event
time is at or before the entity row's time; among rows with equal event times the one
with the later ``created`` timestamp wins (a missing created reads as the earliest; on a
full tie, the later row of the source file). The value is null when that row is older than
the view's TTL (``event >= t - ttl`` keeps it), when there is none (unseen entity, a
query before any row) and when the entity row's keys or time are null. This is Feast's
``get_historical_features`` contract. Rows with a null event time in a source are ignored.

The SQL (:mod:`~mlfleet.storage.features.pit_sql`) is one DuckDB ``ASOF LEFT JOIN`` per
view over keys and event times, then a hash join that settles ties. The output keeps every
entity row, in the input's order, with all its columns, followed by the requested
features; on-demand features are computed after the join. It is written to a temporary
file and renamed, so a failure leaves no partial output; Ctrl-C interrupts the query.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mlfleet.checks import one_of
from mlfleet.storage.features.definitions import FeatureRef, FeatureRepo, FeatureRepoError
from mlfleet.storage.features.on_demand import check_on_demand
from mlfleet.storage.features.pit_sql import (
    HASH_MAX_MULTIPLICITY,
    STRATEGIES,
    Plan,
    historical_query,
    multiplicity_sql,
    output_name,
    plan,
)
from mlfleet.storage.features.sources import (
    FeatureDataError,
    parquet_schema,
    require_columns,
    require_timestamp,
    sql_string,
)


@dataclass(frozen=True, kw_only=True)
class HistoricalResult:
    """What a retrieval wrote."""

    out_path: Path
    rows: int
    columns: tuple[str, ...]
    elapsed_s: float
    """Wall time of the checks, the query and the write, in seconds."""


def _check_inputs(con: duckdb.DuckDBPyConnection, plan_: Plan, *, entity_path: Path,
                  timestamp_column: str) -> tuple[str, ...]:
    """The entity table's columns, after checking every file the request reads."""
    entity = parquet_schema(con, entity_path, "entity file")
    require_timestamp(entity, timestamp_column, what="entity file", path=entity_path)
    for column in entity:
        if column == "file_row_number" or column.startswith("__mlf_"):
            raise FeatureDataError(f"entity file {str(entity_path)!r}: column {column!r} is a "
                                   "reserved name; rename it")
    for view in plan_.views:
        require_columns(entity, view.join_keys, what="entity file", path=entity_path)
        what = f"source of feature view {view.name}"
        schema = parquet_schema(con, view.source_path, what)
        require_columns(schema, [*view.join_keys, *plan_.features[view.name]], what=what,
                        path=view.source_path)
        require_timestamp(schema, view.timestamp_field, what=what, path=view.source_path)
        if view.created_timestamp_field is not None:
            require_timestamp(schema, view.created_timestamp_field, what=what,
                              path=view.source_path)
    return tuple(entity)


def _check_names(entity_columns: Sequence[str], refs: Sequence[FeatureRef],
                 full_names: bool) -> None:
    seen = set(entity_columns)
    for ref in refs:
        name = output_name(ref, full_names=full_names)
        if name in seen:
            raise FeatureRepoError(f"output column {name!r} (from {ref.ref}) is taken twice; "
                                   "use full feature names (view__feature)")
        seen.add(name)


def _check_out(out_path: Path) -> None:
    if not out_path.name or out_path.is_dir():
        raise FeatureDataError(f"output {str(out_path)!r} must be a file path, not a directory")
    if not out_path.absolute().parent.is_dir():
        raise FeatureDataError(f"output {str(out_path)!r}: directory "
                               f"{str(out_path.absolute().parent)!r} does not exist")


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that reads and writes timestamps in UTC."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def hash_views(con: duckdb.DuckDBPyConnection, plan_: Plan, *, entity_path: Path,
               strategy: str) -> frozenset[str]:
    """The views to join by hashing: all, none, or (``auto``) those whose join keys repeat
    little in the entity table (:data:`~mlfleet.storage.features.pit_sql.HASH_MAX_MULTIPLICITY`)."""
    if strategy != "auto":
        return frozenset(v.name for v in plan_.views) if strategy == "hash" else frozenset()
    by_keys: dict[tuple[str, ...], bool] = {}
    for keys in dict.fromkeys(view.join_keys for view in plan_.views):
        row = con.execute(multiplicity_sql(entity_path, keys)).fetchone()
        by_keys[keys] = row is not None and float(row[0]) <= HASH_MAX_MULTIPLICITY
    return frozenset(view.name for view in plan_.views if by_keys[view.join_keys])


def retrieve(repo: FeatureRepo, refs: Sequence[FeatureRef], *, entity_path: Path,
             out_path: Path, timestamp_column: str = "event_timestamp",
             full_names: bool = False, strategy: str = "auto") -> HistoricalResult:
    """Write point-in-time-correct features for ``entity_path``'s rows to ``out_path`` (Parquet).

    ``strategy`` (``auto``, ``hash``, ``asof``) picks the join (same result; see
    :mod:`~mlfleet.storage.features.pit_sql`). Raises FeatureDataError (missing/corrupt file,
    missing column) or FeatureRepoError (clashing output names); ``out_path`` is then left
    untouched.
    """
    one_of("strategy", strategy, STRATEGIES, error=FeatureRepoError)
    _check_out(out_path)
    start = time.perf_counter()
    con = connect()
    try:
        check_on_demand(repo, con)
        plan_ = plan(repo, refs)
        columns = _check_inputs(con, plan_, entity_path=entity_path,
                                timestamp_column=timestamp_column)
        _check_names(columns, refs, full_names)
        query = historical_query(
            repo, refs, entity_path=entity_path, entity_columns=columns,
            timestamp_column=timestamp_column, full_names=full_names,
            hash_views=hash_views(con, plan_, entity_path=entity_path, strategy=strategy))
        rows = _copy_atomically(con, query, out_path)
    finally:
        con.close()
    names = (*columns, *(output_name(r, full_names=full_names) for r in refs))
    return HistoricalResult(out_path=out_path, rows=rows, columns=names,
                            elapsed_s=time.perf_counter() - start)


def _copy_atomically(con: duckdb.DuckDBPyConnection, query: str, out_path: Path) -> int:
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        row = execute_interruptibly(
            con, f"COPY ({query}) TO {sql_string(str(tmp))} (FORMAT parquet)")
        os.replace(tmp, out_path)
    except duckdb.Error as exc:
        reason = " ".join(str(exc).split())[:200]
        raise FeatureDataError(f"retrieval failed on the input data ({reason})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return int(row[0]) if row is not None else 0


def execute_interruptibly(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...] | None:
    """``con.execute(sql).fetchone()`` on a worker thread, so that Ctrl-C interrupts the query.

    DuckDB does not look at Python's signal flag while a query runs; the main thread waits
    on an Event in short steps (an interrupted ``Thread.join`` can mark a live thread as
    stopped in CPython 3.11), and on KeyboardInterrupt calls ``con.interrupt()``, waits for
    the query to stop, and re-raises.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["row"] = con.execute(sql).fetchone()
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="mlfleet-duckdb", daemon=True).start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        con.interrupt()
        done.wait()
        raise
    if "error" in box:
        raise box["error"]
    row: tuple[Any, ...] | None = box.get("row")
    return row
