"""``mlfleet plan [SCENARIO] [--json]``: the main job."""

from __future__ import annotations

import click

from mlfleet.errors import ConstraintViolation


@click.command("plan")
@click.argument("scenario", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON: one top-level key per chapter.")
def plan_command(scenario: str | None, as_json: bool) -> None:
    """Full-stack plan for SCENARIO (a YAML file; default: the bundled LLM-pretraining example).

    Exit status 3 when a constraint in the scenario's `checks` does not hold.
    """
    from mlfleet.plan import build_plan, violated
    from mlfleet.scenario import default_scenario_path, load_scenario

    loaded = load_scenario(scenario if scenario is not None else default_scenario_path())
    plan = build_plan(loaded)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(plan)
    else:
        from mlfleet.plan.render import print_plan

        print_plan(plan)
    failed = violated(plan)
    if failed:
        names = ", ".join(f"{c['name']} ({c['observed_text']} vs {c['limit_text']})" for c in failed)
        raise ConstraintViolation(f"scenario constraint violated: {names}")
