"""``mlfleet plan [SCENARIO] [--json]``: the main job."""

from __future__ import annotations

import click

from mlfleet.errors import ConstraintViolation


@click.command("plan")
@click.argument("scenario", required=False)
@click.option("--calibration", type=click.Path(dir_okay=False),
              help="Calibration file (mlfleet infra calibrate) for the kernel model.")
@click.option("--json", "as_json", is_flag=True, help="JSON: one top-level key per chapter.")
def plan_command(scenario: str | None, calibration: str | None, as_json: bool) -> None:
    """Full-stack plan for SCENARIO (a YAML file, a bundled example's name, or - for stdin;
    default: the bundled LLM-pretraining example).

    Prints one warning line on stderr per scenario field no chapter reads yet (also
    listed under `unused_fields`). Exit status 3 when a check does not hold: a
    constraint, an SLO, or a serving fleet larger than the cluster.
    """
    from mlfleet.infra.accel import calibration as cal
    from mlfleet.plan import build_plan
    from mlfleet.plan.fields import warning
    from mlfleet.scenario import default_scenario_path, load_scenario, loads_scenario, read_stdin

    if scenario == "-":
        loaded = loads_scenario(read_stdin(), source="<stdin>")
    else:
        loaded = load_scenario(scenario if scenario is not None else default_scenario_path())
    with cal.using_calibration(calibration):
        plan = build_plan(loaded)
        if calibration is not None and not cal.calibration_consulted():
            click.echo(cal.UNUSED_WARNING, err=True)
    for path in plan.unused_fields:
        click.echo(f"warning: {warning(path)}", err=True)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(plan.as_dict())
    else:
        from mlfleet.plan.render import print_plan

        print_plan(plan)
    failed = plan.violated()
    if failed:
        names = ", ".join(f"{c.name} ({c.observed_text} vs {c.limit_text})" for c in failed)
        raise ConstraintViolation(f"scenario constraint violated: {names}")
