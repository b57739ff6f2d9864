"""The SQL of a point-in-time-correct retrieval (DuckDB), built from a repository and refs.

Each feature view is joined by one of two strategies that give the same result:

* **hash** (entity rows rarely share keys): a hash join of the entity rows with the source
  on the keys, keeping source rows with ``t - ttl <= event <= t``, and per entity row
  ``arg_max`` over ``(event, created, row number in its file)``. No sort; the work is
  linear in the source rows times the entity rows per key, so it is chosen only when
  that multiplicity is small (:data:`HASH_MAX_MULTIPLICITY`).
* **asof** (otherwise): ``entity ASOF LEFT JOIN source(keys, event)`` finds the latest event
  time ``t*`` at or before each entity row's (only keys and event times go through its sort),
  then entity rows within the TTL are hash-joined with the source on ``(keys, event = t*)``
  and ``arg_max`` over ``(created, row)`` settles ties.

Entity rows then get their values by a left join on their row number, on-demand features
are computed from them, and the result is ordered as the input. Timestamps are compared as
``TIMESTAMPTZ`` (microseconds, UTC for naive ones). Every name is quoted; internal columns
start with ``__mlf_``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlfleet.storage.features.definitions import FeatureRef, FeatureRepo, FeatureView
from mlfleet.storage.features.on_demand import SQL_TYPES, on_demand_select, source_features
from mlfleet.storage.features.sources import parquet_glob, sql_ident, sql_string

HASH_MAX_MULTIPLICITY = 4.0
"""The hash strategy is used while sum(n_k^2)/sum(n_k) over the entity table's key groups
(n_k entity rows with keys k: the expected number of entity rows a source row meets) is at
most this; above it the pairs a hash join produces could outgrow the ASOF's sort."""
STRATEGIES = ("auto", "hash", "asof")


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The views a request touches and the features it reads from each (in request order)."""

    views: tuple[FeatureView, ...]
    features: Mapping[str, tuple[str, ...]]
    """View name -> features read (requested, then those on-demand features need)."""
    hash_views: frozenset[str] = frozenset()
    """Views joined by the hash strategy; the others by ASOF."""


def output_name(ref: FeatureRef, *, full_names: bool) -> str:
    """The output column of ``ref``: the feature's name, or ``view__feature``."""
    return f"{ref.view}__{ref.feature}" if full_names else ref.feature


def plan(repo: FeatureRepo, refs: Sequence[FeatureRef]) -> Plan:
    """Which views and features ``refs`` read, on-demand sources included."""
    wanted: dict[str, list[str]] = {}
    for ref in refs:
        pairs = (source_features(repo, repo.on_demand[ref.view]).values() if ref.on_demand
                 else [(ref.view, repo.views[ref.view].feature(ref.feature))])
        for view, feat in pairs:
            if feat.name not in wanted.setdefault(view, []):
                wanted[view].append(feat.name)
    return Plan(views=tuple(repo.views[v] for v in wanted),
                features={v: tuple(f) for v, f in wanted.items()})


def _ts(column: str) -> str:
    return f"CAST({sql_ident(column)} AS TIMESTAMPTZ)"


def _source(view: FeatureView, *, row_numbers: bool = False) -> str:
    option = ", file_row_number = true" if row_numbers else ""
    return f"read_parquet({sql_string(parquet_glob(view.source_path))}{option})"


def _match_cte(plan_: Plan) -> str:
    """Entity rows with, per view i, the latest event time at or before theirs (``__mlf_ti``)."""
    keys = dict.fromkeys(k for view in plan_.views for k in view.join_keys)
    select = ["__mlf_e.__mlf_row", "__mlf_e.__mlf_t",
              *(f"__mlf_e.{sql_ident(k)}" for k in keys)]
    joins = []
    for i, view in enumerate(plan_.views):
        if view.name in plan_.hash_views:
            continue
        cols = ", ".join(sql_ident(k) for k in view.join_keys)
        on = " AND ".join(f"__mlf_e.{sql_ident(k)} = __mlf_a{i}.{sql_ident(k)}"
                          for k in view.join_keys)
        joins.append(f"ASOF LEFT JOIN (SELECT {cols}, {_ts(view.timestamp_field)} AS __mlf_ts "
                     f"FROM {_source(view)} WHERE {sql_ident(view.timestamp_field)} IS NOT NULL) "
                     f"__mlf_a{i} ON {on} AND __mlf_e.__mlf_t >= __mlf_a{i}.__mlf_ts")
        select.append(f"__mlf_a{i}.__mlf_ts AS __mlf_t{i}")
    return f"__mlf_m AS (SELECT {', '.join(select)} FROM __mlf_e {' '.join(joins)})"


def _pick_cte(i: int, view: FeatureView, features: Sequence[str]) -> str:
    """Per entity row, the features of the source row that wins the tie at ``__mlf_ti``."""
    values = ", ".join(f"{sql_ident(f)} := CAST(s.{sql_ident(f)} AS "
                       f"{SQL_TYPES[view.feature(f).dtype]})" for f in features)
    created = _created(view)
    on = " AND ".join(f"s.{sql_ident(k)} = __mlf_m.{sql_ident(k)}" for k in view.join_keys)
    where = f"__mlf_m.__mlf_t{i} IS NOT NULL"
    if view.ttl_s is not None:
        where = f"__mlf_m.__mlf_t{i} >= __mlf_m.__mlf_t - to_microseconds({round(view.ttl_s * 1e6)})"
    return (f"__mlf_p{i} AS (SELECT __mlf_m.__mlf_row, arg_max(struct_pack({values}), "
            f"struct_pack(c := {created}, r := s.file_row_number)) AS __mlf_v "
            f"FROM __mlf_m JOIN {_source(view, row_numbers=True)} s ON {on} AND "
            f"CAST(s.{sql_ident(view.timestamp_field)} AS TIMESTAMPTZ) = __mlf_m.__mlf_t{i} "
            f"WHERE {where} GROUP BY __mlf_m.__mlf_row)")


def _hash_cte(i: int, view: FeatureView, features: Sequence[str]) -> str:
    """Per entity row, the latest source row at or before its time (within the TTL).

    With a TTL, both sides also join on a time bucket ``event // ttl``: a row within
    ``[t - ttl, t]`` lies in ``t``'s bucket or the one before (each entity row is entered
    in both), so the range test runs only on rows of nearby times.
    """
    values = ", ".join(f"{sql_ident(f)} := CAST(s.{sql_ident(f)} AS "
                       f"{SQL_TYPES[view.feature(f).dtype]})" for f in features)
    event = f"CAST(s.{sql_ident(view.timestamp_field)} AS TIMESTAMPTZ)"
    on = " AND ".join(f"s.{sql_ident(k)} = e.{sql_ident(k)}" for k in view.join_keys)
    on += f" AND {event} <= e.__mlf_t"
    entity, source = "__mlf_e e", f"{_source(view, row_numbers=True)} s"
    if view.ttl_s is not None:
        ttl_us = max(1, round(view.ttl_s * 1e6))
        on += f" AND {event} >= e.__mlf_t - to_microseconds({ttl_us}) AND s.__mlf_b = e.__mlf_b"
        entity = (f"(SELECT __mlf_e.*, epoch_us(__mlf_t) // {ttl_us} - d.d AS __mlf_b "
                  "FROM __mlf_e, (VALUES (0), (1)) d(d)) e")
        source = (f"(SELECT *, epoch_us({_ts(view.timestamp_field)}) // {ttl_us} AS __mlf_b "
                  f"FROM {_source(view, row_numbers=True)}) s")
    return (f"__mlf_p{i} AS (SELECT e.__mlf_row, arg_max(struct_pack({values}), "
            f"struct_pack(t := {event}, c := {_created(view)}, r := s.file_row_number)) "
            f"AS __mlf_v FROM {entity} JOIN {source} ON {on} GROUP BY e.__mlf_row)")


def _created(view: FeatureView) -> str:
    if view.created_timestamp_field is None:
        return "TIMESTAMPTZ '-infinity'"
    return (f"coalesce(CAST(s.{sql_ident(view.created_timestamp_field)} AS TIMESTAMPTZ), "
            "TIMESTAMPTZ '-infinity')")


def multiplicity_sql(entity_path: Path, keys: Sequence[str]) -> str:
    """SQL for sum(n^2)/sum(n) over the entity table's groups of ``keys`` (1.0 when unique)."""
    cols = ", ".join(sql_ident(k) for k in keys)
    return (f"SELECT coalesce(sum(n * n) / sum(n), 1.0) FROM (SELECT count(*)::DOUBLE AS n "
            f"FROM read_parquet({sql_string(str(entity_path))}) GROUP BY {cols})")


def hidden_name(index: int, feature: str) -> str:
    """The internal column holding feature ``feature`` of the plan's view ``index``."""
    return f"__mlf_{index}_{feature}"


def joined_ctes(plan_: Plan, *, entity_path: Path, timestamp_column: str) -> list[str]:
    """CTEs ending in ``__mlf_j``: every entity column, ``__mlf_row``, and hidden features."""
    t = _ts(timestamp_column)
    ctes = [f"__mlf_e AS (SELECT * EXCLUDE (file_row_number), file_row_number AS __mlf_row, "
            f"{t} AS __mlf_t FROM read_parquet({sql_string(str(entity_path))}, "
            "file_row_number = true))"]
    if any(view.name not in plan_.hash_views for view in plan_.views):
        ctes.append(_match_cte(plan_))
    select, joins = ["__mlf_e.*"], []
    for i, view in enumerate(plan_.views):
        feats = plan_.features[view.name]
        ctes.append(_hash_cte(i, view, feats) if view.name in plan_.hash_views
                    else _pick_cte(i, view, feats))
        joins.append(f"LEFT JOIN __mlf_p{i} ON __mlf_p{i}.__mlf_row = __mlf_e.__mlf_row")
        select.extend(f"__mlf_p{i}.__mlf_v.{sql_ident(f)} AS {sql_ident(hidden_name(i, f))}"
                      for f in feats)
    ctes.append(f"__mlf_j AS (SELECT {', '.join(select)} FROM __mlf_e {' '.join(joins)})")
    return ctes


def historical_query(repo: FeatureRepo, refs: Sequence[FeatureRef], *, entity_path: Path,
                     entity_columns: Sequence[str], timestamp_column: str,
                     full_names: bool = False, hash_views: frozenset[str] = frozenset()) -> str:
    """The SQL of a retrieval: entity columns, then one column per ref, in input row order.

    Views named in ``hash_views`` use the hash strategy, the others ASOF.
    """
    plan_ = dataclasses.replace(plan(repo, refs), hash_views=hash_views)
    index = {view.name: i for i, view in enumerate(plan_.views)}
    hidden = {(v, f): hidden_name(index[v], f) for v, feats in plan_.features.items()
              for f in feats}
    ctes = joined_ctes(plan_, entity_path=entity_path, timestamp_column=timestamp_column)
    odvs = {name: f"__mlf_o{o}" for o, name in
            enumerate(dict.fromkeys(r.view for r in refs if r.on_demand))}
    joins = []
    for name, alias in odvs.items():
        wanted = tuple(r.feature for r in refs if r.view == name)
        inner, outer = on_demand_select(repo, repo.on_demand[name], wanted, hidden)
        ctes.append(f"{alias} AS (SELECT __mlf_row, {outer} FROM "
                    f"(SELECT __mlf_row, {inner} FROM __mlf_j))")
        joins.append(f"LEFT JOIN {alias} ON {alias}.__mlf_row = __mlf_j.__mlf_row")
    select = [f"__mlf_j.{sql_ident(c)}" for c in entity_columns]
    for ref in refs:
        column = (f"{odvs[ref.view]}.{sql_ident(ref.feature)}" if ref.on_demand
                  else f"__mlf_j.{sql_ident(hidden[(ref.view, ref.feature)])}")
        select.append(f"{column} AS {sql_ident(output_name(ref, full_names=full_names))}")
    return (f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM __mlf_j {' '.join(joins)} "
            "ORDER BY __mlf_j.__mlf_row")
