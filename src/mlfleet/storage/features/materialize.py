"""Incremental materialization: the latest row per entity in a window, into the online store.

For each feature view, one DuckDB query over its Parquet source keeps the rows whose
event time lies in ``[start, end]`` (both ends included, as Feast's ``materialize``) and,
per entity, the one with the latest event time, ties broken by the later created time
(``QUALIFY row_number() … = 1``). The rows go to the online store in one bulk write,
which never replaces a newer stored row with an older one
(:class:`~mlfleet.storage.features.online_store.OnlineStore`). The store then records the
window, so a run without ``start`` continues where the last one ended (Feast's
``materialize-incremental``); a view never materialized starts at ``end − ttl``, or at
its first row when it has no TTL.

Every view is read before anything is written, so a bad source (missing, corrupt, a
column missing) leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet.storage.features.definitions import FeatureRepo, FeatureRepoError, FeatureView
from mlfleet.storage.features.online_store import (
    FeatureRow,
    MaterializedInterval,
    OnlineStore,
    entity_key,
)


@dataclass(frozen=True, kw_only=True)
class ViewMaterialization:
    """What one materialization did for one view."""

    view: str
    start_ts_s: float | None
    """Window start (seconds since the Unix epoch); None: from the view's first row."""
    end_ts_s: float
    """Window end, included."""
    entities: int
    """Entities with at least one row in the window (rows offered to the store)."""
    rows_written: int
    """Rows the store kept (the others were older than what it held)."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parquet_pattern(path: Path) -> str:
    """What ``read_parquet`` reads for a view source: a file, a glob, or every
    ``*.parquet`` under a directory."""
    return str(path / "**" / "*.parquet") if path.is_dir() else str(path)


def latest_rows_sql(view: FeatureView, *, bounded_below: bool) -> str:
    """The query for the latest row per entity of ``view`` in ``[?, ?]`` (or ``<= ?``).

    Columns: the join keys, the event and created times as epoch seconds, the features.
    """
    keys = ", ".join(_ident(k) for k in view.join_keys)
    ts = _ident(view.timestamp_field)
    created = _ident(view.created_timestamp_field) if view.created_timestamp_field else None
    feats = ", ".join(_ident(f.name) for f in view.features)
    window = (f"{ts} >= to_timestamp(?) AND " if bounded_below else "") + f"{ts} <= to_timestamp(?)"
    order = f"{ts} DESC" + (f", {created} DESC" if created else "")
    not_null = " AND ".join(f"{_ident(k)} IS NOT NULL" for k in view.join_keys)
    return (f"SELECT {keys}, epoch({ts}), {f'epoch({created})' if created else '0.0'}, {feats} "
            f"FROM read_parquet(?) WHERE {window} AND {not_null} "
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {order}) = 1")


def latest_rows(view: FeatureView, *, start_ts_s: float | None,
                end_ts_s: float) -> list[FeatureRow]:
    """The latest row per entity of ``view`` with event time in ``[start, end]``.

    :class:`FeatureRepoError` naming the source when it cannot be read or lacks a column.
    """
    import duckdb

    params: list[Any] = [] if start_ts_s is None else [start_ts_s]
    params.append(end_ts_s)
    sql = latest_rows_sql(view, bounded_below=start_ts_s is not None)
    try:
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            records = con.execute(sql, [parquet_pattern(view.source_path), *params]).fetchall()
    except duckdb.Error as exc:
        first = " ".join(str(exc).split())[:300]
        raise FeatureRepoError(f"feature view {view.name}: source {view.source!r} cannot be "
                               f"read: {first}") from None
    n_keys, names = len(view.join_keys), [f.name for f in view.features]
    return [FeatureRow(entity_key=entity_key(rec[:n_keys]),
                       values=dict(zip(names, rec[n_keys + 2:], strict=True)),
                       event_ts_s=float(rec[n_keys]), created_ts_s=float(rec[n_keys + 1]))
            for rec in records]


def window_start(view: FeatureView, store: OnlineStore, *, end_ts_s: float) -> float | None:
    """Where an incremental run starts: the last end, else ``end − ttl``, else None."""
    last = store.materialized(view.name)
    if last is not None:
        return last.end_ts_s
    return None if view.ttl_s is None else end_ts_s - view.ttl_s


def select_views(repo: FeatureRepo, names: Sequence[str] | None) -> list[FeatureView]:
    """The views to materialize (all when ``names`` is None); unknown names are an error."""
    if names is None:
        return list(repo.views.values())
    for name in names:
        if name not in repo.views:
            raise FeatureRepoError(f"feature view {name!r} does not exist; known: "
                                   f"{', '.join(repo.views) or '(none)'}")
    return [repo.views[name] for name in dict.fromkeys(names)]


def materialize(repo: FeatureRepo, store: OnlineStore, *, end_ts_s: float,
                start_ts_s: float | None = None, views: Sequence[str] | None = None,
                dry_run: bool = False) -> list[ViewMaterialization]:
    """Materialize ``views`` (default all) over ``[start, end]``; incremental without start.

    ``dry_run`` reads the sources and reports what would be offered, writing nothing.
    :class:`FeatureRepoError` for an unknown view, ``start > end`` or an unreadable source,
    before anything is written.
    """
    if start_ts_s is not None and start_ts_s > end_ts_s:
        raise FeatureRepoError(f"materialize window start(={start_ts_s!r}) is after "
                               f"end(={end_ts_s!r})")
    chosen = select_views(repo, views)
    starts = {v.name: start_ts_s if start_ts_s is not None
              else window_start(v, store, end_ts_s=end_ts_s) for v in chosen}
    batches = {v.name: latest_rows(v, start_ts_s=starts[v.name], end_ts_s=end_ts_s)
               if _nonempty(starts[v.name], end_ts_s) else [] for v in chosen}
    if dry_run:
        return [ViewMaterialization(view=v.name, start_ts_s=starts[v.name], end_ts_s=end_ts_s,
                                    entities=len(batches[v.name]), rows_written=0)
                for v in chosen]
    return [_store(store, view.name, batches[view.name], start_ts_s=starts[view.name],
                   end_ts_s=end_ts_s) for view in chosen]


def _nonempty(start_ts_s: float | None, end_ts_s: float) -> bool:
    return start_ts_s is None or start_ts_s <= end_ts_s


def _store(store: OnlineStore, view: str, rows: list[FeatureRow], *,
           start_ts_s: float | None, end_ts_s: float) -> ViewMaterialization:
    written = store.write(view, rows)
    last = store.materialized(view)
    start = start_ts_s if start_ts_s is not None else min(
        (r.event_ts_s for r in rows), default=end_ts_s)
    # The pointer the next incremental run starts from never moves back.
    end = max(end_ts_s, last.end_ts_s) if last is not None else end_ts_s
    store.record_materialized(view, MaterializedInterval(start_ts_s=min(start, end),
                                                         end_ts_s=end))
    return ViewMaterialization(view=view, start_ts_s=start_ts_s, end_ts_s=end_ts_s,
                               entities=len(rows), rows_written=written)
