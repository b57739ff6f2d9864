"""The offline store: point-in-time-correct training data from Parquet sources, in DuckDB.

For each row of an entity table (join keys + an event timestamp) and each requested
feature view, the value is that of the view's latest row with the same keys whose event
time is at or before the entity row's time; among rows with equal event times the one
with the later ``created`` timestamp wins (a missing created reads as the earliest; on a
full tie, the later row of the source file). The value is null when that row is older than
the view's TTL (``event >= t - ttl`` keeps it), when there is none (unseen entity, a
query before any row) and when the entity row's keys or time are null. This is Feast's
``get_historical_features`` contract. Rows with a null event time in a source are ignored.

The core is one DuckDB ``ASOF LEFT JOIN`` per view. ASOF picks the greatest match of its
inequality, so the inequality is over the struct ``(event, created, row)`` and the entity
side is ``(t, +inf, +inf)``: ties fall to the later created without a separate
deduplication pass. The output keeps every entity row, in the input's order, with all its
columns, followed by the requested features; on-demand features are computed after the
join. It is written to a temporary file and renamed, so a failure leaves no partial output.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mlfleet.storage.features.definitions import (
    FeatureRef,
    FeatureRepo,
    FeatureRepoError,
    FeatureView,
)
from mlfleet.storage.features.on_demand import (
    SQL_TYPES,
    check_on_demand,
    on_demand_select,
    source_features,
)
from mlfleet.storage.features.sources import (
    FeatureDataError,
    parquet_glob,
    parquet_schema,
    require_columns,
    require_timestamp,
    sql_ident,
    sql_string,
)

_ENTITY_KEY = ("CASE WHEN {t} IS NULL THEN NULL ELSE struct_pack(t := {t}, "
               "c := TIMESTAMPTZ 'infinity', r := 9223372036854775807::BIGINT) END")
_ROW_KEY = "struct_pack(t := {t}, c := {c}, r := file_row_number::BIGINT)"


@dataclass(frozen=True, kw_only=True)
class HistoricalResult:
    """What a retrieval wrote."""

    out_path: Path
    rows: int
    columns: tuple[str, ...]
    elapsed_s: float
    """Wall time of the query and the write, in seconds."""


@dataclass(frozen=True, kw_only=True)
class _Plan:
    """The views a request touches and the columns it reads from each (in request order)."""

    views: tuple[FeatureView, ...]
    features: Mapping[str, tuple[str, ...]]
    """View name -> features read (requested, then those on-demand features need)."""


def output_name(ref: FeatureRef, *, full_names: bool) -> str:
    """The output column of ``ref``: the feature's name, or ``view__feature``."""
    return f"{ref.view}__{ref.feature}" if full_names else ref.feature


def _plan(repo: FeatureRepo, refs: Sequence[FeatureRef]) -> _Plan:
    wanted: dict[str, list[str]] = {}
    for ref in refs:
        if ref.on_demand:
            for view, feat in source_features(repo, repo.on_demand[ref.view]).values():
                wanted.setdefault(view, [])
                if feat.name not in wanted[view]:
                    wanted[view].append(feat.name)
        else:
            wanted.setdefault(ref.view, [])
            if ref.feature not in wanted[ref.view]:
                wanted[ref.view].append(ref.feature)
    return _Plan(views=tuple(repo.views[v] for v in wanted),
                 features={v: tuple(f) for v, f in wanted.items()})


def _hidden(index: int, feature: str) -> str:
    return f"__mlf_{index}_{feature}"


def _check_inputs(con: duckdb.DuckDBPyConnection, plan: _Plan, *, entity_path: Path,
                  timestamp_column: str) -> tuple[str, ...]:
    """The entity table's columns, after checking every file the request reads."""
    entity = parquet_schema(con, entity_path, "entity file")
    require_timestamp(entity, timestamp_column, what="entity file", path=entity_path)
    for column in entity:
        if column == "file_row_number" or column.startswith("__mlf_"):
            raise FeatureDataError(f"entity file {str(entity_path)!r}: column {column!r} is a "
                                   "reserved name; rename it")
    for view in plan.views:
        require_columns(entity, view.join_keys, what="entity file", path=entity_path)
        what = f"source of feature view {view.name}"
        schema = parquet_schema(con, view.source_path, what)
        require_columns(schema, [*view.join_keys, *plan.features[view.name]], what=what,
                        path=view.source_path)
        require_timestamp(schema, view.timestamp_field, what=what, path=view.source_path)
        if view.created_timestamp_field is not None:
            require_timestamp(schema, view.created_timestamp_field, what=what,
                              path=view.source_path)
    return tuple(entity)


def _view_cte(index: int, view: FeatureView, features: Sequence[str]) -> str:
    t = f"CAST({sql_ident(view.timestamp_field)} AS TIMESTAMPTZ)"
    c = ("TIMESTAMPTZ '-infinity'" if view.created_timestamp_field is None else
         f"coalesce(CAST({sql_ident(view.created_timestamp_field)} AS TIMESTAMPTZ), "
         "TIMESTAMPTZ '-infinity')")
    cols = ", ".join(sql_ident(k) for k in (*view.join_keys, *features))
    src = sql_string(parquet_glob(view.source_path))
    return (f"__mlf_v{index} AS (SELECT {cols}, {t} AS __mlf_ts, "
            f"{_ROW_KEY.format(t=t, c=c)} AS __mlf_k "
            f"FROM read_parquet({src}, file_row_number = true) "
            f"WHERE {sql_ident(view.timestamp_field)} IS NOT NULL)")


def _view_columns(index: int, view: FeatureView, features: Sequence[str]) -> list[str]:
    alias = f"__mlf_v{index}"
    out = []
    for name in features:
        value = f"CAST({alias}.{sql_ident(name)} AS {SQL_TYPES[view.feature(name).dtype]})"
        if view.ttl_s is not None:
            ttl_us = round(view.ttl_s * 1e6)
            value = (f"CASE WHEN {alias}.__mlf_ts >= __mlf_e.__mlf_t - "
                     f"to_microseconds({ttl_us}) THEN {value} END")
        out.append(f"{value} AS {sql_ident(_hidden(index, name))}")
    return out


def _joined_cte(plan: _Plan, *, entity_path: Path, timestamp_column: str) -> list[str]:
    t = f"CAST({sql_ident(timestamp_column)} AS TIMESTAMPTZ)"
    ctes = [f"__mlf_e AS (SELECT * EXCLUDE (file_row_number), file_row_number AS __mlf_row, "
            f"{t} AS __mlf_t, {_ENTITY_KEY.format(t=t)} AS __mlf_k "
            f"FROM read_parquet({sql_string(str(entity_path))}, file_row_number = true))"]
    select, joins = ["__mlf_e.*"], []
    for i, view in enumerate(plan.views):
        feats = plan.features[view.name]
        ctes.append(_view_cte(i, view, feats))
        select.extend(_view_columns(i, view, feats))
        keys = " AND ".join(f"__mlf_e.{sql_ident(k)} = __mlf_v{i}.{sql_ident(k)}"
                            for k in view.join_keys)
        joins.append(f"ASOF LEFT JOIN __mlf_v{i} ON {keys} AND __mlf_e.__mlf_k >= __mlf_v{i}.__mlf_k")
    ctes.append(f"__mlf_j AS (SELECT {', '.join(select)} FROM __mlf_e {' '.join(joins)})")
    return ctes


def historical_query(repo: FeatureRepo, refs: Sequence[FeatureRef], *, entity_path: Path,
                     entity_columns: Sequence[str], timestamp_column: str,
                     full_names: bool = False) -> str:
    """The SQL of a retrieval (entity columns, then one column per ref, input row order)."""
    plan = _plan(repo, refs)
    index = {view.name: i for i, view in enumerate(plan.views)}
    hidden = {(v, f): _hidden(index[v], f) for v, feats in plan.features.items() for f in feats}
    ctes = _joined_cte(plan, entity_path=entity_path, timestamp_column=timestamp_column)
    select = [f"__mlf_j.{sql_ident(c)}" for c in entity_columns]
    joins = []
    for o, odv_name in enumerate(dict.fromkeys(r.view for r in refs if r.on_demand)):
        wanted = tuple(r.feature for r in refs if r.view == odv_name)
        inner, outer = on_demand_select(repo, repo.on_demand[odv_name], wanted, hidden)
        ctes.append(f"__mlf_o{o} AS (SELECT __mlf_row, {outer} FROM "
                    f"(SELECT __mlf_row, {inner} FROM __mlf_j))")
        joins.append(f"LEFT JOIN __mlf_o{o} ON __mlf_o{o}.__mlf_row = __mlf_j.__mlf_row")
    odv_alias = {name: f"__mlf_o{o}" for o, name in
                 enumerate(dict.fromkeys(r.view for r in refs if r.on_demand))}
    for ref in refs:
        column = (f"{odv_alias[ref.view]}.{sql_ident(ref.feature)}" if ref.on_demand
                  else f"__mlf_j.{sql_ident(hidden[(ref.view, ref.feature)])}")
        select.append(f"{column} AS {sql_ident(output_name(ref, full_names=full_names))}")
    return (f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM __mlf_j {' '.join(joins)} "
            "ORDER BY __mlf_j.__mlf_row")


def _check_names(entity_columns: Sequence[str], refs: Sequence[FeatureRef],
                 full_names: bool) -> None:
    seen = set(entity_columns)
    for ref in refs:
        name = output_name(ref, full_names=full_names)
        if name in seen:
            raise FeatureRepoError(f"output column {name!r} (from {ref.ref}) is taken twice; "
                                   "use full feature names (view__feature)")
        seen.add(name)


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that reads and writes timestamps in UTC."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def retrieve(repo: FeatureRepo, refs: Sequence[FeatureRef], *, entity_path: Path,
             out_path: Path, timestamp_column: str = "event_timestamp",
             full_names: bool = False) -> HistoricalResult:
    """Write point-in-time-correct features for ``entity_path``'s rows to ``out_path`` (Parquet).

    Raises FeatureDataError (missing/corrupt file, missing column) or FeatureRepoError
    (clashing output names); ``out_path`` is then left untouched.
    """
    start = time.perf_counter()
    con = connect()
    try:
        check_on_demand(repo, con)
        columns = _check_inputs(con, _plan(repo, refs), entity_path=entity_path,
                                timestamp_column=timestamp_column)
        _check_names(columns, refs, full_names)
        query = historical_query(repo, refs, entity_path=entity_path, entity_columns=columns,
                                 timestamp_column=timestamp_column, full_names=full_names)
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
