"""``mlfleet run train`` under faults: 20+ random kills, async vs sync stall, goodput vs Daly.

Three measurements, each through the same supervisor the CLI uses (one fork server for the
whole benchmark, so each run pays fork + gloo + restore, not ``import torch``):

1. **kills** — the acceptance run (4 ranks, 200 steps, checkpoint every 20) once without a
   fault, then ``--trials`` times with ``kill:rank=R,step=S`` at a seeded random (R, S):
   every final SHA-256 must equal the reference; prints detection, recovery, lost steps.
2. **stall** — the same state (an MLP with ``--hidden`` units: its model + Adam state)
   checkpointed synchronously and asynchronously (snapshot on the training path, write in
   the background); the mean stall per checkpoint of each and their ratio (acceptance:
   async <= 10% of sync; anchor: PyTorch DCP async save, 7B model, 148.8 s -> 6.3 s).
3. **daly** — ``random-kill`` at a rate giving several failures per run, over seeds: the
   measured goodput against ``daly_goodput`` fed the run's own measured step cycle,
   checkpoint stall, restart cost and the injected failure rate.

    python benchmarks/bench_train_kill.py [--trials 20] [--hidden 65536] [--daly-seeds 3]
        [--only kills|stall|daly] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mlfleet.reliability.train.inject import parse_injection
from mlfleet.reliability.train.job import TrainSpec
from mlfleet.reliability.train.model import ModelSpec
from mlfleet.reliability.train.ranks import ForkServer
from mlfleet.reliability.train.record import RunRecord
from mlfleet.reliability.train.report import TrainReport, build_report
from mlfleet.reliability.train.supervisor import Supervisor, SupervisorConfig


def run_record(server: ForkServer, root: Path, spec: TrainSpec, *, ranks: int,
               injections: tuple[str, ...] = (), seed: int = 0,
               max_restarts: int = 10) -> tuple[TrainReport, RunRecord]:
    parsed = tuple(parse_injection(text) for text in injections)
    config = SupervisorConfig(ranks=ranks, ckpt_root=root, injections=parsed, inject_seed=seed,
                              max_restarts=max_restarts)
    record = Supervisor(spec, config, server=server).run()
    return build_report(record, steps=spec.steps, ranks=ranks, ckpt_every=spec.ckpt_every,
                        injections=parsed), record


def run(server: ForkServer, root: Path, spec: TrainSpec, *, ranks: int,
        injections: tuple[str, ...] = (), seed: int = 0, max_restarts: int = 10) -> TrainReport:
    return run_record(server, root, spec, ranks=ranks, injections=injections, seed=seed,
                      max_restarts=max_restarts)[0]


def kills(server: ForkServer, tmp: Path, trials: int) -> dict[str, Any]:
    spec = TrainSpec(steps=200, ckpt_every=20)
    reference = run(server, tmp / "reference", spec, ranks=4)
    rng = np.random.default_rng(2026)
    rows: list[dict[str, Any]] = []
    for trial in range(trials):
        rank, step = int(rng.integers(4)), int(rng.integers(1, 201))
        report = run(server, tmp / f"kill-{trial}", spec, ranks=4,
                     injections=(f"kill:rank={rank},step={step}",))
        failure = report.failures[0]
        rows.append({"rank": rank, "step": step, "resumed_from": failure.resumed_from_step,
                     "lost_steps": failure.lost_steps, "detection_s": failure.detection_s,
                     "recovery_s": failure.recovery_s,
                     "same_weights": report.sha256 == reference.sha256})
        print(f"kill rank {rank} at step {step}: resumed from {failure.resumed_from_step}, "
              f"{failure.lost_steps} steps lost, detected in {failure.detection_s:.3f} s, "
              f"recovered in {failure.recovery_s:.3f} s, same weights: {rows[-1]['same_weights']}")
    same = sum(bool(r["same_weights"]) for r in rows)
    print(f"kills: {same}/{trials} runs ended with the reference weights "
          f"(sha256 {reference.sha256})")
    return {"reference_sha256": reference.sha256, "trials": rows, "same_weights": same}


def stall(server: ForkServer, tmp: Path, hidden: int) -> dict[str, Any]:
    model = ModelSpec(hidden=hidden)
    out: dict[str, dict[str, Any]] = {}
    for mode in ("sync", "async"):
        spec = TrainSpec(steps=200, ckpt_every=20, model=model, async_ckpt=mode == "async")
        report, record = run_record(server, tmp / f"stall-{mode}", spec, ranks=2)
        stalls = [c.stall_s for c in record.checkpoints if c.stall_s is not None]
        out[mode] = {"stall_s": stalls, "median_stall_s": statistics.median(stalls),
                     "mean_stall_s": statistics.fmean(stalls), "write_s": report.ckpt_write_s,
                     "bytes": report.ckpt_bytes, "sha256": report.sha256}
        print(f"{mode}: {len(stalls)} checkpoints of {report.ckpt_bytes:,} bytes; stall per "
              f"checkpoint median {statistics.median(stalls):.4f} s, mean "
              f"{statistics.fmean(stalls):.4f} s (each: {', '.join(f'{s:.3f}' for s in stalls)});"
              f" write {report.ckpt_write_s:.4f} s")
    ratios = {k: out["async"][k] / out["sync"][k] for k in ("median_stall_s", "mean_stall_s")}
    print(f"stall async / sync: median {ratios['median_stall_s']:.3f}, mean "
          f"{ratios['mean_stall_s']:.3f} (acceptance: <= 0.10); same weights: "
          f"{out['async']['sha256'] == out['sync']['sha256']}")
    return {**out, "ratios": ratios}


def daly(server: ForkServer, tmp: Path, seeds: int) -> dict[str, Any]:
    spec = TrainSpec(steps=2000, ckpt_every=50)
    rows = []
    for seed in range(seeds):
        report = run(server, tmp / f"daly-{seed}", spec, ranks=2, seed=seed, max_restarts=100,
                     injections=("random-kill:rate=0.001",))
        m = report.model
        rows.append({"seed": seed, "failures": report.restarts, **dataclasses.asdict(m)})
        print(f"seed {seed}: {report.restarts} failures, interval {m.interval_s:.3f} s, "
              f"ckpt {m.ckpt_s:.4f} s, restart {m.restart_s:.3f} s, MTBF {m.mtbf_s:.2f} s; "
              f"goodput measured {m.measured_goodput:.3f}, Daly {m.predicted_goodput:.3f} "
              f"({m.relative_error:+.1%})")
    errors = [r["relative_error"] for r in rows]
    print(f"daly: mean relative error {statistics.fmean(errors):+.1%} over {seeds} seeds "
          f"(range {min(errors):+.1%} .. {max(errors):+.1%})")
    return {"rows": rows, "mean_relative_error": statistics.fmean(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=65536)
    parser.add_argument("--daly-seeds", type=int, default=3)
    parser.add_argument("--only", choices=["kills", "stall", "daly"], default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp_text:
        tmp = Path(tmp_text)
        server = ForkServer(log_path=tmp / "forkserver.log", timeout_s=300)
        try:
            if args.only in (None, "kills"):
                results["kills"] = kills(server, tmp, args.trials)
            if args.only in (None, "stall"):
                results["stall"] = stall(server, tmp, args.hidden)
            if args.only in (None, "daly"):
                results["daly"] = daly(server, tmp, args.daly_seeds)
        finally:
            server.close()
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
