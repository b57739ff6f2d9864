"""``mlfleet scenario schema | check FILE | list | init [PATH]``."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("scenario")
def scenario_group() -> None:
    """Scenario files: their JSON Schema, validation, and the bundled examples."""


@scenario_group.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of a scenario file."""
    from mlfleet.cli import emit_json
    from mlfleet.scenario import scenario_json_schema

    emit_json(scenario_json_schema())


@scenario_group.command("check")
@click.argument("file")
@click.option("--json", "as_json", is_flag=True, help="Print the validated scenario in SI units.")
def check_cmd(file: str, as_json: bool) -> None:
    """Validate FILE (a path, a bundled example's name, or - for stdin).

    Prints "ok: NAME"; a bad scenario exits with status 2 and one line naming the
    field, the bad value and what is allowed.
    """
    from mlfleet.scenario import load_scenario, loads_scenario, read_stdin

    if file == "-":
        scenario = loads_scenario(read_stdin(), source="<stdin>")
    else:
        scenario = load_scenario(file)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"ok": True, "source": file, "scenario": scenario.model_dump(mode="json")})
        return
    click.echo(f"ok: {scenario.name}")


@scenario_group.command("init")
@click.argument("path", default="scenario.yaml", required=False)
@click.option("--example", default=None,
              help="The bundled example to start from (`mlfleet scenario list`; default: the "
                   "one `mlfleet plan` runs).")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init_cmd(path: str, example: str | None, force: bool) -> None:
    """Write a commented scenario to PATH (default scenario.yaml; - for stdout) to edit.

    PATH is written whole or not at all, and an existing file is kept unless --force.
    """
    from mlfleet.scenario.parsers import DEFAULT_SCENARIO
    from mlfleet.scenario.template import template_text, write_template

    text = template_text(example or DEFAULT_SCENARIO)
    if path == "-":
        click.echo(text, nl=False)
        return
    write_template(Path(path), text, force=force)
    click.echo(f"wrote {path}; edit it, then: mlfleet scenario check {path}")


@scenario_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(as_json: bool) -> None:
    """List the bundled example scenarios (usable by name wherever a FILE is asked)."""
    from mlfleet.scenario import bundled_scenarios, default_scenario_path, load_scenario

    default = default_scenario_path()
    rows: list[dict[str, str | bool]] = []
    for path in bundled_scenarios():
        scenario = load_scenario(path)
        lines = (scenario.description or "").strip().splitlines()
        rows.append({"name": path.stem, "path": str(path), "default": path == default,
                     "workload": scenario.workload, "summary": lines[0] if lines else ""})
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(rows)
        return
    for row in rows:
        mark = " (default)" if row["default"] else ""
        summary = str(row["summary"])
        summary = summary if len(summary) <= 72 else summary[:69] + "..."
        click.echo(f"{row['name']}{mark}: {row['workload']}; {summary}")
