"""``mlfleet report``: the plan of every chapter as one self-contained HTML file with plots."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("scenario", required=False)
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("report.html"), show_default=True, help="HTML file to write.")
@click.option("--sweep", type=click.Path(dir_okay=False, path_type=Path),
              help="Parquet file written by `mlfleet sweep`: plot each metric of it.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="Seed of the report's simulations (serving load sweep, cache replays).")
def report_command(scenario: str | None, out: Path, sweep: Path | None, seed: int) -> None:
    """Write the plan of every chapter, with plots, as one self-contained HTML file.

    SCENARIO is a YAML file, a bundled example's name, or - for stdin (default: the
    bundled LLM-pretraining example, as for `mlfleet plan`). The file needs no network
    to open: the plots are inline SVG. It is written whole or not at all.
    """
    from mlfleet.atomic import check_writable, write_text_atomically
    from mlfleet.report.html.output import ReportOutputError
    from mlfleet.report.html.report import build_report
    from mlfleet.report.progress import progress_bar
    from mlfleet.scenario import default_scenario_path, load_scenario, loads_scenario, read_stdin

    check_writable(out, error=ReportOutputError)  # before the slow part: a bad --out fails at once
    if scenario == "-":
        loaded = loads_scenario(read_stdin(), source="<stdin>")
    else:
        loaded = load_scenario(scenario if scenario is not None else default_scenario_path())
    with progress_bar(True, "building the report") as bar:
        text = build_report(loaded, seed=seed, sweep=sweep, progress=bar)
    write_text_atomically(out, text, error=ReportOutputError)
    click.echo(f"wrote {out}")

