"""CUPED: variance reduction with a pre-experiment covariate (Deng, Xu, Kohavi and Walker,
"Improving the Sensitivity of Online Controlled Experiments by Utilizing Pre-Experiment
Data", WSDM 2013).

Y_cuped = Y − θ (X − X̄), θ = cov(Y, X) / var(X) estimated on all units pooled across arms.
Because X is measured before assignment, E[X̄_T − X̄_C] = 0 and the adjusted difference of
means is unbiased, with variance Var(Y)(1 − ρ²), ρ = corr(Y, X) (the paper's eq. 4).
A covariate measured *during* the experiment breaks the first premise: when the
treatment moves X by γ, the adjusted difference estimates δ − θγ instead of δ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.ops.experiment.errors import ExperimentInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class CupedFit:
    """The pooled CUPED coefficient and what it removed."""

    theta: float
    """cov(Y, X) / var(X) over all units."""
    covariate_mean: float
    """X̄ over all units (the adjustment keeps the overall mean of Y)."""
    rho: float
    """Pooled within-arm correlation of Y and X."""
    variance_reduction: float
    """1 − Var(Y_cuped)/Var(Y), both pooled within arms (≈ ρ²)."""


def cuped_theta(y: FloatArray, x: FloatArray) -> float:
    """θ = cov(Y, X) / var(X), pooled; raises if X is constant (nothing to adjust with)."""
    var_x = float(np.var(x))
    if var_x == 0:
        raise ExperimentInputError("pre_value is constant; CUPED needs a covariate that varies")
    return float(np.mean((y - y.mean()) * (x - x.mean())) / var_x)


def within_arm_var(values: FloatArray, arm: IntArray) -> float:
    """Variance of ``values`` around each arm's own mean (the variance a test sees)."""
    means = np.bincount(arm, weights=values) / np.bincount(arm)
    return float(np.mean((values - means[arm]) ** 2))


def cuped_adjust(y: npt.ArrayLike, x: npt.ArrayLike, arm: npt.ArrayLike) -> tuple[FloatArray,
                                                                                  CupedFit]:
    """The adjusted metric Y − θ(X − X̄) per unit, and the :class:`CupedFit`."""
    y_arr, x_arr = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    arm_arr = np.asarray(arm, dtype=np.int64)
    theta = cuped_theta(y_arr, x_arr)
    adjusted = y_arr - theta * (x_arr - x_arr.mean())
    var_y, var_adj = within_arm_var(y_arr, arm_arr), within_arm_var(adjusted, arm_arr)
    x_dev = x_arr - (np.bincount(arm_arr, weights=x_arr) / np.bincount(arm_arr))[arm_arr]
    y_dev = y_arr - (np.bincount(arm_arr, weights=y_arr) / np.bincount(arm_arr))[arm_arr]
    denom = float(np.sqrt(np.mean(x_dev ** 2) * np.mean(y_dev ** 2)))
    rho = float(np.mean(x_dev * y_dev)) / denom if denom > 0 else 0.0
    reduction = 1 - var_adj / var_y if var_y > 0 else 0.0
    return adjusted, CupedFit(theta=theta, covariate_mean=float(x_arr.mean()), rho=rho,
                              variance_reduction=reduction)
