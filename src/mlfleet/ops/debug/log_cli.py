"""``mlfleet ops debug timeline|stragglers|gradients LOGDIR``: read a run's per-rank logs.

    mlfleet run train --ranks 4 --steps 60 --inject slow:rank=2,factor=3 --log-dir logs
    mlfleet ops debug timeline logs --out trace.json     # open in ui.perfetto.dev
    mlfleet ops debug stragglers logs --json
    mlfleet ops debug gradients logs
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from mlfleet.ops.debug.log_reader import DebugInputError, read_logs


def _log_dir_argument(fn: Any) -> Any:
    return click.argument("log_dir", metavar="LOGDIR")(fn)


def _json_option(fn: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")(fn)


def _emit(payload: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)


@click.command("timeline")
@_log_dir_argument
@click.option("--out", "-o", default="trace.json", show_default=True,
              help="Trace file to write (Trace Event Format JSON).")
@_json_option
def timeline_command(log_dir: str, out: str, as_json: bool) -> None:
    """Merge LOGDIR's per-rank logs into one Chrome/Perfetto trace, clocks aligned.

    Open the file at https://ui.perfetto.dev (Open trace file) or chrome://tracing.
    """
    from mlfleet.ops.debug.timeline import write_trace

    summary = write_trace(read_logs(Path(log_dir)), Path(out))
    if as_json:
        _emit({"fidelity": "run", **dataclasses.asdict(summary),
               "offsets_s": {str(r): o for r, o in summary.offsets_s.items()}})
        return
    worst = max(summary.offsets_s.values(), key=abs, default=0.0)
    click.echo(f"wrote {summary.path}: {summary.events} spans of {summary.ranks} ranks over "
               f"{summary.span_s:.3f} s; clock offsets from {summary.sync_phase or 'nothing'} "
               f"ends, largest {worst * 1e6:+.0f} us. Open it at https://ui.perfetto.dev")


@click.command("stragglers")
@_log_dir_argument
@click.option("--z", "z_threshold", default=3.5, show_default=True, type=float,
              help="Robust z-score of a slow rank-step.")
@click.option("--window", default=10, show_default=True, type=int,
              help="Steps in the persistence window.")
@click.option("--persist", default=0.6, show_default=True, type=float,
              help="Share of a window's steps a straggler is slow on.")
@_json_option
def stragglers_command(log_dir: str, z_threshold: float, window: int, persist: float,
                       as_json: bool) -> None:
    """Ranks whose compute time is persistently above the other ranks' (per step)."""
    from mlfleet.checks import fraction, positive, positive_int
    from mlfleet.ops.debug.stragglers import StragglerConfig, stragglers_from_logs

    config = StragglerConfig(z_threshold=positive("--z", z_threshold, error=DebugInputError),
                             window=positive_int("--window", window, error=DebugInputError),
                             persist_fraction=fraction("--persist", persist, open_low=True,
                                                       error=DebugInputError))
    spans = read_logs(Path(log_dir))
    found, steps = stragglers_from_logs(spans, config=config)
    if as_json:
        _emit({"fidelity": "run", "ranks": len(spans), "steps_compared": steps,
               "config": dataclasses.asdict(config),
               "stragglers": [dataclasses.asdict(s) for s in found]})
        return
    click.echo(f"{len(spans)} ranks, {steps} steps compared")
    if not found:
        click.echo("no straggler" + (" (needs >= 3 ranks)" if len(spans) < 3 else ""))
    for s in found:
        click.echo(f"rank {s.rank} straggles from step {s.first_step}: {s.slowdown:.2f}x the "
                   f"median compute time, slow on {s.flagged_fraction:.0%} of steps")


@click.command("gradients")
@_log_dir_argument
@click.option("--z", "z_threshold", default=6.0, show_default=True, type=float,
              help="Robust z-score (log space) of a spike.")
@click.option("--window", default=20, show_default=True, type=int,
              help="Previous values the rolling median and MAD use.")
@_json_option
def gradients_command(log_dir: str, z_threshold: float, window: int, as_json: bool) -> None:
    """NaN/Inf, loss spikes and gradient-norm outliers in LOGDIR, by rank and step."""
    from mlfleet.checks import positive, positive_int
    from mlfleet.ops.debug.gradients import GradientConfig, anomalies_from_logs

    config = GradientConfig(z_threshold=positive("--z", z_threshold, error=DebugInputError),
                            window=positive_int("--window", window, minimum=2,
                                                error=DebugInputError))
    found = anomalies_from_logs(read_logs(Path(log_dir)), config)
    if as_json:
        _emit({"fidelity": "run", "config": dataclasses.asdict(config),
               "anomalies": [dataclasses.asdict(a) for a in found]})
        return
    if not found:
        click.echo("no gradient anomaly")
    for a in found:
        how = "non-finite" if a.kind == "nonfinite" else f"spike, z = {a.z:.1f}"
        click.echo(f"step {a.step} rank {a.rank}: {a.series} {a.value:.4g} ({how})")
