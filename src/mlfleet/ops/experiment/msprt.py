"""The mixture sequential probability ratio test (mSPRT) for a difference of means.

Johari, Pekelis and Walsh, "Always Valid Inference: Bringing Sequential Analysis to A/B
Testing" (arXiv:1512.04922, 2017) and Johari, Koomen, Pekelis and Walsh, "Always Valid
Inference: Continuous Monitoring of A/B Tests", Operations Research 70(3), 2022. With an
estimate θ̂ of the difference θ whose sampling distribution is N(θ, v), and a normal
mixing distribution θ ~ N(θ₀, τ²) over the alternatives, the mixture likelihood ratio is

    Λ = sqrt(v / (v + τ²)) · exp(τ² (θ̂ − θ₀)² / (2 v (v + τ²)))

(their eq. for normal data; with n pairs of variance V each, v = V/n and this is
``sqrt(V/(V+nτ²)) exp(n²τ²(x̄−ȳ)²/(2V(V+nτ²)))``). Λ is a non-negative martingale under
H₀, so by Ville's inequality P(sup_n Λ_n ≥ 1/α) ≤ α: the p-value p_n = min(p_{n−1}, 1/Λ_n)
is valid at every look, however often one looks. The confidence interval is the set of θ₀
that the test does not reject, intersected over the looks. A plug-in variance
(v = s_A²/n_A + s_B²/n_B) makes the guarantee approximate, as in the paper's deployment.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive

FloatArray = npt.NDArray[np.float64]


def log_mixture_likelihood_ratio(estimate: npt.ArrayLike, variance: npt.ArrayLike, *,
                                 tau: float, null: float = 0.0) -> FloatArray:
    """log Λ of the normal-mixture SPRT for estimates ``estimate`` of a difference whose
    sampling variances are ``variance`` (same units squared), mixing sd ``tau``; vectorised."""
    tau2 = positive("tau", tau) ** 2
    theta = np.asarray(estimate, dtype=np.float64) - null
    v = np.asarray(variance, dtype=np.float64)
    return 0.5 * np.log(v / (v + tau2)) + tau2 * theta ** 2 / (2.0 * v * (v + tau2))


def always_valid_p_values(log_lr: npt.ArrayLike) -> FloatArray:
    """p_n = min(1, min_{m ≤ n} 1/Λ_m) along the last axis of ``log_lr`` (a running min)."""
    p = np.minimum(1.0, np.exp(-np.asarray(log_lr, dtype=np.float64)))
    return np.minimum.accumulate(p, axis=-1)


def half_width(variance: npt.ArrayLike, *, tau: float, alpha: float) -> FloatArray:
    """Half-width of the always-valid (1 − α) interval around θ̂ at one look: the θ₀ with
    Λ(θ₀) < 1/α, i.e. |θ̂ − θ₀| < sqrt(2v(v+τ²)/τ² · (log(1/α) + ½ log((v+τ²)/v)))."""
    tau2 = positive("tau", tau) ** 2
    fraction("alpha", alpha, open_low=True, open_high=True)
    v = np.asarray(variance, dtype=np.float64)
    radius2 = 2.0 * v * (v + tau2) / tau2 * (math.log(1.0 / alpha) + 0.5 * np.log((v + tau2) / v))
    return np.sqrt(radius2)


def always_valid_intervals(estimate: npt.ArrayLike, variance: npt.ArrayLike, *, tau: float,
                           alpha: float) -> tuple[FloatArray, FloatArray]:
    """(low, high) of the always-valid (1 − α) interval at each look along the last axis:
    each look's interval intersected with every earlier one (so it only ever shrinks)."""
    centre = np.asarray(estimate, dtype=np.float64)
    radius = half_width(variance, tau=tau, alpha=alpha)
    low = np.maximum.accumulate(centre - radius, axis=-1)
    high = np.minimum.accumulate(centre + radius, axis=-1)
    return low, high


def rejection_threshold(alpha: float) -> float:
    """log(1/α): the test rejects the first time log Λ reaches it (Ville's inequality)."""
    return math.log(1.0 / fraction("alpha", alpha, open_low=True, open_high=True))
