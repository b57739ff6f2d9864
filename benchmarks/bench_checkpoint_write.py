"""Checkpoint shard write bandwidth vs ``dd ... conv=fdatasync`` on the same disk, same run.

Per shard size: ``dd if=SRC of=F bs=16M count=N conv=fdatasync`` (the bound: one
sequential writer, data forced to disk) and ``CheckpointStore.write_shard`` (safetensors
header + tensor bytes, SHA-256, fsync, rename, sidecar, directory fsync) of the same number
of bytes, alternated ``--repeats`` times so all see the same disk weather. The shard holds
random bytes; dd runs twice, from ``/dev/zero`` and from the same random bytes staged in
``/dev/shm`` (RAM), because a virtual disk may treat zeros specially (on this machine's
virtio disk dd of zeros was the slower one). The bound is the faster dd median.
Acceptance (issue 12): ours >= 80% of dd for large shards. Prints the medians and ratio.

    python benchmarks/bench_checkpoint_write.py [--sizes 256M,1G] [--repeats 3] [--dir DIR]
        [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from mlfleet.storage.checkpoint import CheckpointStore
from mlfleet.units import format_bytes, format_rate, parse_quantity

DD_BLOCK = 16 << 20


def dd_bandwidth(path: Path, size_bytes: int, source: str) -> float:
    count = size_bytes // DD_BLOCK
    start = time.perf_counter()
    subprocess.run(["dd", f"if={source}", f"of={path}", f"bs={DD_BLOCK}", f"count={count}",
                    "conv=fdatasync"], check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    path.unlink()
    return count * DD_BLOCK / elapsed


def store_bandwidth(root: Path, shard: dict[str, torch.Tensor], step: int) -> float:
    store = CheckpointStore(root, keep_last=1)
    start = time.perf_counter()
    rec = store.write_shard(step, "rank-00000", shard)
    elapsed = time.perf_counter() - start
    shutil.rmtree(store.staging_path(step))
    return rec.bytes / elapsed


def measure(size_bytes: int, *, repeats: int, workdir: Path) -> dict[str, Any]:
    n = size_bytes // DD_BLOCK * DD_BLOCK
    shard = {"w": torch.randint(0, 256, (n,), dtype=torch.uint8,
                                generator=torch.Generator().manual_seed(0))}
    with tempfile.NamedTemporaryFile(dir="/dev/shm", prefix="bench-ckpt-") as src:
        src.write(shard["w"].numpy().data)
        src.flush()
        dd0, ddr, ours = [], [], []
        for k in range(repeats):
            dd0.append(dd_bandwidth(workdir / "dd.bin", n, "/dev/zero"))
            ddr.append(dd_bandwidth(workdir / "dd.bin", n, src.name))
            ours.append(store_bandwidth(workdir / "ckpt", shard, k))
    bound = max(statistics.median(dd0), statistics.median(ddr))
    ours_m = statistics.median(ours)
    return {"size_bytes": n, "dd_zero_bytes_per_s": dd0, "dd_random_bytes_per_s": ddr,
            "store_bytes_per_s": ours, "dd_bound_bytes_per_s": bound,
            "store_median_bytes_per_s": ours_m, "ratio": ours_m / bound}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="256MiB,1GiB")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default=None, help="directory on the disk to test "
                        "(default: a temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-ckpt-") as tmp:
        rows = [measure(int(parse_quantity(s, "bytes")), repeats=args.repeats, workdir=Path(tmp))
                for s in args.sizes.split(",")]
    if args.json:
        print(json.dumps({"rows": rows}, indent=1))
        return 0
    print(f"{'shard':>10} {'dd zero':>10} {'dd random':>10} {'store':>10} {'ratio':>6}")
    for r in rows:
        med = [format_rate(statistics.median(r[k])) for k in
               ("dd_zero_bytes_per_s", "dd_random_bytes_per_s")]
        print(f"{format_bytes(r['size_bytes']):>10} {med[0]:>10} {med[1]:>10}"
              f" {format_rate(r['store_median_bytes_per_s']):>10} {r['ratio']:>6.2f}")
    print("ratio = store median / the faster dd median (>= 0.80 is the acceptance bound)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
