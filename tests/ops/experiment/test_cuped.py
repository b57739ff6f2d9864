"""CUPED (Deng et al., WSDM 2013) reproduced on simulated users, and its in-experiment pitfall."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cli_helpers import run_main
from mlfleet.ops.experiment.cuped import cuped_adjust, cuped_theta
from mlfleet.ops.experiment.cuped_sim import estimator_variance, simulate_cuped
from mlfleet.ops.experiment.errors import ExperimentInputError

RHOS = (0.0, 0.3, 0.5, 0.8, 0.95)


@pytest.mark.parametrize("rho", RHOS)
def test_variance_reduction_equals_rho_squared(rho: float) -> None:
    """20 000 users per run: the observed reduction is within 3 SE of ρ², SE = 2ρ(1 − ρ²)/√n
    (observed, seed 0: +0.98, +0.87, +0.59, +0.02, −0.44 SE for the five ρ)."""
    run = simulate_cuped(rho=rho, users=20_000, rng=np.random.default_rng(0))
    assert abs(run.fit.variance_reduction - rho ** 2) < 3 * run.reduction_se
    assert run.adjusted.se == pytest.approx(
        run.raw.se * math.sqrt(1 - run.fit.variance_reduction), rel=0.01)


@pytest.mark.parametrize("rho", RHOS[1:])
def test_the_estimates_variance_shrinks_by_one_minus_rho_squared(rho: float) -> None:
    """300 experiments of 2000 users: Var(δ̂_cuped)/Var(δ̂_raw) within 3 SE of 1 − ρ² on the
    log scale, SE = 2ρ/√R (the paper's claim about the estimator, not one sample). Observed,
    seed 1: 0.851, 0.685, 0.334, 0.0964 against 0.91, 0.75, 0.36, 0.0975 (−1.92, −1.57, −0.81,
    −0.10 SE; one seed for all four, so the errors move together)."""
    ev = estimator_variance(rho=rho, users=2000, replicates=300, rng=np.random.default_rng(1))
    assert abs(math.log(ev.variance_ratio / (1 - rho ** 2))) < 3 * ev.log_ratio_se


def test_pre_period_cuped_is_unbiased() -> None:
    rng = np.random.default_rng(4)
    diffs = [simulate_cuped(rho=0.7, users=4000, effect=0.1, rng=rng).adjusted.diff
             for _ in range(200)]
    se = np.std(diffs, ddof=1) / math.sqrt(len(diffs))
    assert abs(np.mean(diffs) - 0.1) < 3 * se


def test_in_experiment_covariate_flips_the_sign() -> None:
    """True effect +0.05 σ; the treatment moves the in-experiment covariate by +0.5 σ, ρ = 0.5:
    raw +0.072 [+0.044, +0.100], CUPED −0.175 [−0.200, −0.151] (seed 0), against
    δ − θγ = −0.192 (θ = 0.485): 1.4 SE off."""
    run = simulate_cuped(rho=0.5, users=20_000, effect=0.05, covariate_shift=0.5,
                         rng=np.random.default_rng(0))
    assert run.raw.ci_low > 0 and run.adjusted.ci_high < 0
    assert abs(run.adjusted.diff - (0.05 - run.fit.theta * 0.5)) < 3 * run.adjusted.se


def test_theta_is_the_least_squares_slope() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=500)
    y = 3 * x + rng.normal(size=500)
    assert cuped_theta(y, x) == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-10)
    adjusted, fit = cuped_adjust(y, x, np.zeros(500, dtype=np.int64))
    assert adjusted.mean() == pytest.approx(y.mean()) and fit.rho > 0.9


def test_a_constant_covariate_is_refused() -> None:
    with pytest.raises(ExperimentInputError, match="pre_value is constant"):
        cuped_theta(np.arange(4.0), np.ones(4))


def test_cuped_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "cuped", "--rho", "0.5", "--users",
                              "20000", "--seed", "0", "--replicates", "20", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert abs(doc["reduction_error_in_se"]) < 3 and doc["sign_flipped"] is False
    assert doc["estimator_variance"]["expected_ratio"] == pytest.approx(0.75)
    code, out, _ = run_main(capsys, "ops", "experiment", "cuped", "--in-experiment",
                            "--replicates", "0", "--json")
    assert code == 0 and json.loads(out)["sign_flipped"] is True


@pytest.mark.parametrize(("args", "fragment"), [
    (["--rho", "1"], "rho(=1) must be a fraction in [0, 1)"),
    (["--users", "2"], "--users(=2) must be an integer >= 4"),
    (["--replicates", "2"], "--replicates(=2) must be 0 or at least 3"),
    (["--users", "1000000", "--replicates", "100"], "at most 50000000")])
def test_cuped_command_bad_input(capsys: pytest.CaptureFixture[str], args: list[str],
                                 fragment: str) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "cuped", *args)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err
