"""Checkpoint shard write bandwidth vs ``dd ... conv=fdatasync`` on the same disk, same run.

Per shard size: ``dd if=SRC of=F bs=16M count=N conv=fdatasync`` (the bound: one
sequential writer, data forced to disk) and ``CheckpointStore.write_shard`` (safetensors
header + tensor bytes, SHA-256, fsync, rename, sidecar, directory fsync) of the same number
of bytes, alternated ``--repeats`` times so all see the same disk weather. The shard holds
random bytes; dd runs twice, from ``/dev/zero`` and from the same random bytes staged in
``/dev/shm`` (RAM), because a virtual disk may treat zeros specially (on this machine's
virtio disk dd of zeros was sometimes slower, sometimes twice as fast as the same
count of random bytes). The bound is the faster dd median; the ratio against dd of the
same random bytes is printed too.
Acceptance (issue 12): ours >= 80% of dd for large shards. Prints the medians and ratio,
the CPU seconds per GB each spends (dd: its process; ours: all threads, SHA-256 included)
and the host's load average: on a shared host the checksum's CPU, not the disk, can bound us.
As a diagnostic, the same write path also runs with the block hasher replaced by a no-op
("no-checksum ratio"): the store never does that, it only shows what the checksum costs.

    python benchmarks/bench_checkpoint_write.py [--sizes 256M,1G] [--repeats 3] [--dir DIR]
        [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

import torch

from mlfleet.storage.checkpoint import CheckpointStore, shard_file
from mlfleet.units import format_bytes, format_rate, parse_quantity

DD_BLOCK = 16 << 20


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def dd_bandwidth(path: Path, size_bytes: int, source: str) -> tuple[float, float]:
    """(bytes/s, CPU seconds per GB) of one dd run."""
    count = size_bytes // DD_BLOCK
    cpu, start = _children_cpu_s(), time.perf_counter()
    subprocess.run(["dd", f"if={source}", f"of={path}", f"bs={DD_BLOCK}", f"count={count}",
                    "conv=fdatasync"], check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    path.unlink()
    return count * DD_BLOCK / elapsed, (_children_cpu_s() - cpu) / (count * DD_BLOCK / 1e9)


def store_bandwidth(root: Path, shard: dict[str, torch.Tensor], step: int) -> tuple[float, float]:
    """(bytes/s, CPU seconds per GB, all threads) of one ``write_shard``."""
    store = CheckpointStore(root, keep_last=1)
    cpu, start = time.process_time(), time.perf_counter()
    rec = store.write_shard(step, "rank-00000", shard)
    elapsed = time.perf_counter() - start
    cpu_s = time.process_time() - cpu
    shutil.rmtree(store.staging_path(step))
    return rec.bytes / elapsed, cpu_s / (rec.bytes / 1e9)


class _NoHash:
    """Diagnostic stand-in for the block hasher: same write path, no checksum CPU."""

    def __init__(self, *, parallel: bool) -> None:
        pass

    def update(self, data: object) -> None:
        pass

    def hexdigest(self) -> str:
        return "0" * 64


def store_bandwidth_without_checksum(root: Path, shard: dict[str, torch.Tensor],
                                     step: int) -> tuple[float, float]:
    with mock.patch.object(shard_file, "TreeHasher", _NoHash):
        return store_bandwidth(root, shard, step)


def measure(size_bytes: int, *, repeats: int, workdir: Path) -> dict[str, Any]:
    n = size_bytes // DD_BLOCK * DD_BLOCK
    shard = {"w": torch.randint(0, 256, (n,), dtype=torch.uint8,
                                generator=torch.Generator().manual_seed(0))}
    with tempfile.NamedTemporaryFile(dir="/dev/shm", prefix="bench-ckpt-") as src:
        src.write(shard["w"].numpy().data)
        src.flush()
        runs: dict[str, list[tuple[float, float]]] = {"dd_zero": [], "dd_random": [],
                                                      "store": [], "store_no_checksum": []}
        for k in range(repeats):
            runs["dd_zero"].append(dd_bandwidth(workdir / "dd.bin", n, "/dev/zero"))
            runs["dd_random"].append(dd_bandwidth(workdir / "dd.bin", n, src.name))
            runs["store"].append(store_bandwidth(workdir / "ckpt", shard, k))
            runs["store_no_checksum"].append(
                store_bandwidth_without_checksum(workdir / "ckpt", shard, 1000 + k))
    out: dict[str, Any] = {"size_bytes": n}
    for name, pairs in runs.items():
        out[f"{name}_bytes_per_s"] = [bw for bw, _ in pairs]
        out[f"{name}_cpu_s_per_gb"] = statistics.median(c for _, c in pairs)
    bound = max(statistics.median(out["dd_zero_bytes_per_s"]),
                statistics.median(out["dd_random_bytes_per_s"]))
    ours_m = statistics.median(out["store_bytes_per_s"])
    bare = statistics.median(out["store_no_checksum_bytes_per_s"])
    same_data = statistics.median(out["dd_random_bytes_per_s"])
    return {**out, "dd_bound_bytes_per_s": bound, "store_median_bytes_per_s": ours_m,
            "ratio": ours_m / bound, "ratio_vs_dd_same_data": ours_m / same_data,
            "ratio_without_checksum": bare / bound}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="256MiB,1GiB")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default=None, help="directory on the disk to test "
                        "(default: a temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-ckpt-") as tmp:
        rows = [measure(int(parse_quantity(s, "bytes")), repeats=args.repeats, workdir=Path(tmp))
                for s in args.sizes.split(",")]
    load = {"load_1min_before": load_before, "load_1min_after": os.getloadavg()[0],
            "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps({"rows": rows, **load}, indent=1))
        return 0
    print(f"host: {load['cpus']} CPUs, 1-min load {load_before:.1f} -> "
          f"{load['load_1min_after']:.1f}")
    print(f"{'shard':>10} {'dd zero':>10} {'dd random':>10} {'store':>10} {'ratio':>6}"
          f" {'vs dd random':>12} {'CPU s/GB dd':>11} {'store':>6} {'no-checksum ratio':>17}")
    for r in rows:
        med = [format_rate(statistics.median(r[k])) for k in
               ("dd_zero_bytes_per_s", "dd_random_bytes_per_s")]
        print(f"{format_bytes(r['size_bytes']):>10} {med[0]:>10} {med[1]:>10}"
              f" {format_rate(r['store_median_bytes_per_s']):>10} {r['ratio']:>6.2f}"
              f" {r['ratio_vs_dd_same_data']:>12.2f}"
              f" {r['dd_random_cpu_s_per_gb']:>11.2f} {r['store_cpu_s_per_gb']:>6.2f}"
              f" {r['ratio_without_checksum']:>17.2f}")
    print("ratio = store median / the faster dd median (>= 0.80 is the acceptance bound)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
