"""Relative lift x̄_T / x̄_C − 1 with a delta-method confidence interval.

The ratio of two independent means has, to first order,
Var(x̄_T/x̄_C) ≈ s_T²/(n_T x̄_C²) + x̄_T² s_C²/(n_C x̄_C⁴)
(the delta method as applied to A/B metrics by Deng, Knoblich and Lu, "Applying the
Delta Method in Metric Analytics", KDD 2018); the interval is lift ± z_{1−α/2}·se.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from mlfleet.checks import fraction
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.welch import ArmSummary


@dataclass(frozen=True, kw_only=True)
class Lift:
    """Relative change of the treatment's mean over the control's."""

    lift: float
    """x̄_T / x̄_C − 1 (0.02 is +2 %)."""
    se: float
    """Delta-method standard error of the lift."""
    ci_low: float
    """Lower end of the 1 − alpha interval."""
    ci_high: float
    """Upper end of the 1 − alpha interval."""


def relative_lift(control: ArmSummary, treatment: ArmSummary, *, alpha: float = 0.05) -> Lift:
    """The relative lift and its delta-method interval; the control mean must not be 0."""
    fraction("alpha", alpha, open_low=True, open_high=True, error=ExperimentInputError)
    if control.mean == 0:
        raise ExperimentInputError("control mean(=0): a relative lift needs a control mean "
                                   "other than 0")
    ratio = treatment.mean / control.mean
    var = (treatment.var / (treatment.n * control.mean ** 2)
           + treatment.mean ** 2 * control.var / (control.n * control.mean ** 4))
    se = math.sqrt(var)
    half = float(stats.norm.ppf(1 - alpha / 2)) * se
    return Lift(lift=ratio - 1, se=se, ci_low=ratio - 1 - half, ci_high=ratio - 1 + half)
