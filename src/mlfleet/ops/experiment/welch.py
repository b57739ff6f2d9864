"""Welch's t-test for the difference in means of two arms with unequal variances.

t = (x̄_T − x̄_C) / √(s_T²/n_T + s_C²/n_C), with the Welch–Satterthwaite degrees of freedom
ν = (s_T²/n_T + s_C²/n_C)² / ((s_T²/n_T)²/(n_T − 1) + (s_C²/n_C)²/(n_C − 1))
(Welch, Biometrika 1947). The two-sided p-value and the 1 − α interval use Student's t
with ν degrees of freedom. Works from per-arm summaries, so an arm of 10⁸ units costs one
pass over its values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from mlfleet.checks import fraction
from mlfleet.ops.experiment.errors import ExperimentInputError


@dataclass(frozen=True, kw_only=True)
class ArmSummary:
    """The sufficient statistics of one arm's metric."""

    n: int
    """Units in the arm."""
    mean: float
    """Sample mean of the metric."""
    var: float
    """Sample variance (denominator n − 1)."""


def summarize(values: npt.ArrayLike, *, arm: str = "arm") -> ArmSummary:
    """An :class:`ArmSummary` of ``values``; raises if the arm has fewer than 2 units."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        raise ExperimentInputError(f"arm {arm!r} has {x.size} users; a variance needs at "
                                   "least 2 per arm")
    return ArmSummary(n=int(x.size), mean=float(x.mean()), var=float(x.var(ddof=1)))


@dataclass(frozen=True, kw_only=True)
class WelchResult:
    """Treatment minus control, its standard error, test and confidence interval."""

    diff: float
    """x̄_T − x̄_C."""
    se: float
    """√(s_T²/n_T + s_C²/n_C)."""
    df: float
    """Welch–Satterthwaite degrees of freedom."""
    t: float
    """diff / se (NaN when both arms are constant)."""
    p_value: float
    """Two-sided p-value (NaN when both arms are constant)."""
    ci_low: float
    """Lower end of the 1 − alpha interval of diff."""
    ci_high: float
    """Upper end of the 1 − alpha interval of diff."""
    alpha: float
    """Significance level of the test and the interval."""


def welch_df(control: ArmSummary, treatment: ArmSummary) -> float:
    """The Welch–Satterthwaite degrees of freedom (n_T + n_C − 2 when both variances are 0)."""
    a, b = treatment.var / treatment.n, control.var / control.n
    if a + b == 0:
        return float(treatment.n + control.n - 2)
    return (a + b) ** 2 / (a ** 2 / (treatment.n - 1) + b ** 2 / (control.n - 1))


def welch_test(control: ArmSummary, treatment: ArmSummary, *, alpha: float = 0.05) -> WelchResult:
    """Welch's two-sided t-test of treatment − control at ``alpha``."""
    fraction("alpha", alpha, open_low=True, open_high=True, error=ExperimentInputError)
    diff = treatment.mean - control.mean
    se = math.sqrt(treatment.var / treatment.n + control.var / control.n)
    df = welch_df(control, treatment)
    t = diff / se if se > 0 else math.nan
    p_value = float(2 * stats.t.sf(abs(t), df)) if se > 0 else math.nan
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return WelchResult(diff=diff, se=se, df=df, t=t, p_value=p_value, ci_low=diff - half,
                       ci_high=diff + half, alpha=alpha)
