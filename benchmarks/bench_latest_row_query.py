"""Materialization's "latest row per entity" query: ``max_by`` over a packed key against
the textbook ``row_number()`` window, in DuckDB, on the same generated data.

Run: ``.venv/bin/python benchmarks/bench_latest_row_query.py [--rows 10000000] [--repeats 3]``.
Not a test. Both queries select the rows of ``user_stats`` (``benchmarks/feature_data.py``)
with the latest event time per user, ties broken by the later ``created``; the script
checks they return the same rows and prints the median time of each (run alternately,
after one warm-up each) and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import duckdb  # noqa: E402

from feature_data import generate  # noqa: E402
from mlfleet.storage.features.definitions import load_repo  # noqa: E402
from mlfleet.storage.features.materialize import latest_rows_sql  # noqa: E402
from mlfleet.storage.features.sources import parquet_schema  # noqa: E402

END_TS_S = 2e9


def row_number_sql(path: Path) -> str:
    """The same rows by ``QUALIFY row_number() OVER (…) = 1``, in the same columns."""
    return (f"SELECT CAST(user_id AS VARCHAR) AS k, epoch_us(event_timestamp) / 1e6, "
            f"epoch_us(created) / 1e6, clicks_7d, ctr FROM read_parquet('{path}') "
            f"WHERE event_timestamp <= to_timestamp({END_TS_S!r}) AND user_id IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY event_timestamp DESC, "
            "created DESC) = 1 ORDER BY k")


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, list[tuple[object, ...]]]:
    began = time.perf_counter()
    rows = con.sql(sql).fetchall()
    return time.perf_counter() - began, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-latest-") as tmp:
        data = generate(Path(tmp), feature_rows=args.rows, entity_rows=10)
        view = load_repo(data.repo_dir).views["user_stats"]
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        schema = parquet_schema(con, view.source_path, "user_stats")
        ours_sql = latest_rows_sql(view, schema, start_ts_s=None, end_ts_s=END_TS_S)
        window_sql = row_number_sql(view.source_path)
        _, ours_rows = timed(con, ours_sql)
        _, window_rows = timed(con, window_sql)
        same = ours_rows == window_rows
        ours, window = [], []
        for _ in range(args.repeats):
            ours.append(timed(con, ours_sql)[0])
            window.append(timed(con, window_sql)[0])
    t_ours, t_window = statistics.median(ours), statistics.median(window)
    print(f"{args.rows:,} rows, {len(ours_rows):,} entities; same rows: {same}")
    print(f"max_by packed key   {t_ours:.3f} s   (runs: {', '.join(f'{t:.2f}' for t in ours)})")
    print(f"row_number window   {t_window:.3f} s   (runs: "
          f"{', '.join(f'{t:.2f}' for t in window)})")
    print(f"row_number / max_by {t_window / t_ours:.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
