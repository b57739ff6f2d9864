"""Ensemble reliability: k members, each up with probability a, required or optional.

* **required** (series system): the ensemble answers only when every member is up,
  ``A = Π a_i``;
* **optional** (parallel system, each missing member falls back to "leave it out"):
  it answers while at least one is up, ``A = 1 − Π (1 − a_i)``.

(Series/parallel reliability: Rausand & Høyland, *System Reliability Theory*, 2nd ed.,
ch. 4.) The quality cost of a missing member: member j scores ``u + e_j`` with
independent e_j ~ N(0, σ²) for the latent ``u`` ~ N(0, 1) (label ``u > 0``), the ensemble
averages the m members that are up, so its score has correlation
``r_m = 1/√(1 + σ²/m)`` with u and AUC_m = 1/2 + (2/π)·arcsin(r_m/√2). With independent
members (all a equal) m is Binomial(k, a) and the AUC served pools the answered
requests over m ≥ 1 (:func:`~.gaussian_auc.mixture_auc`; each m scores with variance
1 + σ²/m and covariance 1 with u).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import binom

from mlfleet.checks import fraction, fraction_array, one_of, positive, positive_int
from mlfleet.reliability.degradation.gaussian_auc import (
    auc_of_correlation,
    empirical_auc,
    mixture_auc,
)
from mlfleet.reliability.errors import ReliabilityInputError as Bad

MODES = ("required", "optional")


def series_availability(member_availability: npt.ArrayLike) -> float:
    """Π a_i: every member must be up."""
    return float(np.prod(fraction_array("member_availability", member_availability, error=Bad)))


def parallel_availability(member_availability: npt.ArrayLike) -> float:
    """1 − Π (1 − a_i): one member up is enough."""
    a = fraction_array("member_availability", member_availability, error=Bad)
    return float(1.0 - np.prod(1.0 - a))


def auc_of_members(members_up: npt.ArrayLike, *, member_noise_sd: float) -> npt.NDArray[np.float64]:
    """AUC of the average of ``members_up`` members of noise σ (module doc)."""
    m = np.asarray(members_up, dtype=np.float64)
    sigma = positive("member_noise_sd", member_noise_sd, error=Bad)
    return auc_of_correlation(1.0 / np.sqrt(1.0 + sigma ** 2 / m))


@dataclass(frozen=True, kw_only=True)
class EnsembleOutcome:
    """Availability and quality of an ensemble."""

    availability: float
    auc_full: float
    """AUC with every member up."""
    auc_one_down: float
    """AUC with one member missing (optional mode; the full AUC's cost of one member)."""
    auc_served: float
    """Expected AUC over answered requests."""


def ensemble_outcome(*, members: int, member_availability: float, mode: str,
                     member_noise_sd: float) -> EnsembleOutcome:
    """Closed form for k identical independent members (module doc)."""
    k = positive_int("members", members, error=Bad)
    a = fraction("member_availability", member_availability, error=Bad)
    one_of("mode", mode, MODES, error=Bad)
    full = float(auc_of_members(k, member_noise_sd=member_noise_sd))
    one_down = float(auc_of_members(max(k - 1, 1), member_noise_sd=member_noise_sd)) \
        if k > 1 else float("nan")
    if mode == "required":
        return EnsembleOutcome(availability=series_availability([a] * k), auc_full=full,
                               auc_one_down=one_down, auc_served=full)
    m = np.arange(1, k + 1)
    weights = binom.pmf(m, k, a)
    avail = parallel_availability([a] * k)
    served = mixture_auc(weights=weights, score_var=1.0 + member_noise_sd ** 2 / m,
                         score_latent_cov=np.ones(k), latent_var=1.0) if avail > 0 else float("nan")
    return EnsembleOutcome(availability=avail, auc_full=full, auc_one_down=one_down,
                           auc_served=served)


def simulated_outcome(*, members: int, member_availability: float, mode: str,
                      member_noise_sd: float, n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Monte Carlo: (share answered, AUC over answered) for ``n`` requests, each seeing
    independent member states and its own latent, label and member noises."""
    k = positive_int("members", members, error=Bad)
    one_of("mode", mode, MODES, error=Bad)
    up = rng.random((n, k)) < member_availability
    u = rng.standard_normal(n)
    scores = u[:, None] + member_noise_sd * rng.standard_normal((n, k))
    count = up.sum(axis=1)
    answered = count == k if mode == "required" else count >= 1
    mean = np.where(answered, (scores * up).sum(axis=1) / np.maximum(count, 1), 0.0)
    return float(answered.mean()), empirical_auc(mean[answered], u[answered] > 0)
