"""Real loader samples/s against the calibrated starvation model, on this machine.

For each format (WebDataset-layout tar shards, Parquet) and decode cost: write the
dataset once, then ``--repeats`` sweeps over ``--workers``; each sweep calibrates the
model on its 1-worker run (per-sample CPU times, nothing fitted to samples/s) and
predicts every worker count with this process's cores (``sched_getaffinity``) and the
background load measured during that run. Printed per point: measured and predicted
samples/s, the error, the prediction of a dedicated machine (no background load), and
the background load; then the largest |error| of the median sweep per case.

    python benchmarks/bench_loader.py [--samples 4000] [--workers 1,2,4] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from mlfleet.storage.loader.cli import parse_workers
from mlfleet.storage.loader.measure import LoaderStudy, sweep
from mlfleet.storage.loader.reader import LoaderConfig
from mlfleet.storage.loader.write import DatasetSpec, write_dataset
from mlfleet.storage.starvation import loader_samples_per_s


def rows(study: LoaderStudy) -> list[dict[str, Any]]:
    out = []
    for r in study.rows:
        dedicated = float(loader_samples_per_s(study.costs, workers=r.point.workers,
                                               cores=study.cores))
        out.append({"workers": r.point.workers, "measured": r.point.samples_per_s,
                    "predicted": r.predicted_samples_per_s, "error": r.error,
                    "dedicated": dedicated, "background_threads": sum(r.point.background),
                    "background_groups": len(r.point.background),
                    "bottleneck": r.bottleneck,
                    "worker_cpu_us": r.point.worker_cpu_s_per_sample * 1e6})
    return out


def run_case(fmt: str, decode_s: float, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as tmp:
        dataset = write_dataset(DatasetSpec(samples=args.samples, sample_bytes=args.sample_bytes),
                                directory=Path(tmp), fmt=fmt)
        config = LoaderConfig(decode_s=decode_s, batch_size=32)
        sweeps = [rows(sweep(dataset, config, workers=parse_workers(args.workers)))
                  for _ in range(args.repeats)]
    worst = [max(abs(p["error"]) for p in s) for s in sweeps]
    return {"format": fmt, "decode_s": decode_s, "sweeps": sweeps,
            "max_abs_error_per_sweep": worst, "median_max_abs_error": statistics.median(worst)}


def show(case: dict[str, Any]) -> None:
    print(f"\n{case['format']}, decode {case['decode_s'] * 1e3:g} ms/sample")
    print(f"{'sweep':>5} {'W':>3} {'measured/s':>11} {'model/s':>9} {'error':>7} "
          f"{'dedicated/s':>11} {'bg load':>7} {'bound':>8} {'worker CPU':>10}")
    for i, s in enumerate(case["sweeps"]):
        for p in s:
            print(f"{i:>5} {p['workers']:>3} {p['measured']:>11,.0f} {p['predicted']:>9,.0f} "
                  f"{p['error']:>+7.1%} {p['dedicated']:>11,.0f} {p['background_threads']:>7.2f} "
                  f"{p['bottleneck']:>8} {p['worker_cpu_us']:>8.0f}us")
    print(f"max |error| per sweep: {', '.join(f'{e:.1%}' for e in case['max_abs_error_per_sweep'])}"
          f"; median {case['median_max_abs_error']:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--sample-bytes", type=int, default=4096)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--decode", default="0.2,1", help="Decode costs, ms, comma list.")
    parser.add_argument("--formats", default="shards,parquet")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cases = [run_case(fmt, float(ms) / 1e3, args) for fmt in args.formats.split(",")
             for ms in args.decode.split(",")]
    result = {"cores": len(os.sched_getaffinity(0)), "loadavg_after": os.getloadavg(),
              "cases": cases}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"cores {result['cores']}; load average after the run {result['loadavg_after']}")
    for case in cases:
        show(case)


if __name__ == "__main__":
    main()
