"""Kayenta's metric classifier: Mann-Whitney U with a Hodges-Lehmann interval and a tolerance.

A metric is ``High`` when the whole ``confidence`` interval of the shift (experiment -
control) lies above ``tolerance·|estimate|``, ``Low`` when it lies below
``-tolerance·|estimate|``, and ``Pass`` otherwise, subject to the metric's direction
(``increase``: only High counts, ``decrease``: only Low, ``either``: both) and to an
effect-size floor on the ratio of means (High needs ``ratio > allowed_increase``, Low
``ratio < allowed_decrease``; 1.0 by default). Empty samples are ``Nodata``; identical
samples, or samples with one distinct value between them, ``Pass``.

Source: spinnaker/kayenta, ``kayenta-judge/.../classifiers/metric/MannWhitneyClassifier.scala``
(``classify``, ``calculateBounds``) and ``NetflixACAJudge.scala`` (tolerance 0.25,
confidence 0.98 in the judge); the effect-size floor follows Kayenta's later
``effectSize.allowedIncrease/allowedDecrease`` analysis configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.ops.canary.mann_whitney import ShiftInterval, shift_interval

FloatArray = npt.NDArray[np.float64]

DIRECTIONS = ("increase", "decrease", "either")
LABELS = ("Pass", "High", "Low", "Nodata", "NodataFailure")
TOLERANCE = 0.25
"""Kayenta's judge: bounds at ±25 % of the Hodges-Lehmann estimate."""
CONFIDENCE = 0.98
"""Kayenta's judge: 98 % confidence interval of the shift."""


@dataclass(frozen=True, kw_only=True)
class Classification:
    """One metric's label and why."""

    label: str
    """``Pass``, ``High``, ``Low``, ``Nodata`` or ``NodataFailure`` (our added tests:
    also ``High``/``Low`` or ``Shape``)."""
    reason: str
    ratio: float
    """mean(experiment) / mean(control) (nan where the control mean is 0)."""
    interval: ShiftInterval | None = None
    """The Mann-Whitney result, when the test ran."""


def mean_ratio(experiment: FloatArray, control: FloatArray) -> float:
    """mean(experiment) / mean(control); nan when either is empty or the control's is 0."""
    if experiment.size == 0 or control.size == 0 or float(np.mean(control)) == 0:
        return math.nan
    return float(np.mean(experiment) / np.mean(control))


def classify(control: FloatArray, experiment: FloatArray, *, direction: str = "either",
             tolerance: float = TOLERANCE, confidence: float = CONFIDENCE,
             allowed_increase: float = 1.0, allowed_decrease: float = 1.0) -> Classification:
    """Kayenta's Mann-Whitney classification of ``experiment`` against ``control``."""
    if experiment.size == 0 or control.size == 0:
        return Classification(label="Nodata", reason="no data for the canary or the baseline",
                              ratio=math.nan)
    if np.array_equal(np.sort(experiment), np.sort(control)):
        return Classification(label="Pass", reason="canary and baseline data are identical",
                              ratio=1.0)
    if np.unique(np.concatenate([experiment, control])).size == 1:
        return Classification(label="Pass", reason="one distinct value in both", ratio=1.0)
    result = shift_interval(experiment, control, confidence=confidence)
    ratio = mean_ratio(experiment, control)
    bound = tolerance * abs(result.estimate)
    up_ok = math.isnan(ratio) or ratio > allowed_increase
    down_ok = math.isnan(ratio) or ratio < allowed_decrease
    if direction in ("increase", "either") and result.lower > bound and up_ok:
        label, reason = "High", f"shift interval [{result.lower:.4g}, {result.upper:.4g}] " \
            f"above +{bound:.4g}"
    elif direction in ("decrease", "either") and result.upper < -bound and down_ok:
        label, reason = "Low", f"shift interval [{result.lower:.4g}, {result.upper:.4g}] " \
            f"below -{bound:.4g}"
    else:
        label, reason = "Pass", "shift interval within the tolerance or allowed direction"
    return Classification(label=label, reason=reason, ratio=ratio, interval=result)
