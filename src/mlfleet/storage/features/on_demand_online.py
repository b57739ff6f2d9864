"""On-demand features at request time: the view's SQL expressions over a batch, in DuckDB.

The inputs are the served values of every feature of the on-demand view's sources, as
columns named after the features (the names the expressions use offline). One query
computes every feature of the view for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def evaluate(repo: FeatureRepo, odv: OnDemandView,
             rows: Sequence[Sequence[FeatureValue]]) -> list[list[FeatureValue]]:
    """Each row's on-demand values; ``rows`` holds, per entity, the values of every feature
    of ``odv.sources`` in source order. :class:`FeatureRepoError` if an expression fails."""
    import duckdb
    import pyarrow as pa

    inputs = [f for src in odv.sources for f in repo.views[src].features]
    columns = {f.name: pa.array([coerce(row[i], f.dtype) for row in rows],
                                getattr(pa, ARROW_TYPES[f.dtype])())
               for i, f in enumerate(inputs)}
    batch = pa.table(columns)
    select = ", ".join(f"({f.expression}) AS \"{f.name}\"" for f in odv.features)
    try:
        with duckdb.connect() as con:
            con.register("batch", batch)
            result = con.execute(f"SELECT {select} FROM batch").fetchall()
    except duckdb.Error as exc:
        first = " ".join(str(exc).split())[:200]
        raise FeatureRepoError(f"on-demand view {odv.name}: an expression failed: {first}") \
            from None
    return [list(r) for r in result]
