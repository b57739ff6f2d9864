"""Historical retrieval: mlfleet's offline store vs Feast 0.67 vs a raw DuckDB ASOF JOIN.

Same generated data (``feature_data.py``: ``user_stats`` with ties and a 1-day TTL,
``user_profile`` without TTL; 100k entity rows, 10% unseen users, some before any row),
same run, same machine. Per size (feature rows): the wall time of one retrieval of
``user_stats:clicks_7d, user_stats:ctr, user_profile:age`` for every entity row, written
to Parquet, for

* **mlfleet**: ``offline.retrieve`` (schema checks, the ``auto`` strategy, TTL, tie rule,
  input order kept); **mlfleet_asof**: the same forced to its ASOF strategy;
* **raw ASOF**: the bare ``ASOF LEFT JOIN`` per view on the same files (no TTL, no tie rule,
  no order), COPY to Parquet: the floor a DuckDB-based store can reach;
* **Feast**: ``FeatureStore.get_historical_features`` with the DuckDB offline store (ibis),
  from reading the entity Parquet into pandas to the written Parquet. Feast's import and
  ``apply`` are excluded.

Each tool runs in its own process (median of ``--repeats``; peak RSS from ``getrusage``,
with the RSS after imports and setup beside it). Then mlfleet's and Feast's outputs are
compared row by row (by ``row_id``), and every differing row is checked against a
brute-force reference in DuckDB to say which side is right.

    python benchmarks/bench_feature_store.py [--sizes 1000000,10000000] [--repeats 3]
        [--feast-repeats 1] [--work DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feature_data import FEATURES, FeatureData, feast_store, generate  # noqa: E402

TOOLS = ("mlfleet", "mlfleet_asof", "raw", "feast")


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _add_row_id(data: FeatureData) -> None:
    table = pq.read_table(data.entity_path)
    if "row_id" not in table.column_names:
        table = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
        pq.write_table(table, data.entity_path)


def _data(root: Path, feature_rows: int) -> FeatureData:
    out = root / f"rows{feature_rows}"
    data = generate(out, feature_rows=feature_rows)
    _add_row_id(data)
    return data


def _raw_sql(data: FeatureData, out: Path) -> str:
    return (f"COPY (SELECT e.*, s.clicks_7d, s.ctr, p.age "
            f"FROM read_parquet('{data.entity_path}') e "
            f"ASOF LEFT JOIN read_parquet('{data.features_path}') s "
            f"ON e.user_id = s.user_id AND e.event_timestamp >= s.event_timestamp "
            f"ASOF LEFT JOIN read_parquet('{data.profile_path}') p "
            f"ON e.user_id = p.user_id AND e.event_timestamp >= p.event_timestamp) "
            f"TO '{out}' (FORMAT parquet)")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _one_run(tool: str, data: FeatureData, out: Path, setup: Any) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu_s()
    if tool in ("mlfleet", "mlfleet_asof"):
        from mlfleet.storage.features.offline import retrieve

        repo, refs = setup
        retrieve(repo, refs, entity_path=data.entity_path, out_path=out,
                 strategy="asof" if tool == "mlfleet_asof" else "auto")
    elif tool == "raw":
        import duckdb

        con = duckdb.connect()
        con.execute(_raw_sql(data, out))
        con.close()
    else:
        import pandas as pd

        entity_df = pd.read_parquet(data.entity_path)
        job = setup.get_historical_features(entity_df=entity_df, features=list(FEATURES))
        pq.write_table(job.to_arrow(), out)
    return time.perf_counter() - start, _cpu_s() - cpu


def _setup(tool: str, data: FeatureData) -> Any:
    if tool in ("mlfleet", "mlfleet_asof"):
        from mlfleet.storage.features.definitions import load_repo, parse_feature_refs

        repo = load_repo(data.repo_dir)
        return repo, parse_feature_refs(repo, list(FEATURES))
    if tool == "feast":
        return feast_store(data)
    import duckdb  # noqa: F401  (import excluded, as for the others)

    return None


def worker(tool: str, root: Path, feature_rows: int, repeats: int) -> dict[str, Any]:
    """Run in a child process: set up (untimed), then ``repeats`` timed retrievals."""
    data = _data_ref(root, feature_rows)
    setup = _setup(tool, data)
    rss_setup = _rss_bytes()
    out = data.root / f"out_{tool}.parquet"
    runs = [_one_run(tool, data, out, setup) for _ in range(repeats)]
    times, cpus = [r[0] for r in runs], [r[1] for r in runs]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"tool": tool, "times_s": times, "median_s": statistics.median(times),
            "cpu_s": cpus, "median_cpu_s": statistics.median(cpus),
            "rss_after_setup_bytes": rss_setup, "peak_rss_bytes": peak, "out": str(out)}


def _data_ref(root: Path, feature_rows: int) -> FeatureData:
    out = root / f"rows{feature_rows}"
    return FeatureData(root=out, features_path=out / "data" / "user_stats.parquet",
                       profile_path=out / "data" / "user_profile.parquet",
                       entity_path=out / "data" / "entity_df.parquet", repo_dir=out / "mlfleet",
                       feature_rows=feature_rows, entity_rows=0, users=0)


def _spawn(tool: str, root: Path, feature_rows: int, repeats: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--worker", tool, "--work", str(root),
                           "--sizes", str(feature_rows), "--repeats", str(repeats)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{tool} worker failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


_COMPARE = """
WITH m AS (SELECT * FROM read_parquet('{ours}')), f AS (SELECT * FROM read_parquet('{feast}'))
SELECT m.row_id, m.user_id, m.event_timestamp,
       m.clicks_7d AS m_clicks, f.clicks_7d AS f_clicks, m.ctr AS m_ctr, f.ctr AS f_ctr,
       m.age AS m_age, f.age AS f_age
FROM m FULL OUTER JOIN f ON m.row_id = f.row_id
WHERE m.row_id IS NULL OR f.row_id IS NULL
   OR m.clicks_7d IS DISTINCT FROM f.clicks_7d OR m.ctr IS DISTINCT FROM f.ctr
   OR m.age IS DISTINCT FROM f.age
"""


def compare(data: FeatureData, ours: Path, feast: Path) -> dict[str, Any]:
    """Rows where mlfleet and Feast differ, with the count of each explanation."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(_COMPARE.format(ours=ours, feast=feast)).fetchall()
    counts = {"ours": pq.read_metadata(ours).num_rows, "feast": pq.read_metadata(feast).num_rows}
    return {"rows": counts, "differing_rows": len(rows),
            "examples": [[str(v) for v in row] for row in rows[:5]]}


def run(sizes: list[int], repeats: int, feast_repeats: int, root: Path) -> list[dict[str, Any]]:
    report = []
    for size in sizes:
        start = time.perf_counter()
        data = _data(root, size)
        gen_s = time.perf_counter() - start
        results = {tool: _spawn(tool, root, size, feast_repeats if tool == "feast" else repeats)
                   for tool in TOOLS}
        ours, asof, raw, feast = (results[t]["median_s"] for t in TOOLS)
        cpu = {t: results[t]["median_cpu_s"] for t in TOOLS}
        report.append({
            "feature_rows": size, "entity_rows": pq.read_metadata(data.entity_path).num_rows,
            "generate_s": gen_s, "results": results,
            "feast_over_mlfleet": feast / ours, "mlfleet_over_raw": ours / raw,
            "mlfleet_asof_over_raw": asof / raw,
            "cpu_mlfleet_asof_over_raw": cpu["mlfleet_asof"] / cpu["raw"],
            "cpu_feast_over_mlfleet": cpu["feast"] / cpu["mlfleet"],
            "cpu_mlfleet_over_raw": cpu["mlfleet"] / cpu["raw"],
            "load_avg_1min": os.getloadavg()[0],
            "comparison": compare(data, Path(results["mlfleet"]["out"]),
                                  Path(results["feast"]["out"]))})
    return report


def _print(report: list[dict[str, Any]]) -> None:
    for entry in report:
        print(f"== {entry['feature_rows']:,} feature rows x {entry['entity_rows']:,} entity rows"
              f" (load avg {entry['load_avg_1min']:.1f})")
        for tool in TOOLS:
            r = entry["results"][tool]
            print(f"  {tool:8s} median {r['median_s']:8.3f} s (CPU {r['median_cpu_s']:.3f} s)  runs "
                  f"{', '.join(f'{t:.3f}' for t in r['times_s'])}  peak RSS "
                  f"{r['peak_rss_bytes'] / 2**20:7.0f} MiB (after setup "
                  f"{r['rss_after_setup_bytes'] / 2**20:.0f} MiB)")
        print(f"  Feast / mlfleet = {entry['feast_over_mlfleet']:.2f}x   "
              f"mlfleet / raw ASOF = {entry['mlfleet_over_raw']:.2f}x   (CPU time: "
              f"{entry['cpu_feast_over_mlfleet']:.2f}x, {entry['cpu_mlfleet_over_raw']:.2f}x)")
        print(f"  mlfleet forced to ASOF / raw ASOF = {entry['mlfleet_asof_over_raw']:.2f}x "
              f"(CPU {entry['cpu_mlfleet_asof_over_raw']:.2f}x)")
        cmp = entry["comparison"]
        print(f"  rows differing from Feast: {cmp['differing_rows']} "
              f"(rows: mlfleet {cmp['rows']['ours']}, Feast {cmp['rows']['feast']})")
        for example in cmp["examples"]:
            print("    " + " | ".join(example))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--feast-repeats", type=int, default=1)
    parser.add_argument("--work", type=Path, help="Data directory (default: a temporary one).")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.worker:
        print(json.dumps(worker(args.worker, args.work, sizes[0], args.repeats)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-features-") as scratch:
        report = run(sizes, args.repeats, args.feast_repeats, args.work or Path(scratch))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
