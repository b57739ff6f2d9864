"""The small-file model on this machine: per-file overhead plus bytes over bandwidth.

Writes files of several sizes (fsync'd) under a temporary directory, then reads every file
of a size back (open, read, close) in one thread and times it: one request in flight, so
the model ``t(s) = L + s / B`` applies with ``L`` the per-file overhead and ``B`` the read
bandwidth (here the page cache: the files were just written, so this is the memory path;
the same shape holds for a disk with its own ``L`` and ``B``). ``L`` and ``B`` are fitted by least
squares (relative error) over all sizes, each the best of ``--repeats`` interleaved rounds,
and every size's deviation from the fit is printed: how well one overhead and one
bandwidth explain the whole range.

    python benchmarks/bench_small_files.py [--total 256MiB] [--json]
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from mlfleet.units import format_bytes, format_duration, parse_quantity

SIZES = (4096, 65536, 262144, 1 << 20, 4 << 20, 16 << 20)
CHUNK = 16 << 20
"""Bytes per read request: the largest file, so every file is one request."""


def _write(directory: Path, size: int, count: int) -> list[Path]:
    payload = os.urandom(size)
    paths = []
    for i in range(count):
        path = directory / f"{size}-{i}.bin"
        with open(path, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        paths.append(path)
    return paths


def _read_s_per_file(paths: list[Path], buffer: mmap.mmap) -> float:
    """Mean seconds per file of open + one O_DIRECT read + close (the disk path)."""
    start = time.perf_counter()
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        try:
            os.preadv(fd, [buffer], 0)
        finally:
            os.close(fd)
    return (time.perf_counter() - start) / len(paths)


def _fit(measured: dict[int, float]) -> tuple[float, float]:
    """Least squares of relative error: (per-file overhead s, bandwidth bytes/s)."""
    sizes = np.array(list(measured), dtype=np.float64)
    times = np.array(list(measured.values()))
    design = np.stack([np.ones_like(sizes), sizes], axis=1) / times[:, None]
    (overhead_s, s_per_byte), *_ = np.linalg.lstsq(design, np.ones_like(times), rcond=None)
    return float(overhead_s), 1.0 / float(s_per_byte)


def measure(total_bytes: float, repeats: int) -> dict[str, Any]:
    """Best of ``repeats`` rounds, each reading every size once (interleaved against load)."""
    buffer = mmap.mmap(-1, CHUNK)  # page-aligned, as O_DIRECT requires
    with tempfile.TemporaryDirectory(prefix="mlfleet-small-files-") as tmp:
        files = {size: _write(Path(tmp), size, max(8, min(2000, int(total_bytes // size))))
                 for size in SIZES}
        measured = {size: float("inf") for size in SIZES}
        for _ in range(repeats):
            for size, paths in files.items():
                measured[size] = min(measured[size], _read_s_per_file(paths, buffer))
    overhead_s, bw = _fit(measured)
    rows = [{"file_bytes": s, "measured_s": measured[s], "model_s": overhead_s + s / bw,
             "error": (overhead_s + s / bw) / measured[s] - 1} for s in SIZES]
    return {"overhead_s": overhead_s, "bw_bytes_per_s": bw, "repeats": repeats, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", default="64MiB", help="Bytes written per size (at most).")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(parse_quantity(args.total, "bytes"), args.repeats)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"fitted: per-file overhead {format_duration(result['overhead_s'])}, "
          f"bandwidth {format_bytes(result['bw_bytes_per_s'])}/s")
    for r in result["rows"]:
        tag = f"{r['error']:+.1%}"
        print(f"  {format_bytes(r['file_bytes']):>9}: measured {format_duration(r['measured_s'])}, "
              f"model {format_duration(r['model_s'])} ({tag})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
