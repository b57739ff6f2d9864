"""``mlfleet ops debug demo``: every detector on faults planted in a real run and in simulations.

A real ``mlfleet run train`` (RANKS processes, gloo) with three faults — the last rank
slowed 3x, rank 1's gradient NaN at a third of the run, rank 0's inputs scaled 30x at
two thirds — writes per-rank logs; the timeline, straggler and gradient detectors read
them. The latency, drift and staleness detectors run on the simulations their tests use
(a serving queue slowed 30 % mid-run, a feature shifted by 0.5 σ, a drifting stream).
Each line says what was planted and what was found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

from mlfleet.errors import InputError


@contextlib.contextmanager
def _directory(path: str | None) -> Iterator[Path]:
    if path is not None:
        yield Path(path)
        return
    tmp = Path(tempfile.mkdtemp(prefix="mlfleet-debug-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _real_run(*, ranks: int, steps: int, seed: int, log_dir: Path, work: Path) -> list[str]:
    """Train with the planted faults; their ``--inject`` specs."""
    from mlfleet.reliability.train.inject import parse_injection
    from mlfleet.reliability.train.job import TrainSpec
    from mlfleet.reliability.train.supervisor import Supervisor, SupervisorConfig

    specs = [f"slow:rank={ranks - 1},factor=3", f"nan:rank=1,step={steps // 3}",
             f"spike:rank=0,step={2 * steps // 3},factor=30"]
    config = SupervisorConfig(ranks=ranks, ckpt_root=work / "ckpt", log_dir=log_dir,
                              injections=tuple(parse_injection(s) for s in specs))
    Supervisor(TrainSpec(steps=steps, ckpt_every=steps, seed=seed), config).run()
    return specs


def _log_findings(log_dir: Path, trace: Path) -> dict[str, Any]:
    from mlfleet.ops.debug.gradients import anomalies_from_logs
    from mlfleet.ops.debug.log_reader import read_logs
    from mlfleet.ops.debug.stragglers import stragglers_from_logs
    from mlfleet.ops.debug.timeline import write_trace

    spans = read_logs(log_dir)
    summary = write_trace(spans, trace)
    stragglers, _ = stragglers_from_logs(spans)
    return {"trace": {"path": str(trace), "events": summary.events},
            "stragglers": [dataclasses.asdict(s) for s in stragglers],
            "gradients": [dataclasses.asdict(a) for a in anomalies_from_logs(spans)]}


def _simulated_findings(seed: int) -> dict[str, Any]:
    from mlfleet.ops.debug.changepoints import cusum
    from mlfleet.ops.debug.drift import column_drift
    from mlfleet.ops.debug.latency_regression import RegressionRun, window_latency_s
    from mlfleet.ops.debug.staleness import DriftingStream, expected_mse, retrain_plan

    run = RegressionRun(rate_per_s=100, service_mean_s=0.02, change_s=200, duration_s=400)
    latency = window_latency_s(np.random.default_rng(seed), run)
    rng = np.random.default_rng([seed, 1])
    drift = column_drift("x", rng.standard_normal(2000), rng.normal(0.5, 1.0, 2000))
    stream = DriftingStream()
    plan = retrain_plan(fresh_mse=float(expected_mse(stream, 0)),
                        slope_mse_per_unit=stream.dims * stream.drift_sd_per_unit**2,
                        retrain_cost_usd=200, error_cost_usd=1000)
    return {"changepoints": {"planted_index": 200,
                             "found": [dataclasses.asdict(c) for c in cusum(latency)]},
            "drift": {"planted_shift_sd": 0.5, **dataclasses.asdict(drift)},
            "staleness": dataclasses.asdict(plan)}


@click.command("demo")
@click.option("--ranks", default=4, show_default=True, type=int, help="Real ranks, 3..8.")
@click.option("--steps", default=60, show_default=True, type=int, help="Steps, 30..500.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--log-dir", default=None, help="Keep the per-rank logs here (default: a "
              "temporary directory, removed).")
@click.option("--trace", "trace_out", default=None, help="Write the Perfetto trace here.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def demo_command(ranks: int, steps: int, seed: int, log_dir: str | None, trace_out: str | None,
                 as_json: bool) -> None:
    """Plant faults in a small real training and in simulations; show what each detector finds."""
    from mlfleet.ops.debug.rank_log import check_log_dir, make_log_dir

    if not 3 <= ranks <= 8:
        raise InputError(f"--ranks(={ranks}) must be an integer in 3..8 (a straggler needs "
                         "two other ranks to stand out against)")
    if not 30 <= steps <= 500:
        raise InputError(f"--steps(={steps}) must be an integer in 30..500")
    kept = check_log_dir(log_dir)
    if trace_out is not None and (not trace_out.strip() or Path(trace_out).is_dir()):
        raise InputError(f"--trace {trace_out!r} must name a file")
    with _directory(None) as work:
        logs = kept or work / "logs"
        make_log_dir(logs)
        planted = _real_run(ranks=ranks, steps=steps, seed=seed, log_dir=logs, work=work)
        found = _log_findings(logs, Path(trace_out) if trace_out else work / "trace.json")
    doc = {"fidelity": "run", "planted": planted, **found, **_simulated_findings(seed)}
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
        return
    _render(doc, kept_trace=trace_out is not None)


def _render(doc: dict[str, Any], *, kept_trace: bool) -> None:
    click.echo(f"real run, planted: {', '.join(doc['planted'])}")
    for s in doc["stragglers"]:
        click.echo(f"  stragglers: rank {s['rank']} from step {s['first_step']}, "
                   f"{s['slowdown']:.1f}x the median compute time")
    for a in doc["gradients"]:
        click.echo(f"  gradients: step {a['step']} rank {a['rank']} {a['series']} {a['kind']}")
    if kept_trace:
        click.echo(f"  timeline: {doc['trace']['events']} spans in {doc['trace']['path']} "
                   "(open at https://ui.perfetto.dev)")
    cps = doc["changepoints"]["found"]
    click.echo("simulated serving queue, service 30% slower from window 200: change points at "
               + (", ".join(str(c["change_index"]) for c in cps) or "none"))
    d = doc["drift"]
    click.echo(f"feature shifted by 0.5 sd: PSI {d['psi']:.3f} ({d['psi_verdict']}), "
               f"KS D {d['ks_d']:.3f}")
    st = doc["staleness"]
    click.echo(f"drifting stream: MSE +{st['slope_mse_per_unit']:.3g} per day of age; "
               f"retrain every {st['interval_units']:.2f} days")
