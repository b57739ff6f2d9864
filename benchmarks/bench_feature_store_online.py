"""The online side of the feature store against Feast 0.67, on the same data in the same run.

Run: ``.venv/bin/python benchmarks/bench_feature_store_online.py [--rows 1000000,10000000]
[--lookups 300] [--no-redis]``. Not a test. For each size, ``feature_data.generate`` writes
one data set (N ``user_stats`` rows over 100k users, a ``user_profile`` view) that both
systems read; then, each in its own child process (so each peak RSS is its own):

* materialization of the whole span: ``FeatureStore.materialize`` (DuckDB offline store,
  SQLite online store) against ``mlfleet.storage.features.materialize`` into SQLite, and
  into Redis (a ``redis-server`` this script starts). Goal: Feast / ours >= 20x on SQLite;
* online lookup of 100 random entities (10% unseen) for three features: p50/p99 of
  ``mlfleet.storage.features.online_lookup.lookup`` (SQLite, Redis) and of Feast's
  ``get_online_features`` on the same batches. Goal: ours p50 <= 2 ms on SQLite;
* agreement: both online stores read back for a sample of users; rows where the values
  differ are counted and shown.

Prints one table per size, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from feature_data import FEATURES, SPAN_S, START, FeatureData, feast_store, generate  # noqa: E402

BATCH = 100
"""Entities per online lookup (the acceptance criterion's batch)."""
SAMPLE_USERS = 3000
"""Users whose online values are compared between the two stores."""
END = START + timedelta(seconds=SPAN_S + 3600)


def _data(root: Path) -> FeatureData:
    meta = json.loads((root / "meta.json").read_text())
    return FeatureData(root=root, features_path=root / "data" / "user_stats.parquet",
                       profile_path=root / "data" / "user_profile.parquet",
                       entity_path=root / "data" / "entity_df.parquet",
                       repo_dir=root / "mlfleet", **meta)


def _batches(users: int, count: int, seed: int = 7) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, users + users // 10, size=BATCH).tolist() for _ in range(count)]


def _percentiles(times_s: list[float]) -> dict[str, float]:
    arr = np.array(times_s) * 1e3
    return {"p50_ms": float(np.percentile(arr, 50)), "p99_ms": float(np.percentile(arr, 99))}


# ------------------------------------------------------------------ children


def child_feast_materialize(root: Path) -> dict[str, Any]:
    store = feast_store(_data(root))
    began = time.perf_counter()
    store.materialize(START, END)
    return {"seconds": time.perf_counter() - began}


def _mlfleet_repo(root: Path, redis_url: str | None) -> Any:
    from mlfleet.storage.features.definitions import load_repo

    if redis_url is None:
        return load_repo(root / "mlfleet")
    repo_dir = root / "mlfleet_redis"
    repo_dir.mkdir(exist_ok=True)
    text = (root / "mlfleet" / "features.yaml").read_text()
    text = text.replace("backend: sqlite\n  path: online.db", f"backend: redis\n  url: {redis_url}")
    (repo_dir / "features.yaml").write_text(text)
    return load_repo(repo_dir)


def child_ours_materialize(root: Path, redis_url: str | None) -> dict[str, Any]:
    from mlfleet.storage.features.materialize import materialize
    from mlfleet.storage.features.online_cli import open_store

    repo = _mlfleet_repo(root, redis_url)
    store = open_store(repo, read_only=False)
    began = time.perf_counter()
    done = materialize(repo, store, start_ts_s=START.timestamp(), end_ts_s=END.timestamp())
    seconds = time.perf_counter() - began
    store.close()
    return {"seconds": seconds, "entities": sum(d.entities for d in done)}


def child_ours_lookup(root: Path, redis_url: str | None, count: int) -> dict[str, Any]:
    from mlfleet.storage.features.definitions import parse_feature_refs
    from mlfleet.storage.features.online_cli import open_store
    from mlfleet.storage.features.online_lookup import lookup

    repo = _mlfleet_repo(root, redis_url)
    refs = parse_feature_refs(repo, FEATURES)
    store = open_store(repo, read_only=True)
    now_s, times = END.timestamp(), []
    for batch in _batches(_data(root).users, count + 20):
        began = time.perf_counter()
        lookup(repo, store, refs, {"user_id": [str(u) for u in batch]}, now_s=now_s)
        times.append(time.perf_counter() - began)
    return _percentiles(times[20:])


def child_feast_lookup(root: Path, count: int) -> dict[str, Any]:
    store = feast_store(_data(root))
    times = []
    for batch in _batches(_data(root).users, count + 20):
        began = time.perf_counter()
        store.get_online_features(features=list(FEATURES),
                                  entity_rows=[{"user_id": u} for u in batch]).to_dict()
        times.append(time.perf_counter() - began)
    return _percentiles(times[20:])


def child_compare(root: Path) -> dict[str, Any]:
    """Values of both online stores for a sample of users (10% unseen)."""
    from mlfleet.storage.features.definitions import parse_feature_refs
    from mlfleet.storage.features.online_cli import open_store
    from mlfleet.storage.features.online_lookup import lookup

    data = _data(root)
    users = np.random.default_rng(3).choice(data.users + data.users // 10, SAMPLE_USERS,
                                            replace=False).tolist()
    theirs = feast_store(data).get_online_features(
        features=list(FEATURES), entity_rows=[{"user_id": u} for u in users]).to_dict()
    repo = _mlfleet_repo(root, None)
    rows = lookup(repo, open_store(repo, read_only=True), parse_feature_refs(repo, FEATURES),
                  {"user_id": [str(u) for u in users]}, now_s=END.timestamp())
    differ: list[dict[str, Any]] = []
    for at, row in enumerate(rows):
        for ref, served in row.features.items():
            other = theirs[ref.split(":")[1]][at]
            if served.value != other:
                differ.append({"user_id": users[at], "feature": ref, "ours": served.value,
                               "feast": other})
    return {"compared": len(users) * len(FEATURES), "differ": len(differ),
            "examples": differ[:5]}


# ------------------------------------------------------------------ parent


def peak_rss_mb() -> float:
    """This process's peak resident set (``VmHWM``), in MiB.

    Not ``ru_maxrss`` from ``wait4``: Linux carries the parent's high-water mark into a
    child across fork and exec, so every child would report at least the parent's peak
    (here the data generator's).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(*args: str) -> dict[str, Any]:
    """Run one child phase; its JSON result (with its own peak RSS)."""
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


class RedisServer:
    """A ``redis-server`` on a free port with its directory under ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def bench_size(root: Path, rows: int, lookups: int, redis: RedisServer | None) -> dict[str, Any]:
    data = generate(root, feature_rows=rows, entity_rows=100_000)
    (root / "meta.json").write_text(json.dumps({"feature_rows": data.feature_rows,
                                                "entity_rows": data.entity_rows,
                                                "users": data.users}))
    out: dict[str, Any] = {"rows": rows}
    out["feast_materialize"] = run_child("feast-materialize", str(root))
    out["ours_materialize"] = run_child("ours-materialize", str(root))
    out["ours_lookup"] = run_child("ours-lookup", str(root), str(lookups))
    out["feast_lookup"] = run_child("feast-lookup", str(root), str(lookups))
    out["compare"] = run_child("compare", str(root))
    if redis is not None:
        out["redis_materialize"] = run_child("ours-materialize", str(root), redis.url)
        out["redis_lookup"] = run_child("ours-lookup", str(root), str(lookups), redis.url)
    return out


def show(result: dict[str, Any]) -> None:
    fm, om = result["feast_materialize"], result["ours_materialize"]
    print(f"\n== {result['rows']:,} feature rows, 100k users ==")
    print(f"materialize  feast {fm['seconds']:.2f} s ({fm['peak_rss_mb']:.0f} MB)   mlfleet "
          f"sqlite {om['seconds']:.2f} s ({om['peak_rss_mb']:.0f} MB)   feast/mlfleet "
          f"{fm['seconds'] / om['seconds']:.1f}x (goal >= 20x)")
    if "redis_materialize" in result:
        rm = result["redis_materialize"]
        print(f"             mlfleet redis {rm['seconds']:.2f} s ({rm['peak_rss_mb']:.0f} MB)")
    for name, key in (("mlfleet sqlite", "ours_lookup"), ("mlfleet redis", "redis_lookup"),
                      ("feast sqlite", "feast_lookup")):
        if key in result:
            r = result[key]
            print(f"lookup {BATCH}    {name:15s} p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
                  f"  ({r['peak_rss_mb']:.0f} MB)")
    c = result["compare"]
    print(f"agreement    {c['compared'] - c['differ']}/{c['compared']} values equal; "
          f"differ: {c['examples']}")


def child_main(args: list[str]) -> None:
    phase, root = args[0], Path(args[1])
    rest = args[2:]
    if phase == "feast-materialize":
        result = child_feast_materialize(root)
    elif phase == "ours-materialize":
        result = child_ours_materialize(root, rest[0] if rest else None)
    elif phase == "ours-lookup":
        result = child_ours_lookup(root, rest[1] if len(rest) > 1 else None, int(rest[0]))
    elif phase == "feast-lookup":
        result = child_feast_lookup(root, int(rest[0]))
    else:
        result = child_compare(root)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-fs-online-"))
    redis = None if args.no_redis or not shutil.which("redis-server") else RedisServer(workdir)
    results = []
    try:
        for rows in (int(r) for r in args.rows.split(",")):
            results.append(bench_size(workdir / f"n{rows}", rows, args.lookups, redis))
            show(results[-1])
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
