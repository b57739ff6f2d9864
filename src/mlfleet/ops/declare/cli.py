"""``mlfleet ops diff | promote | record``: the scenario as declared state.

Exit status: 0 in sync / every gate passed / record verified; 3 drift found / a gate
failed / the record does not match; 2 bad input (one line); 1 a run failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlfleet.errors import ConstraintViolation
from mlfleet.units import duration_option


def _emit(payload: Any) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)


@click.command("diff")
@click.argument("scenario")
@click.option("--against", "urls", multiple=True, required=True, metavar="URL",
              help="Base URL of a running mlfleet serve, e.g. http://127.0.0.1:8000; "
                   "repeat once per replica.")
@click.option("--timeout", default="5s", show_default=True,
              help="How long to wait for each server's /v1/info.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def diff_command(scenario: str, urls: tuple[str, ...], timeout: str, as_json: bool) -> None:
    """Compare SCENARIO's declared deployment with running servers; name every drifted field.

    Only the fields the deployment: section declares are checked, plus the replica count
    (the number of --against URLs). A replica that cannot be reached counts as drift.
    Exit status 0 in sync, 3 drift, 2 bad input (a bad URL, a scenario without a
    deployment: section, a URL that is not an mlfleet serve).
    """
    from mlfleet.ops.declare.diff import check_drift
    from mlfleet.ops.declare.server_info import base_url, fetch_config
    from mlfleet.scenario import load_scenario

    timeout_s = duration_option("--timeout", timeout)
    loaded = load_scenario(scenario)
    urls = tuple(base_url(url) for url in urls)  # one spelling per server: repeats are found
    report = check_drift(loaded, urls, fetch=lambda u: fetch_config(u, timeout_s=timeout_s),
                         source=scenario)
    if as_json:
        _emit({"in_sync": report.in_sync, "declared": report.declared,
               "drift": report.lines(),
               "replicas": [{"url": r.url, "unreachable": r.unreachable,
                             "drift": [{"field": d.field, "declared": d.declared,
                                        "running": d.running} for d in r.drift]}
                            for r in report.replicas]})
    elif report.in_sync:
        click.echo(f"in sync: {len(urls)} replica(s) report the {len(report.declared)} "
                   f"declared field(s) of {scenario}")
    else:
        for line in report.lines():
            click.echo(f"drift: {line}")
    if not report.in_sync:
        raise ConstraintViolation(f"{len(report.lines())} drifted field(s) between {scenario} "
                                  "and the running deployment")


@click.command("promote")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.option("--allow", "allow", multiple=True, metavar="FIELD",
              help="A field the environments may set differently (TO's value is kept), "
                   "e.g. serving.items_per_request; repeatable. Always allowed: name, "
                   "description, deployment.replicas, serving.qps, serving.peak_to_mean.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the promoted scenario here, atomically, only when every gate passes.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def promote_command(source: str, target: str, allow: tuple[str, ...], out: Path | None,
                    as_json: bool) -> None:
    """Promote FROM's deployment onto TO (dev -> staging -> prod) behind gates.

    Gates: both scenarios validate; they differ only in allowed fields and in the
    deployment: section (the change being promoted); the promoted scenario validates
    and `mlfleet plan` of it holds every constraint and SLO. Exit status 0 when every
    gate passes, 3 when one fails (each failure named), 2 bad input.
    """
    from mlfleet.ops.declare.promote import promote
    from mlfleet.ops.declare.promote_output import describe_promotion, promotion_json, write_yaml
    from mlfleet.scenario import load_scenario

    result = promote(load_scenario(source), load_scenario(target), allow=allow)
    if result.passed and out is not None:
        assert result.promoted is not None
        write_yaml(out, result.promoted, header=f"promoted from {source} onto {target} by "
                                                "mlfleet ops promote")
    if as_json:
        _emit(promotion_json(result, out=None if out is None or not result.passed else str(out)))
    else:
        for line in describe_promotion(result):
            click.echo(line)
    if not result.passed:
        failures = [c.describe() for c in result.blocked] + list(result.failed_checks)
        raise ConstraintViolation(f"promotion of {source} onto {target} blocked: "
                                  + "; ".join(failures))


@click.command("record")
@click.option("--data", "data", multiple=True, type=click.Path(path_type=Path),
              help="A data file or directory the run read (repeatable).")
@click.option("--model", "model", type=click.Path(path_type=Path), default=None,
              help="The model artifact (a file or directory).")
@click.option("--config", "config", default=None,
              help="The scenario the run used (a file or a bundled example's name).")
@click.option("--code", "code", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The checkout of the code the run used (default: the one mlfleet runs "
                   "from); its git commit, dirty flag and diff hash are recorded.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the record here (atomically).")
@click.option("--verify", "verify", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Recompute the record FILE names and say what changed.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def record_command(data: tuple[Path, ...], model: Path | None, config: str | None,
                   code: Path | None, out: Path | None, verify: Path | None,
                   as_json: bool) -> None:
    """Write a reproducibility record (data, code, environment, model, configuration),
    or --verify one: recompute every hash and name what changed (exit 3 on a mismatch).
    """
    from mlfleet.ops.declare.record_cli import record_or_verify

    record_or_verify(data=data, model=model, config=config, code=code, out=out, verify=verify,
                     as_json=as_json)
