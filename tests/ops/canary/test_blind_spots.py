"""Where Kayenta's judge is blind, and what the added tests cost on identical distributions.

Every sample is seeded. Series of 30 intervals per group (Netflix judged 1-minute
intervals over runs of about this length).
"""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.ops.canary.blind_spots import (
    ALPHA,
    poisson_rate_p,
    rate_test,
    shape_test,
    spread_test,
)
from mlfleet.ops.canary.judge import judge
from mlfleet.ops.canary.judge_config import JudgeConfig, MetricSpec

N = 30
LATENCY = JudgeConfig(metrics=(MetricSpec(name="p50", direction="increase",
                                          shape_test="ks+spread"),))
ERRORS = JudgeConfig(metrics=(MetricSpec(name="errors", direction="increase",
                                         rate_test="poisson", exposure="requests"),))


def decide(config: JudgeConfig, baseline: np.ndarray, canary: np.ndarray,
           name: str) -> tuple[str, str]:
    """(Kayenta's decision, ours)."""
    base, can = {name: baseline, "requests": np.full(baseline.size, 100.0)}, \
        {name: canary, "requests": np.full(canary.size, 100.0)}
    return (judge(config.kayenta_only(), baseline=base, canary=can).decision,
            judge(config, baseline=base, canary=can).decision)


def test_variance_only_regression_passes_kayenta_and_fails_ours() -> None:
    """Same median (50 ms), spread x 4: Mann-Whitney sees no shift."""
    rng = np.random.default_rng(1)
    base, can = 0.05 + 0.002 * rng.standard_normal(N), 0.05 + 0.008 * rng.standard_normal(N)
    assert decide(LATENCY, base, can, "p50") == ("pass", "fail")


def test_bimodal_regression_passes_kayenta_and_fails_ours() -> None:
    """Half the intervals stall (x 1.5), half run fast (x 0.5): the median stays put."""
    rng = np.random.default_rng(2)
    base = 0.05 * rng.lognormal(0, 0.05, N)
    can = 0.05 * np.where(np.arange(N) % 2, 1.5, 0.5) * rng.lognormal(0, 0.05, N)
    assert decide(LATENCY, base, can, "p50") == ("pass", "fail")


def test_sparse_bursty_error_counts_pass_kayenta_and_fail_ours() -> None:
    """27 of 30 intervals without errors in both; the baseline's other three have 1 error,
    the canary's 5 (errors in bursts): the ranks barely move (U = 454.5 of 900), the rate
    is 5 x (conditional binomial p = 0.0038)."""
    base, can = np.zeros(N), np.zeros(N)
    base[[3, 14, 25]], can[[5, 16, 27]] = 1.0, 5.0
    assert decide(ERRORS, base, can, "errors") == ("pass", "fail")


def test_user_reported_case_spinnaker_6278() -> None:
    """spinnaker/spinnaker#6278: canary [100 x 7, 1 x 3] vs baseline [1 x 10] passes
    Kayenta (interval [0, 99] never clears 0.25 x 99). KS alone fails it (D = 0.7,
    p = 0.0062 < 0.01); ks+spread at 0.005 each does not (Brown-Forsythe p = 0.065)."""
    base, can = np.ones(10), np.array([100.0] * 7 + [1.0] * 3)
    ks_only = JudgeConfig(metrics=(MetricSpec(name="p50", direction="increase",
                                              shape_test="ks"),))
    assert decide(ks_only, base, can, "p50") == ("pass", "fail")
    assert decide(LATENCY, base, can, "p50") == ("pass", "pass")


def test_user_reported_case_kayenta_426_is_too_short_for_either() -> None:
    """spinnaker/kayenta#426: canary [0, 1, 2, 1, 0, 0] vs six zeros passes Kayenta; 4
    events vs 0 at equal exposure has Poisson p = 0.5^4 = 0.0625, so ours passes it too at
    alpha 0.01 (and fails it at 0.1): six intervals cannot tell at 1 %."""
    base, can = np.zeros(6), np.array([0.0, 1, 2, 1, 0, 0])
    assert decide(ERRORS, base, can, "errors") == ("pass", "pass")
    loose = JudgeConfig(metrics=ERRORS.metrics, alpha=0.1)
    assert decide(loose, base, can, "errors") == ("pass", "fail")


def false_positive_rates(trials: int = 1000) -> tuple[float, float, float, float]:
    """KS, Brown-Forsythe, Poisson rate test (each at alpha), and the whole latency judge
    (Mann-Whitney, then ks+spread at alpha/2 each) on identical distributions."""
    rng = np.random.default_rng(4)
    ks = spread = rate = judged = 0
    for _ in range(trials):
        a, b = 0.05 * rng.lognormal(0, 0.2, N), 0.05 * rng.lognormal(0, 0.2, N)
        ks += shape_test(a, b, direction="increase") is not None
        spread += spread_test(a, b, direction="increase") is not None
        judged += judge(LATENCY, baseline={"p50": a}, canary={"p50": b}).decision != "pass"
        ca, cb = rng.poisson(0.3, N).astype(float), rng.poisson(0.3, N).astype(float)
        rate += rate_test(ca, cb, direction="increase") is not None
    return ks / trials, spread / trials, rate / trials, judged / trials


@pytest.mark.slow
def test_false_positive_rate_on_identical_distributions() -> None:
    """1000 seeded pairs of 30 intervals, alpha 0.01: KS 0.005, Brown-Forsythe (spread
    grew) 0.006, Poisson 0.002, the whole latency judge 0.007 (Mann-Whitney at 98 %
    with the tolerance, then ks+spread); each bounded by alpha + 3 binomial SEs (the
    one-sided and discrete tests are conservative)."""
    ks, spread, rate, judged = false_positive_rates()
    se = np.sqrt(ALPHA * (1 - ALPHA) / 1000)
    assert max(ks, spread, rate) <= ALPHA + 3 * se
    assert judged <= 2 * ALPHA + 3 * se


def test_poisson_rate_p_matches_the_binomial_definition() -> None:
    """5 events vs 0 at equal exposure: P(all 5 on the canary) = 0.5^5."""
    p = poisson_rate_p(events_experiment=5, events_control=0, exposure_experiment=1,
                       exposure_control=1, alternative="greater")
    assert p == pytest.approx(0.5 ** 5)


def test_a_small_systematic_shift_is_not_a_shape_failure_under_an_effect_floor() -> None:
    """KS finds a 3 % shift over 200 intervals; the tail ratio 1.03 < 1.2 lets it pass."""
    rng = np.random.default_rng(5)
    a = 0.05 * rng.lognormal(0, 0.01, 200)
    b = 1.03 * 0.05 * rng.lognormal(0, 0.01, 200)
    assert shape_test(a, b, direction="increase") is not None
    assert shape_test(a, b, direction="increase", allowed_increase=1.2) is None
