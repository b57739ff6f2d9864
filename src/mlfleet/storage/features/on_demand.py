"""On-demand features: SQL expressions over retrieved features, computed after the join.

An on-demand view's expression names its source views' features by their bare names
(``ctr * 100``). :func:`check_on_demand` binds every expression in DuckDB against typed
empty columns, so an unknown name or a type error is reported by ``apply``, not in the
middle of a retrieval. :func:`on_demand_sql` is the SELECT list that computes them.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from mlfleet.storage.features.definitions import (
    Feature,
    FeatureRepo,
    FeatureRepoError,
    OnDemandView,
)
from mlfleet.storage.features.sources import sql_ident

SQL_TYPES: Mapping[str, str] = {
    "bool": "BOOLEAN", "int32": "INTEGER", "int64": "BIGINT", "float32": "FLOAT",
    "float64": "DOUBLE", "string": "VARCHAR",
}
"""Declared dtype -> DuckDB type."""


def source_features(repo: FeatureRepo, odv: OnDemandView) -> dict[str, tuple[str, Feature]]:
    """Bare feature name -> (view, feature) over ``odv``'s sources; a name in two is an error."""
    out: dict[str, tuple[str, Feature]] = {}
    for view_name in odv.sources:
        for feat in repo.views[view_name].features:
            if feat.name in out:
                raise FeatureRepoError(
                    f"on-demand view {odv.name}: feature name {feat.name!r} is in both "
                    f"{out[feat.name][0]} and {view_name}; an expression could not tell them apart")
            out[feat.name] = (view_name, feat)
    return out


def expression_sql(feat: Feature) -> str:
    """``CAST((expression) AS type)`` for an on-demand feature."""
    assert feat.expression is not None
    return f"CAST(({feat.expression}) AS {SQL_TYPES[feat.dtype]})"


def check_on_demand(repo: FeatureRepo, con: duckdb.DuckDBPyConnection) -> None:
    """Bind every on-demand expression against typed NULL inputs; FeatureRepoError if one fails."""
    for odv in repo.on_demand.values():
        inputs = source_features(repo, odv)
        columns = ", ".join(f"NULL::{SQL_TYPES[f.dtype]} AS {sql_ident(name)}"
                            for name, (_, f) in inputs.items())
        for feat in odv.features:
            try:
                con.execute(f"SELECT {expression_sql(feat)} FROM (SELECT {columns}) LIMIT 0")
            except duckdb.Error as exc:
                reason = " ".join(str(exc).split())[:160]
                raise FeatureRepoError(
                    f"on-demand feature {odv.name}:{feat.name}: expression(={feat.expression!r}) "
                    f"does not evaluate over {', '.join(inputs)} ({reason})") from None


def on_demand_select(repo: FeatureRepo, odv: OnDemandView, wanted: tuple[str, ...],
                     hidden: Mapping[tuple[str, str], str]) -> tuple[str, str]:
    """(inner SELECT list renaming hidden columns to bare names, outer SELECT list of ``wanted``).

    ``hidden`` maps (view, feature) to the column that holds it in the joined table.
    """
    inputs = source_features(repo, odv)
    inner = ", ".join(f"{sql_ident(hidden[(view, name)])} AS {sql_ident(name)}"
                      for name, (view, _) in inputs.items())
    outer = ", ".join(f"{expression_sql(odv.feature(name))} AS {sql_ident(name)}"
                      for name in wanted)
    return inner, outer
