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
that flat region). ``z`` is a decreasing step function of ``mu`` jumping only at pairwise
differences; we bisect it to the jump and return that difference exactly, where R uses
``uniroot`` (tolerance 1e-4) and Kayenta Brent's method, both landing within their
tolerance of it (on either side: with a jump at 0 that sign decides the class). The p-value is scipy's
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


def _ranks(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Average ranks (1-based, as R's ``rank``) and the size of each group of ties."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ties = np.diff(np.r_[starts, values.size]).astype(float)
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(starts + (ties + 1) / 2, ties.astype(np.int64))
    return ranks, ties


def _z_minus(x: FloatArray, y: FloatArray, mu: float, zq: float) -> float:
    """z(mu) - zq for the shifted experiment ``x - mu`` against ``y`` (R's ``wdiff``)."""
    nx, ny = float(x.size), float(y.size)
    ranks, ties = _ranks(np.concatenate([x - mu, y]))
    dz = float(ranks[: x.size].sum()) - nx * (nx + 1) / 2 - nx * ny / 2
    correction = math.copysign(0.5, dz) if dz != 0 else 0.0
    tie_term = float(np.sum(ties.astype(float) ** 3 - ties)) / ((nx + ny) * (nx + ny - 1))
    sigma = math.sqrt(nx * ny / 12 * ((nx + ny + 1) - tie_term))
    if sigma == 0:
        raise AllTiedError("cannot compute the interval when all observations are tied")
    return (dz - correction) / sigma - zq


def _snap(x: FloatArray, y: FloatArray, mu: float) -> float:
    """The pairwise difference x_i - y_j that bisection converged to (z jumps only there),
    so that a root at 0 is 0 and not +/-1e-13, whose sign would decide a classification."""
    if x.size * y.size > 4_000_000:
        return mu
    diffs = np.subtract.outer(x, y).ravel()
    nearest = float(diffs[np.argmin(np.abs(diffs - mu))])
    return nearest if abs(nearest - mu) <= 1e-9 * max(1.0, abs(mu)) else mu


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
        if f_mid == 0:
            return mid
        if hi - lo <= 1e-12 * max(1.0, abs(mid)):
            return _snap(x, y, mid)
        lo, hi = (mid, hi) if f_mid > 0 else (lo, mid)
    return _snap(x, y, 0.5 * (lo + hi))


def shift_interval(experiment: FloatArray, control: FloatArray, *,
                   confidence: float) -> ShiftInterval:
    """The Hodges-Lehmann shift (experiment - control) and its ``confidence`` interval.

    Two constant samples differ by one shift exactly: the interval is that point (R and
    Kayenta stop there, every observation being tied at the range's ends).

    Raises:
        AllTiedError: every value of both samples is the same.
    """
    x, y = np.asarray(experiment, float), np.asarray(control, float)
    p = float(stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                                 use_continuity=False).pvalue)
    if np.ptp(x) == 0 and np.ptp(y) == 0 and x[0] != y[0]:
        d = float(x[0] - y[0])
        return ShiftInterval(lower=d, upper=d, estimate=d, p_value=p)
    zq = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    lower, upper = _root(x, y, zq), _root(x, y, -zq)
    estimate = _root(x, y, 0.0, ends=False)
    return ShiftInterval(lower=lower, upper=upper, estimate=estimate, p_value=p)
