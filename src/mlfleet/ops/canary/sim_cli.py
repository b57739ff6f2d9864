"""``mlfleet ops canary sim``: a canary rollout in the serving simulator, decided by the judge."""

from __future__ import annotations

import click


@click.command("sim")
@click.option("--regression", default="none", show_default=True,
              help="What is wrong with the canary: none, latency=FACTOR (e.g. 1.3), "
                   "errors=P (e.g. 0.02), variance=A (e.g. 0.5; same mean, bimodal).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every draw.")
@click.option("--rate", "rate_per_s", type=float, default=60.0, show_default=True,
              help="Requests per second to the whole service.")
@click.option("--kayenta-only", is_flag=True,
              help="Judge with Kayenta's tests alone (no shape or rate test).")
@click.option("--json", "as_json", is_flag=True, help="Print the rollout as strict JSON.")
def sim_command(regression: str, seed: int, rate_per_s: float, kayenta_only: bool,
                as_json: bool) -> None:
    """Simulate stable and canary replica groups; the judge promotes or rolls back each stage."""
    from mlfleet.checks import positive, positive_int
    from mlfleet.cli import emit_json
    from mlfleet.ops.canary.errors import CanaryInputError
    from mlfleet.ops.canary.regression import parse_regression
    from mlfleet.ops.canary.report import rollout_doc, rollout_lines
    from mlfleet.ops.canary.sim_run import SERVING_METRICS, SimSetup, run_sim_canary

    positive_int("--seed", seed, minimum=0, error=CanaryInputError)
    positive("--rate", rate_per_s, error=CanaryInputError)
    setup = SimSetup(rate_per_s=rate_per_s)
    config = SERVING_METRICS.kayenta_only() if kayenta_only else SERVING_METRICS
    controller = run_sim_canary(parse_regression(regression), seed=seed, setup=setup,
                                config=config)
    if as_json:
        emit_json({"regression": regression, "seed": seed, "rate_per_s": rate_per_s,
                   "kayenta_only": kayenta_only, **rollout_doc(controller)})
        return
    click.echo("\n".join(rollout_lines(controller)))
