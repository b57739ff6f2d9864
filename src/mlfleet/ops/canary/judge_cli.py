"""``mlfleet ops canary judge BASELINE.csv CANARY.csv --config canary.yaml``.

Both files hold metric series, one row per interval (:mod:`.series_file`); the config
names the metrics and how to judge them (:mod:`.config_file`; without ``--config``, the
bundled example). Prints the decision and each metric's classification.
"""

from __future__ import annotations

import click


@click.command("judge")
@click.argument("baseline", type=click.Path(dir_okay=False))
@click.argument("canary", type=click.Path(dir_okay=False))
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Judge config (YAML); default: the bundled example config.")
@click.option("--kayenta-only", is_flag=True,
              help="Turn the added shape and rate tests off: Kayenta's judge alone.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as strict JSON.")
def judge_command(baseline: str, canary: str, config_path: str | None, kayenta_only: bool,
                  as_json: bool) -> None:
    """Judge CANARY's metric series against BASELINE's (Kayenta's judge, plus ours)."""
    from mlfleet.cli import emit_json
    from mlfleet.ops.canary.config_file import example_path, load_config
    from mlfleet.ops.canary.judge import judge
    from mlfleet.ops.canary.report import result_doc, result_lines
    from mlfleet.ops.canary.series_file import read_series

    config = load_config(config_path or example_path())
    if kayenta_only:
        config = config.kayenta_only()
    result = judge(config, baseline=read_series(baseline), canary=read_series(canary))
    if as_json:
        emit_json(result_doc(result))
        return
    click.echo("\n".join(result_lines(result)))
