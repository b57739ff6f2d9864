"""``mlfleet sweep``: evaluate a grid of scenario variations, write one Parquet row per point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlfleet.report.progress import progress_bar
from mlfleet.sweep.grid import SweepInputError, parse_grid
from mlfleet.sweep.parquet import check_writable, write_table
from mlfleet.sweep.run import SweepRun, sweep
from mlfleet.sweep.simulate import SIMULATIONS, SimOptions


@click.command("sweep")
@click.argument("scenario")
@click.option("--set", "settings", multiple=True, metavar="FIELD=V1,V2,…",
              help="A scenario field (dotted path) and its values: a list 1024,2048, a range "
                   "a:b:step or a geometric range a:b:x2. Repeat for more fields; the grid is "
                   "their product.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Parquet file to write (replaced atomically).")
@click.option("--metric", "metrics", multiple=True,
              help="Keep only this metric column (repeatable); default: all.")
@click.option("--sim", type=click.Choice(sorted(SIMULATIONS)), default=None,
              help="Run a simulator per point on Ray instead of the closed-form training model.")
@click.option("--address", default=None, help="HOST:PORT of an existing Ray cluster (--sim).")
@click.option("--num-cpus", type=click.IntRange(min=1), default=None,
              help="CPUs of the local Ray (--sim; default: all).")
@click.option("--requests", type=click.IntRange(min=1, max=1_000_000), default=2000,
              show_default=True, help="Requests per serving simulation (--sim serving).")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="Seed of every serving simulation (--sim serving).")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
def sweep_command(scenario: str, settings: tuple[str, ...], out: Path, metrics: tuple[str, ...],
                  sim: str | None, address: str | None, num_cpus: int | None, requests: int,
                  seed: int, as_json: bool) -> None:
    """Sweep scenario fields over a grid and write the results to Parquet.

    \b
    mlfleet sweep examples/llm-pretraining.yaml --set cluster.gpus=4096:16384:x2 \\
        --set training.zero_stage=0,1,3 --out sweep.parquet

    Without --sim the training question (roofline step time, training time, MFU, memory
    per GPU, cost) is answered for the whole grid at once; with --sim each point runs a
    simulation on Ray. A combination the scenario rules refuse is kept as a row with
    empty metrics and its reason in the invalid_reason column.
    """
    _check_sim_options(sim, address=address, num_cpus=num_cpus)
    grid = parse_grid(settings)
    check_writable(out)
    options = SimOptions(requests=requests, seed=seed, address=address, num_cpus=num_cpus)
    with progress_bar(not as_json, "sweep") as bar:
        run = sweep(scenario, grid, question=sim or "training", metrics=metrics, sim=options,
                    progress=bar)
    write_table(run.table, out)
    summary = _summary(run, out)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(summary)
        return
    click.echo(_text(summary))


def _check_sim_options(sim: str | None, *, address: str | None, num_cpus: int | None) -> None:
    """Refuse options that the chosen question would silently ignore."""
    if sim is None and (address is not None or num_cpus is not None):
        raise SweepInputError("--address and --num-cpus apply to --sim runs only")
    given = click.get_current_context().get_parameter_source
    explicit = [f"--{name}" for name in ("requests", "seed")
                if given(name) is click.core.ParameterSource.COMMANDLINE]
    if sim != "serving" and explicit:
        raise SweepInputError(f"{explicit[0]} applies to --sim serving only")


def _summary(run: SweepRun, out: Path) -> dict[str, Any]:
    table = run.table
    invalid = [r for r in table.invalid_reason if r is not None]
    points = len(table.invalid_reason)
    return {"out": str(out), "question": table.question, "points": points,
            "valid_points": points - len(invalid), "invalid_points": len(invalid),
            "first_invalid_reason": invalid[0] if invalid else None,
            "fields": list(table.fields), "metrics": list(table.metrics),
            "validate_s": run.validate_s, "evaluate_s": run.evaluate_s}


def _text(summary: dict[str, Any]) -> str:
    lines = [f"wrote {summary['points']:,} design points to {summary['out']} "
             f"({summary['question']}: {', '.join(summary['metrics'])})",
             f"  valid: {summary['valid_points']:,}   invalid: {summary['invalid_points']:,}",
             f"  validation {summary['validate_s']:.3g} s, evaluation {summary['evaluate_s']:.3g} s"]
    if summary["first_invalid_reason"]:
        lines.append(f"  e.g. invalid: {summary['first_invalid_reason']}")
    return "\n".join(lines)
