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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def log_mixture_likelihood_ratio(estimate: npt.ArrayLike, variance: npt.ArrayLike, *,
                                 tau: float, null: float = 0.0) -> FloatArray:
    """log Λ of the normal-mixture SPRT for estimates ``estimate`` of a difference whose
    sampling variances are ``variance`` (same units squared), mixing sd ``tau``; vectorised."""
    tau2 = positive("tau", tau) ** 2
    theta = np.asarray(estimate, dtype=np.float64) - null
    v = np.asarray(variance, dtype=np.float64)
    return 0.5 * np.log(v / (v + tau2)) + tau2 * theta ** 2 / (2.0 * v * (v + tau2))


def walk_log_lr(walks: npt.ArrayLike, *, tau: float) -> FloatArray:
    """log Λ after each step of random walks of unit-variance observations (sims, steps):
    after t steps θ̂ = S_t / t with variance v = 1/t."""
    s = np.asarray(walks, dtype=np.float64)
    t = np.arange(1, s.shape[-1] + 1, dtype=np.float64)
    return log_mixture_likelihood_ratio(s / t, 1.0 / t, tau=tau)


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


def rejection_threshold(alpha: float) -> float:
    """log(1/α): the test rejects the first time log Λ reaches it (Ville's inequality)."""
    return math.log(1.0 / fraction("alpha", alpha, open_low=True, open_high=True))


@dataclass(frozen=True, kw_only=True)
class Looks:
    """The mSPRT replayed over two arms' observations in arrival order, one entry per look."""

    units: IntArray
    """Units seen (both arms) at each look."""
    control_n: IntArray
    treatment_n: IntArray
    difference: FloatArray
    """Treatment mean − control mean at each look."""
    variance: FloatArray
    """Plug-in sampling variance of the difference, s_c²/n_c + s_t²/n_t."""
    p_value: FloatArray
    """Always-valid p-value (running min of 1/Λ)."""
    ci_low: FloatArray
    """Always-valid (1 − α) interval, intersected over the looks."""
    ci_high: FloatArray


def _running_moments(values: FloatArray, member: npt.NDArray[np.bool_],
                     at: IntArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """(n, mean, unbiased variance) of the members among the first at+1 values, per look."""
    shift = values[member][0] if member.any() else 0.0  # against cancellation in Σx² − n x̄²
    x = np.where(member, values - shift, 0.0)
    n = np.cumsum(member)[at]
    s1, s2 = np.cumsum(x)[at], np.cumsum(x * x)[at]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        var = (s2 - n * mean ** 2) / (n - 1)
    return n.astype(np.int64), mean + shift, np.maximum(var, 0.0)


def replay(values: npt.ArrayLike, treated: npt.ArrayLike, *, look_at: npt.ArrayLike,
           tau: float, alpha: float) -> Looks:
    """The mSPRT over ``values`` in order (``treated`` marks the treatment arm's), looking
    after the 0-based rows ``look_at``. A look before each arm has two units with some
    spread has no test yet (p = 1, an infinite interval)."""
    x = np.asarray(values, dtype=np.float64)
    t = np.asarray(treated, dtype=np.bool_)
    at = np.asarray(look_at, dtype=np.int64)
    nc, mc, vc = _running_moments(x, ~t, at)
    nt, mt, vt = _running_moments(x, t, at)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = vc / nc + vt / nt
    ready = (nc >= 2) & (nt >= 2) & (variance > 0)
    difference = mt - mc
    safe_v = np.where(ready, variance, 1.0)
    log_lr = np.where(ready, log_mixture_likelihood_ratio(np.where(ready, difference, 0.0),
                                                          safe_v, tau=tau), 0.0)
    radius = np.where(ready, half_width(safe_v, tau=tau, alpha=alpha), math.inf)
    centre = np.where(ready, difference, 0.0)
    return Looks(units=at + 1, control_n=nc, treatment_n=nt, difference=difference,
                 variance=variance, p_value=always_valid_p_values(log_lr),
                 ci_low=np.maximum.accumulate(centre - radius),
                 ci_high=np.minimum.accumulate(centre + radius))
