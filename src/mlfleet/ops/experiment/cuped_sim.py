"""Simulated users for CUPED: a metric Y and a covariate X of known correlation ρ.

Per user, X ~ N(0, 1) and Y = ρX + √(1 − ρ²)·ε + δ·T (ε ~ N(0, 1), T = 1 in treatment), so
corr(Y, X) = ρ within each arm and the true effect is δ. A pre-period covariate is X
itself; an in-experiment covariate is X + γ·T: the treatment moves it by γ. With pooled θ ≈ ρ,
CUPED then estimates δ − ργ: negative when ργ > δ (the sign flip). Reproduces Deng et al.
(WSDM 2013): the variance of the difference in means shrinks by the factor 1 − ρ².
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import finite, fraction, positive_int
from mlfleet.ops.experiment.cuped import CupedFit, cuped_adjust
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.welch import WelchResult, summarize, welch_test


@dataclass(frozen=True, kw_only=True)
class CupedRun:
    """One simulated experiment analysed without and with CUPED."""

    rho: float
    """Correlation of Y and the pre-period covariate the users were drawn with."""
    users: int
    """Users in both arms together."""
    effect: float
    """True effect δ on Y (in units of Y's standard deviation)."""
    covariate_shift: float
    """γ: how far the treatment moves the covariate (0 for a pre-period covariate)."""
    fit: CupedFit
    """θ, observed ρ and the observed variance reduction."""
    reduction_se: float
    """Monte-Carlo standard error of the observed reduction around ρ²."""
    raw: WelchResult
    """Welch's test on Y."""
    adjusted: WelchResult
    """Welch's test on the CUPED-adjusted Y."""


def reduction_se(rho: float, users: int) -> float:
    """Standard error of the sample ρ̂² around ρ² for bivariate normal data:
    Var(ρ̂) ≈ (1 − ρ²)²/n, so SE(ρ̂²) ≈ 2|ρ|(1 − ρ²)/√n (delta method), floored at √2/n,
    the spread of ρ̂² ~ χ²₁/n at ρ = 0."""
    return max(2 * abs(rho) * (1 - rho ** 2) / math.sqrt(users), math.sqrt(2) / users)


def simulate_cuped(*, rho: float, users: int, effect: float = 0.05,
                   covariate_shift: float = 0.0, rng: np.random.Generator,
                   alpha: float = 0.05) -> CupedRun:
    """Draw ``users`` users split 50/50 and analyse them raw and with CUPED."""
    fraction("rho", abs(rho), open_high=True, error=ExperimentInputError)
    positive_int("users", users, minimum=4, error=ExperimentInputError)
    finite("effect", effect, error=ExperimentInputError)
    finite("covariate_shift", covariate_shift, error=ExperimentInputError)
    arm = rng.permutation(np.arange(users) % 2).astype(np.int64)
    x = rng.standard_normal(users)
    y = rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal(users) + effect * arm
    adjusted, fit = cuped_adjust(y, x + covariate_shift * arm, arm)
    return CupedRun(rho=rho, users=users, effect=effect, covariate_shift=covariate_shift,
                    fit=fit, reduction_se=reduction_se(rho, users),
                    raw=_welch(y, arm, alpha), adjusted=_welch(adjusted, arm, alpha))


def _welch(values: np.ndarray, arm: np.ndarray, alpha: float) -> WelchResult:
    return welch_test(summarize(values[arm == 0], arm="control"),
                      summarize(values[arm == 1], arm="treatment"), alpha=alpha)


@dataclass(frozen=True, kw_only=True)
class EstimatorVariance:
    """Across replicated experiments, the variance of the effect estimate raw vs CUPED."""

    replicates: int
    """Simulated experiments."""
    variance_ratio: float
    """Var(δ̂_cuped) / Var(δ̂_raw) across replicates (Deng et al.: 1 − ρ²)."""
    log_ratio_se: float
    """Monte-Carlo SE of log(variance_ratio): 2|ρ|/√R (the two estimates correlate by √(1 − ρ²))."""


def estimator_variance(*, rho: float, users: int, replicates: int,
                       rng: np.random.Generator) -> EstimatorVariance:
    """Replicate :func:`simulate_cuped` (no effect) and compare the estimates' spreads."""
    positive_int("replicates", replicates, minimum=3, error=ExperimentInputError)
    raw, adjusted = np.empty(replicates), np.empty(replicates)
    for i in range(replicates):
        run = simulate_cuped(rho=rho, users=users, effect=0.0, rng=rng)
        raw[i], adjusted[i] = run.raw.diff, run.adjusted.diff
    return EstimatorVariance(replicates=replicates,
                             variance_ratio=float(adjusted.var(ddof=1) / raw.var(ddof=1)),
                             log_ratio_se=2 * abs(rho) / math.sqrt(replicates))
