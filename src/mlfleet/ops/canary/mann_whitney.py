"""The Mann-Whitney U test and the Hodges-Lehmann interval of the shift, as Kayenta computes them.

Kayenta's ``MannWhitney.calculateConfidenceInterval`` (kayenta-mannwhitney, a port of R's
``wilcox.test(x, y, conf.int=TRUE)``, asymptotic branch) finds the shift ``mu`` of the
experiment ``x`` against the control ``y`` at which the standardised, continuity-corrected
rank sum of ``x - mu`` equals a normal quantile:

    z(mu) = (W(mu) - nx(nx+1)/2 - nx·ny/2 - sign(·)/2) / sigma_ties

with ``sigma_ties² = nx·ny/12 · (nx+ny+1 - Σ(t³-t)/((nx+ny)(nx+ny-1)))``. The interval
ends are the roots of ``z(mu) = ±q(1-alpha/2)`` on ``[min x - max y, max x - min y]``
(an end of that range when there is no sign change), and the estimate is a root of
``z(mu) = 0`` (the Hodges-Lehmann shift: the median of the pairwise differences lies in
that flat region). ``z`` is a decreasing step function of ``mu``; we bisect it to the
jump, where R uses ``uniroot`` and Kayenta Brent's method. The p-value is scipy's
asymptotic ``mannwhitneyu`` without continuity correction (Kayenta: Apache Commons
Math ``MannWhitneyUTest``, normal approximation, no correction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]

_BISECTIONS = 100


class AllTiedError(ValueError):
    """Every observation is tied: the interval is undefined (Kayenta: MannWhitneyException)."""


@dataclass(frozen=True, kw_only=True)
class ShiftInterval:
    """The Hodges-Lehmann shift of experiment vs control and its confidence interval."""

    lower: float
    """Lower end of the interval (experiment - control, the metric's unit)."""
    upper: float
    """Upper end of the interval."""
    estimate: float
    """The shift estimate (a root of z(mu) = 0)."""
    p_value: float
    """Two-sided Mann-Whitney p-value (normal approximation, no continuity correction)."""


def _z_minus(x: FloatArray, y: FloatArray, mu: float, zq: float) -> float:
    """z(mu) - zq for the shifted experiment ``x - mu`` against ``y`` (R's ``wdiff``)."""
    nx, ny = float(x.size), float(y.size)
    ranks = stats.rankdata(np.concatenate([x - mu, y]))
    _, ties = np.unique(ranks, return_counts=True)
    dz = float(ranks[: x.size].sum()) - nx * (nx + 1) / 2 - nx * ny / 2
    correction = math.copysign(0.5, dz) if dz != 0 else 0.0
    tie_term = float(np.sum(ties.astype(float) ** 3 - ties)) / ((nx + ny) * (nx + ny - 1))
    sigma = math.sqrt(nx * ny / 12 * ((nx + ny + 1) - tie_term))
    if sigma == 0:
        raise AllTiedError("cannot compute the interval when all observations are tied")
    return (dz - correction) / sigma - zq


def _root(x: FloatArray, y: FloatArray, zq: float, *, ends: bool = True) -> float:
    """Where the decreasing step function z(mu) - zq changes sign (bisection)."""
    lo, hi = float(x.min() - y.max()), float(x.max() - y.min())
    f_lo = _z_minus(x, y, lo, zq)
    if ends and f_lo <= 0:
        return lo
    f_hi = _z_minus(x, y, hi, zq)
    if ends and f_hi >= 0:
        return hi
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        f_mid = _z_minus(x, y, mid, zq)
        if f_mid == 0 or hi - lo <= 1e-12 * max(1.0, abs(mid)):
            return mid
        lo, hi = (mid, hi) if f_mid > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def shift_interval(experiment: FloatArray, control: FloatArray, *,
                   confidence: float) -> ShiftInterval:
    """The Hodges-Lehmann shift (experiment - control) and its ``confidence`` interval.

    Raises:
        AllTiedError: every value of both samples is the same.
    """
    x, y = np.asarray(experiment, float), np.asarray(control, float)
    zq = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    lower, upper = _root(x, y, zq), _root(x, y, -zq)
    estimate = _root(x, y, 0.0, ends=False)
    p = float(stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                                 use_continuity=False).pvalue)
    return ShiftInterval(lower=lower, upper=upper, estimate=estimate, p_value=p)
