"""The sample-size formula: its known values, its inverse, and the power it achieves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_helpers import run_main
from mlfleet.errors import InputError
from mlfleet.ops.experiment.power import (
    achieved_power,
    minimum_detectable_effect,
    simulated_power,
    users_per_arm,
)


def test_sixteen_sigma_squared_over_delta_squared() -> None:
    assert users_per_arm(effect=0.1, std=1.0) == 1570  # 2·(1.960 + 0.842)²/0.01 = 1569.8
    assert users_per_arm(effect=1.0, std=1e-9) == 2  # never fewer than a variance needs
    n = users_per_arm(effect=0.1, std=1.0)
    assert 0.8 <= achieved_power(users_per_arm=n, effect=0.1, std=1.0) < 0.8005
    assert minimum_detectable_effect(users_per_arm=n, std=1.0) == pytest.approx(0.1, rel=1e-3)


def test_simulated_power_matches_the_closed_form_for_small_arms() -> None:
    """200 users per arm, effect 0.25 σ: closed form 0.705; 1000 simulated Welch tests reject
    in 0.726 of them here, within 3 SE (0.043)."""
    expected = achieved_power(users_per_arm=200, effect=0.25, std=1.0)
    got = simulated_power(users_per_arm=200, effect=0.25, std=1.0, replicates=1000,
                          rng=np.random.default_rng(3))
    assert abs(got - expected) < 3 * np.sqrt(expected * (1 - expected) / 1000)


def test_an_effect_too_small_for_any_population_is_refused() -> None:
    with pytest.raises(InputError, match="needs more than 1e\\+15 users per arm"):
        users_per_arm(effect=1e-300, std=1e300)


def test_power_command_with_capacity(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "power", "--mde", "1%", "--cv", "2",
                              "--users-per-day", "1e6", "--days", "14", "--layers", "3",
                              "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["users_per_arm"] == 627_911 and doc["capacity"]["experiments_layered"] == 33


@pytest.mark.parametrize(("args", "fragment"), [
    (["--mde", "0.1"], "exactly one of --std"),
    (["--mde", "2%", "--std", "1"], "is a percentage: give --cv"),
    (["--mde", "0", "--std", "1"], "--mde(=0)"),
    (["--mde", "0.1", "--cv", "1", "--days", "7"], "both --users-per-day and --days"),
    (["--mde", "0.1", "--std", "1", "--arms", "1"], "--arms(=1)")])
def test_power_command_bad_input(capsys: pytest.CaptureFixture[str], args: list[str],
                                 fragment: str) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "power", *args)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err
