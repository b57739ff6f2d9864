"""Users an A/B test needs: the normal-approximation sample size of a two-sample test.

n per arm = (z_{1-α/2} + z_{1-β})² · (σ₁² + σ₂²) / δ²  (e.g. Kohavi, Tang and Xu, *Trustworthy
Online Controlled Experiments*, 2020, ch. 17; with σ₁ = σ₂ = σ this is the familiar
2(z_{1-α/2} + z_{1-β})² σ² / δ², ≈ 16 σ²/δ² at α = 0.05 and 80 % power).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.errors import InputError

MAX_USERS_PER_ARM = 1e15
"""More users per arm than any population: a larger answer is refused as bad input."""


def users_per_arm(*, effect: float, std: float, alpha: float = 0.05, power: float = 0.8,
                  std_treatment: float | None = None) -> int:
    """Users per arm for a two-sided test at ``alpha`` to detect an absolute ``effect``
    with probability ``power``; ``std`` (and ``std_treatment``, default the same) is the
    per-user metric's standard deviation. Rounded up, and at least 2 (a variance needs two).
    Raises :class:`InputError` when the answer exceeds :data:`MAX_USERS_PER_ARM`."""
    positive("effect", abs(effect))
    positive("std", std)
    fraction("alpha", alpha, open_low=True, open_high=True)
    fraction("power", power, open_low=True, open_high=True)
    std_t = std if std_treatment is None else positive("std_treatment", std_treatment)
    ratio = std / abs(effect)  # σ/δ first: σ² alone may overflow
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    users = z ** 2 * ratio ** 2 * (1 + (std_t / std) ** 2) if ratio < 1e150 else math.inf
    if not users <= MAX_USERS_PER_ARM:
        raise InputError(f"effect(={effect:g}) is too small for std(={std:g}): it needs more "
                         f"than {MAX_USERS_PER_ARM:.0e} users per arm")
    return max(2, math.ceil(users))


def minimum_detectable_effect(*, users_per_arm: int, std: float, alpha: float = 0.05,
                              power: float = 0.8) -> float:
    """The smallest absolute effect ``users_per_arm`` users per arm detect with ``power``
    (the inverse of :func:`users_per_arm` with equal variances)."""
    positive("users_per_arm", users_per_arm)
    positive("std", std)
    fraction("alpha", alpha, open_low=True, open_high=True)
    fraction("power", power, open_low=True, open_high=True)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z * std * math.sqrt(2.0 / users_per_arm))


def achieved_power(*, users_per_arm: int, effect: float, std: float,
                   alpha: float = 0.05) -> float:
    """The probability that a two-sided z-test at ``alpha`` with ``users_per_arm`` users per
    arm rejects when the true absolute effect is ``effect`` (both tails counted)."""
    positive("users_per_arm", users_per_arm)
    positive("std", std)
    fraction("alpha", alpha, open_low=True, open_high=True)
    shift = abs(effect) / (std * math.sqrt(2.0 / users_per_arm))
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def simulated_power(*, users_per_arm: int, effect: float, std: float, replicates: int,
                    rng: np.random.Generator, alpha: float = 0.05) -> float:
    """Share of ``replicates`` simulated A/B tests (normal users, Welch's test) that reject:
    the Monte-Carlo check of :func:`users_per_arm` (SE √(p(1 − p)/replicates))."""
    from mlfleet.ops.experiment.welch import summarize, welch_test

    positive_int("replicates", replicates)
    positive_int("users_per_arm", users_per_arm, minimum=2)
    hits = 0
    for _ in range(replicates):
        control = rng.normal(0.0, std, users_per_arm)
        treatment = rng.normal(effect, std, users_per_arm)
        hits += welch_test(summarize(control), summarize(treatment), alpha=alpha).p_value < alpha
    return hits / replicates
