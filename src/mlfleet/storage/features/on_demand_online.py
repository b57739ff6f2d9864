"""On-demand features at request time: the view's SQL expressions over a batch, in DuckDB.

The inputs are the served values of every feature of the on-demand view's sources, as
typed columns named after the features, the names the expressions use offline
(:func:`mlfleet.storage.features.on_demand.source_features`); each expression is cast
to its declared type as offline (:func:`~mlfleet.storage.features.on_demand.expression_sql`).
One query computes every feature of the view for the whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlfleet.storage.features.definitions import FeatureRepo, FeatureRepoError, OnDemandView
from mlfleet.storage.features.online_store import FeatureValue

ARROW_TYPES = {"bool": "bool_", "int32": "int32", "int64": "int64", "float32": "float32",
               "float64": "float64", "string": "string"}
"""Repository dtype -> the pyarrow type factory of the same name."""


def coerce(value: FeatureValue, dtype: str) -> FeatureValue:
    """``value`` as the Python type of ``dtype`` (SQLite hands booleans back as 0/1)."""
    if value is None:
        return None
    if dtype == "bool":
        return bool(value)
    if dtype.startswith("int"):
        return int(value)
    if dtype.startswith("float"):
        return float(value)
    return str(value)


def input_refs(repo: FeatureRepo, odv: OnDemandView) -> list[str]:
    """``view:feature`` of every input of ``odv``, in the order :func:`evaluate` takes them."""
    from mlfleet.storage.features.on_demand import source_features

    return [f"{view}:{name}" for name, (view, _) in source_features(repo, odv).items()]


def evaluate(repo: FeatureRepo, odv: OnDemandView,
             rows: Sequence[Mapping[str, FeatureValue]]) -> list[list[FeatureValue]]:
    """Each row's on-demand values, in the order of ``odv.features``; ``rows`` maps each
    input (:func:`input_refs`) to its value. :class:`FeatureRepoError` if one fails."""
    import duckdb
    import pyarrow as pa

    from mlfleet.storage.features.on_demand import expression_sql, source_features
    from mlfleet.storage.features.sources import sql_ident

    columns = {name: pa.array([coerce(row[f"{view}:{name}"], feat.dtype) for row in rows],
                              getattr(pa, ARROW_TYPES[feat.dtype])())
               for name, (view, feat) in source_features(repo, odv).items()}
    batch = pa.table(columns)
    select = ", ".join(f"{expression_sql(f)} AS {sql_ident(f.name)}" for f in odv.features)
    try:
        with duckdb.connect() as con:
            con.register("batch", batch)
            result = con.execute(f"SELECT {select} FROM batch").fetchall()
    except duckdb.Error as exc:
        first = " ".join(str(exc).split())[:200]
        raise FeatureRepoError(f"on-demand view {odv.name}: an expression failed: {first}") \
            from None
    return [list(r) for r in result]
