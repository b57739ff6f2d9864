"""Acceptance: historical retrieval equals a brute-force reference on random data.

Random feature rows (equal event times with different or equal created times, missing
created times), TTLs, unseen entities, entity rows before any feature row and with null
times, two views (one with created and TTL, one without either): the output must have
every entity row in order, never a value from the future, and exactly the reference's
values, with both join strategies (hash and ASOF). Each feature value is its source row's
index, so a value names the row it came from.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from offline_repo_builders import view_spec, write_repo

from mlfleet.storage.features.definitions import load_repo, parse_feature_refs
from mlfleet.storage.features.offline import retrieve

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Row:
    user: int
    event_min: int
    created_min: int | None


def _t(minutes: int | None) -> datetime | None:
    return None if minutes is None else T0 + timedelta(minutes=minutes)


rows_st = st.lists(st.builds(Row, st.integers(0, 3), st.integers(0, 20),
                             st.one_of(st.none(), st.integers(0, 5))), max_size=25)
entity_st = st.lists(st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(-3, 25)),
                               ), min_size=1, max_size=20)


def reference(rows: list[Row], user: int, t_min: int | None, ttl_min: int | None,
              use_created: bool) -> float | None:
    """The value of the latest row at or before ``t_min`` (ties: later created, later row)."""
    if t_min is None:
        return None
    best: tuple[int, float, int] | None = None
    for i, row in enumerate(rows):
        if row.user != user or row.event_min > t_min:
            continue
        created = (-1e18 if row.created_min is None else row.created_min) if use_created else 0.0
        key = (row.event_min, created, i)
        best = key if best is None or key > best else best
    if best is None or (ttl_min is not None and best[0] < t_min - ttl_min):
        return None
    return float(best[2])


def _write(path: Path, rows: list[Row], *, created: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols: dict[str, pa.Array] = {
        "user_id": pa.array([r.user for r in rows], pa.int64()),
        "event_timestamp": pa.array([_t(r.event_min) for r in rows], _TS),
        "x": pa.array([float(i) for i in range(len(rows))], pa.float64())}
    if created:
        cols["created"] = pa.array([_t(r.created_min) for r in rows], _TS)
    pq.write_table(pa.table(cols), path)


def _run(root: Path, a: list[Row], b: list[Row], entities: list[tuple[int, int | None]],
         ttl_min: int | None, strategy: str) -> list[dict[str, object]]:
    _write(root / "data" / "a.parquet", a, created=True)
    _write(root / "data" / "b.parquet", b, created=False)
    ttl = {} if ttl_min is None else {"ttl": f"{ttl_min}min"}
    write_repo(root, views=[
        view_spec(name="a", source="data/a.parquet", **ttl),
        view_spec(name="b", source="data/b.parquet", created_timestamp_field=None)])
    pq.write_table(pa.table({"user_id": pa.array([e[0] for e in entities], pa.int64()),
                             "event_timestamp": pa.array([_t(e[1]) for e in entities], _TS)}),
                   root / "entities.parquet")
    repo = load_repo(root)
    out = root / "out.parquet"
    retrieve(repo, parse_feature_refs(repo, ["a:x,b:x"]), entity_path=root / "entities.parquet",
             out_path=out, full_names=True, strategy=strategy)
    rows: list[dict[str, object]] = pq.read_table(out).to_pylist()
    return rows


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(a=[Row(0, 5, None)], b=[], entities=[(0, 10), (0, 11)], ttl_min=5)  # TTL edge kept
@example(a=[Row(1, 2, 3), Row(1, 2, 4), Row(1, 2, 1)], b=[Row(1, 2, None), Row(1, 2, None)],
         entities=[(1, 2), (1, 1), (1, None), (7, 3)], ttl_min=None)  # ties, future, null, unseen
@given(a=rows_st, b=rows_st, entities=entity_st,
       ttl_min=st.one_of(st.none(), st.integers(1, 10)))
def test_historical_equals_brute_force(a: list[Row], b: list[Row],
                                       entities: list[tuple[int, int | None]],
                                       ttl_min: int | None) -> None:
    for strategy in ("hash", "asof"):
        with tempfile.TemporaryDirectory() as scratch:
            got = _run(Path(scratch), a, b, entities, ttl_min, strategy)
        _check(got, a, b, entities, ttl_min)


def _check(got: list[dict[str, object]], a: list[Row], b: list[Row],
           entities: list[tuple[int, int | None]], ttl_min: int | None) -> None:
    assert [(r["user_id"], r["event_timestamp"]) for r in got] == \
        [(u, _t(t)) for u, t in entities]  # every row, in order
    for row, (user, t_min) in zip(got, entities, strict=True):
        assert row["a__x"] == reference(a, user, t_min, ttl_min, use_created=True)
        assert row["b__x"] == reference(b, user, t_min, None, use_created=False)
        for rows, value in ((a, row["a__x"]), (b, row["b__x"])):
            if value is not None:  # never from the future
                assert isinstance(value, float) and t_min is not None
                assert rows[int(value)].event_min <= t_min
