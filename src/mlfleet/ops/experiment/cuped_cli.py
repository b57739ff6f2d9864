"""``mlfleet ops experiment cuped``: CUPED on simulated users (Deng et al., WSDM 2013).

Draws ``--users`` users whose metric correlates ``--rho`` with a pre-period covariate,
splits them 50/50, and reports the variance reduction against ρ² (with its Monte-Carlo
standard error), the effect estimate raw and adjusted, and, over ``--replicates``
repeated experiments, the ratio of the estimates' variances against 1 − ρ².
``--in-experiment`` measures the covariate during the experiment, where the treatment
moves it by ``--covariate-shift``: the adjusted estimate becomes δ − θγ and flips sign.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import click

from mlfleet.ops.experiment.errors import ExperimentInputError

MAX_DRAWS = 50_000_000
"""Most simulated users one call draws (users × (1 + replicates)): a few seconds."""


def _document(*, rho: float, users: int, effect: float, shift: float, replicates: int,
              seed: int) -> dict[str, Any]:
    import numpy as np

    from mlfleet.ops.experiment.cuped_sim import estimator_variance, simulate_cuped

    rng = np.random.default_rng(seed)
    run = simulate_cuped(rho=rho, users=users, effect=effect, covariate_shift=shift, rng=rng)
    reduction = run.fit.variance_reduction
    doc: dict[str, Any] = {
        "rho": rho, "users": users, "seed": seed, "effect": effect, "covariate_shift": shift,
        "rho_squared": rho ** 2, "variance_reduction": reduction,
        "reduction_se": run.reduction_se,
        "reduction_error_in_se": (reduction - rho ** 2) / run.reduction_se,
        "fit": asdict(run.fit), "raw": asdict(run.raw), "adjusted": asdict(run.adjusted),
        "sign_flipped": math.copysign(1, run.adjusted.diff) != math.copysign(1, effect)
        and effect != 0}
    if replicates:
        ev = estimator_variance(rho=rho, users=users, replicates=replicates, rng=rng)
        doc["estimator_variance"] = {**asdict(ev), "expected_ratio": 1 - rho ** 2}
    return doc


def _print(doc: dict[str, Any]) -> None:
    from mlfleet.report.terminal import print_table

    raw, adj = doc["raw"], doc["adjusted"]
    rows = [("variance reduction (rho^2)", f"{doc['variance_reduction']:.4f} "
             f"({doc['rho_squared']:.4f}; SE {doc['reduction_se']:.2g}, "
             f"off by {doc['reduction_error_in_se']:+.2f} SE)"),
            ("theta", f"{doc['fit']['theta']:.4f}"),
            ("true effect", f"{doc['effect']:+.4f}"),
            ("raw estimate [95% CI]", f"{raw['diff']:+.4f} [{raw['ci_low']:+.4f}, "
                                      f"{raw['ci_high']:+.4f}]"),
            ("CUPED estimate [95% CI]", f"{adj['diff']:+.4f} [{adj['ci_low']:+.4f}, "
                                        f"{adj['ci_high']:+.4f}]")]
    if "estimator_variance" in doc:
        ev = doc["estimator_variance"]
        rows.append((f"Var(CUPED)/Var(raw) over {ev['replicates']} experiments (1 - rho^2)",
                     f"{ev['variance_ratio']:.4f} ({ev['expected_ratio']:.4f}; SE of log "
                     f"{ev['log_ratio_se']:.2g})"))
    covariate = (f"in-experiment covariate, moved {doc['covariate_shift']:+g} by the treatment"
                 if doc["covariate_shift"] else "pre-period covariate")
    print_table(("quantity", "value"), rows,
                title=f"CUPED, rho = {doc['rho']}, {doc['users']} users, {covariate}")
    if doc["sign_flipped"]:
        click.echo("the CUPED estimate has the opposite sign of the true effect: the covariate "
                   "was affected by the treatment")


@click.command("cuped")
@click.option("--rho", type=float, default=0.5, show_default=True,
              help="Correlation of the metric with the covariate, in [0, 1).")
@click.option("--users", type=int, default=20000, show_default=True, help="Users, both arms.")
@click.option("--effect", type=float, default=0.05, show_default=True,
              help="True effect, in standard deviations of the metric.")
@click.option("--in-experiment", is_flag=True,
              help="Measure the covariate during the experiment (the pitfall).")
@click.option("--covariate-shift", type=float, default=0.5, show_default=True,
              help="With --in-experiment: how far the treatment moves the covariate.")
@click.option("--replicates", type=int, default=200, show_default=True,
              help="Repeated experiments for the estimator's variance (0: none).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cuped_command(rho: float, users: int, effect: float, in_experiment: bool,
                  covariate_shift: float, replicates: int, seed: int, as_json: bool) -> None:
    """CUPED on simulated users: variance reduction vs rho^2, and the in-experiment pitfall."""
    from mlfleet.checks import positive_int

    positive_int("--users", users, minimum=4, error=ExperimentInputError)
    positive_int("--replicates", replicates, minimum=0, error=ExperimentInputError)
    positive_int("--seed", seed, minimum=0, error=ExperimentInputError)
    if replicates and replicates < 3 or users * (1 + replicates) > MAX_DRAWS:
        raise ExperimentInputError(f"--replicates(={replicates}) must be 0 or at least 3, and "
                                   f"--users x (1 + --replicates) at most {MAX_DRAWS}")
    doc = _document(rho=rho, users=users, effect=effect,
                    shift=covariate_shift if in_experiment else 0.0, replicates=replicates,
                    seed=seed)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        _print(doc)
