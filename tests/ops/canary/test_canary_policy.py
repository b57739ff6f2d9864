"""The canary policy: intervals for Mann-Whitney's power, validated by simulating the judge."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.ops.canary.classifier import classify
from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.policy import canary_policy, intervals_for_power


def simulated_power(*, shift: float, cv: float, n: int, trials: int, seed: int) -> float:
    """Share of normal series pairs (n intervals each, relative shift, CV) Kayenta's
    classifier calls High."""
    rng = np.random.default_rng(seed)
    hits = sum(classify(rng.normal(1, cv, n), rng.normal(1 + shift, cv, n),
                        direction="increase").label == "High" for _ in range(trials))
    return hits / trials


@pytest.mark.parametrize(("shift", "cv"), [(0.1, 0.1), (0.2, 0.1), (0.3, 0.2)])
def test_planned_intervals_reach_the_stated_power(shift: float, cv: float) -> None:
    """Planned for 80 %: simulated 0.83 (n = 36), 0.88 (n = 12), 0.84 (n = 18) over 400
    seeded trials (SE 0.02). Noether's formula is conservative at small n; the
    simulated power stays within [0.75, 0.95]."""
    n = intervals_for_power(shift=shift, interval_cv=cv, power=0.8)
    assert 0.75 <= simulated_power(shift=shift, cv=cv, n=n, trials=400, seed=0) <= 0.95


def test_policy_for_a_service() -> None:
    """100 qps at 5 %: 300 canary requests a minute, 36 one-minute intervals per judgement
    for a 10 % shift at CV 0.1, three judgements to 100 %."""
    p = canary_policy(qps=100.0)
    assert p.stages == (0.05, 0.25, 0.5, 1.0)
    assert p.canary_requests_per_interval == pytest.approx(300.0)
    assert p.intervals_per_judgement == 36
    assert p.time_to_first_judgement_s == pytest.approx(36 * 60.0)
    assert p.time_to_full_rollout_s == pytest.approx(3 * 36 * 60.0)


def test_low_traffic_lengthens_the_interval() -> None:
    """2 qps at 1 %: 50 samples take 2500 s, not 60."""
    p = canary_policy(qps=2.0, canary_share=0.01)
    assert p.interval_s == pytest.approx(2500.0)
    assert p.stages[0] == 0.01


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"qps": 0.0}, "qps"), ({"qps": 10.0, "canary_share": 1.0}, "canary_share"),
    ({"qps": 10.0, "shift": -0.1}, "shift"), ({"qps": 10.0, "power": 1.0}, "power"),
])
def test_bad_arguments(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(CanaryInputError, match=fragment):
        canary_policy(**kwargs)  # type: ignore[arg-type]
