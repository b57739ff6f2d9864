"""Tests beside Mann-Whitney for what it cannot see: shape changes and sparse counts.

Mann-Whitney compares locations. A canary whose metric keeps its median but spreads out
(a variance-only regression) or splits into two modes (bimodal: half the intervals
fast, half stalled) passes it; so do error counts that are mostly zeros, where ties
swamp the ranks (users report both against Kayenta). Two opt-in tests, per metric:

* ``shape_test: ks`` — the two-sample Kolmogorov-Smirnov test (scipy ``ks_2samp``),
  one-sided in the metric's bad direction (``increase``: is the canary's distribution
  above the baseline's anywhere?), two-sided for ``either``; fails at ``p < alpha``.
* ``shape_test: spread`` — the Brown-Forsythe test of equal spread (scipy ``levene``
  with ``center='median'``; Brown & Forsythe, JASA 1974), failing only a canary whose
  spread (IQR) grew: far more power than KS against a variance-only change (at n = 30
  intervals and 4 x the standard deviation: 100 % vs 29 % at alpha 0.01, simulated).
  ``ks+spread`` runs both at ``alpha / 2`` each (Bonferroni).
* ``rate_test: poisson`` — the conditional test of two Poisson rates (Przyborowski &
  Wilenski 1940): given ``k = k_e + k_c`` events over exposures ``E_e``, ``E_c``,
  ``k_e ~ Binomial(k, E_e / (E_e + E_c))`` when the rates are equal; fails at
  ``p < alpha`` with a rate ratio beyond the allowed effect size.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from mlfleet.ops.canary.classifier import Classification

FloatArray = npt.NDArray[np.float64]

ALPHA = 0.01
"""Significance of each added test (its false-positive rate on identical distributions)."""

_KS_ALTERNATIVE = {"increase": "less", "decrease": "greater", "either": "two-sided"}
_BAD_LABEL = {"increase": "High", "decrease": "Low", "either": "Shape"}


def tail_ratios(control: FloatArray, experiment: FloatArray) -> tuple[float, float]:
    """(q90 canary / q90 baseline, q10 canary / q10 baseline); nan where a baseline's is 0."""
    hi_c, lo_c = np.quantile(control, [0.9, 0.1])
    hi_e, lo_e = np.quantile(experiment, [0.9, 0.1])
    return (float(hi_e / hi_c) if hi_c else math.nan, float(lo_e / lo_c) if lo_c else math.nan)


def _large_enough(control: FloatArray, experiment: FloatArray, *, direction: str,
                  allowed_increase: float, allowed_decrease: float) -> bool:
    """The effect-size guard: the bad tail moved by more than the allowed ratio."""
    up, down = tail_ratios(control, experiment)
    grew = math.isnan(up) or up > allowed_increase
    shrank = math.isnan(down) or down < allowed_decrease
    return {"increase": grew, "decrease": shrank, "either": grew or shrank}[direction]


def _failure(significant: bool, control: FloatArray, experiment: FloatArray, *,
             direction: str, allowed_increase: float, allowed_decrease: float,
             reason: str) -> Classification | None:
    """The failing classification when ``significant`` and past the effect-size guard."""
    if not significant or not _large_enough(control, experiment, direction=direction,
                                            allowed_increase=allowed_increase,
                                            allowed_decrease=allowed_decrease):
        return None
    return Classification(label=_BAD_LABEL[direction], ratio=math.nan, reason=reason)


def shape_test(control: FloatArray, experiment: FloatArray, *, direction: str,
               alpha: float = ALPHA, allowed_increase: float = 1.0,
               allowed_decrease: float = 1.0) -> Classification | None:
    """A failing classification when the distributions' shapes differ, else None.

    scipy's ``alternative='less'`` with the canary first asks whether the canary's CDF
    lies below the baseline's somewhere: canary values larger there. Like Kayenta's
    effect size, a significant change fails only if the bad tail (the 90th percentile
    for ``increase``, the 10th for ``decrease``) moved beyond the allowed ratio: with
    many intervals KS finds tiny systematic differences too.
    """
    if experiment.size < 2 or control.size < 2:
        return None
    res = stats.ks_2samp(experiment, control, alternative=_KS_ALTERNATIVE[direction])
    p = float(res.pvalue)
    return _failure(p < alpha, control, experiment, direction=direction,
                    allowed_increase=allowed_increase, allowed_decrease=allowed_decrease,
                    reason=f"distribution shape differs (KS D={float(res.statistic):.3f}, "
                           f"p={p:.2g} < {alpha:g})")


def spread_test(control: FloatArray, experiment: FloatArray, *, direction: str,
                alpha: float = ALPHA, allowed_increase: float = 1.0,
                allowed_decrease: float = 1.0) -> Classification | None:
    """A failing classification when the canary's spread grew significantly, else None."""
    if experiment.size < 3 or control.size < 3:
        return None
    iqr_e, iqr_c = (float(np.subtract(*np.quantile(v, [0.75, 0.25])))
                    for v in (experiment, control))
    p = float(stats.levene(experiment, control, center="median").pvalue)
    return _failure(p < alpha and iqr_e > iqr_c, control, experiment, direction=direction,
                    allowed_increase=allowed_increase, allowed_decrease=allowed_decrease,
                    reason=f"spread grew: IQR {iqr_e:.3g} vs {iqr_c:.3g} "
                           f"(Brown-Forsythe p={p:.2g} < {alpha:g})")


def poisson_rate_p(*, events_experiment: float, events_control: float,
                   exposure_experiment: float, exposure_control: float,
                   alternative: str) -> float:
    """p-value of equal Poisson rates given the totals (conditional binomial test)."""
    k_e, k = int(round(events_experiment)), int(round(events_experiment + events_control))
    if k == 0:
        return 1.0
    share = exposure_experiment / (exposure_experiment + exposure_control)
    return float(stats.binomtest(k_e, k, share, alternative=alternative).pvalue)


def rate_test(control: FloatArray, experiment: FloatArray, *, direction: str,
              control_exposure: FloatArray | None = None,
              experiment_exposure: FloatArray | None = None, alpha: float = ALPHA,
              allowed_increase: float = 1.0, allowed_decrease: float = 1.0,
              ) -> Classification | None:
    """A failing classification when the canary's event rate differs, else None.

    ``control``/``experiment`` are event counts per interval (NaN: none); the exposures
    (e.g. requests per interval) default to one per interval.
    """
    k_c, k_e = float(np.nansum(control)), float(np.nansum(experiment))
    e_c = float(np.nansum(control_exposure)) if control_exposure is not None else control.size
    e_e = float(np.nansum(experiment_exposure)) if experiment_exposure is not None \
        else experiment.size
    if e_c <= 0 or e_e <= 0:
        return None
    ratio = (k_e / e_e) / (k_c / e_c) if k_c > 0 else (math.inf if k_e > 0 else 1.0)
    alternative = {"increase": "greater", "decrease": "less", "either": "two-sided"}[direction]
    p = poisson_rate_p(events_experiment=k_e, events_control=k_c, exposure_experiment=e_e,
                       exposure_control=e_c, alternative=alternative)
    if p >= alpha:
        return None
    label = "High" if ratio > 1 else "Low"
    if (label == "High" and ratio <= allowed_increase) or \
            (label == "Low" and ratio >= allowed_decrease):
        return None
    return Classification(label=label, ratio=ratio,
                          reason=f"event rate ratio {ratio:.3g} (Poisson p={p:.2g} < {alpha:g})")
