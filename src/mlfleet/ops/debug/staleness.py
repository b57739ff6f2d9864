"""Model staleness: error vs time since training on a drifting stream, and when to retrain.

The stream: features ``x ~ N(0, I_d)``, target ``y = w_t·x + ε`` with ``ε ~ N(0, σ²)``
and a concept that drifts as a random walk, ``w_t = w_{t-1} + η_t``, ``η_t ~ N(0, s² I_d)``
per time unit (a day, say). A model fitted by least squares on ``n`` samples at time 0
serves at age ``a`` with expected squared error::

    MSE(a) = σ² (1 + d / (n - d - 1)) + d s² a

(the first term is the OLS excess risk under Gaussian design, e.g. Breiman & Freedman,
JASA 1983; the second the drift accumulated since training). Retraining every ``T``
time units at ``retrain_cost_usd`` each, with the error costing ``error_cost_usd`` per
unit of MSE per time unit, costs on average ``C/T + v·d·s²·T/2`` per time unit beyond
the fresh model's, minimised at ``T* = sqrt(2C / (v·d·s²))`` (the economic-order-quantity
form, Harris 1913). :func:`simulate_decay` checks the line against real least-squares fits
on a simulated stream; :func:`fit_decay` estimates intercept and slope from an observed
error-vs-age series, which is all ``T*`` needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import non_negative, positive, positive_int


@dataclass(frozen=True, kw_only=True)
class DriftingStream:
    """The stream's parameters."""

    dims: int = 8
    noise_sd: float = 1.0
    """σ of the label noise."""
    drift_sd_per_unit: float = 0.05
    """s: per-coordinate random-walk step of the concept per time unit."""
    train_samples: int = 500

    def __post_init__(self) -> None:
        positive_int("dims", self.dims)
        positive("noise_sd", self.noise_sd)
        non_negative("drift_sd_per_unit", self.drift_sd_per_unit)
        positive_int("train_samples", self.train_samples, minimum=self.dims + 2)


def expected_mse(stream: DriftingStream, age: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """MSE(a) of the module docstring."""
    d, n = stream.dims, stream.train_samples
    fresh = stream.noise_sd**2 * (1 + d / (n - d - 1))
    return np.asarray(fresh + d * stream.drift_sd_per_unit**2 * np.asarray(age, np.float64),
                      dtype=np.float64)


def simulate_decay(stream: DriftingStream, *, ages: npt.NDArray[np.int64], trials: int,
                   rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Mean over ``trials`` of the served model's MSE at each age: a least-squares fit on
    ``train_samples`` draws at age 0, then the concept's random walk."""
    d = stream.dims
    total = np.zeros(ages.size)
    for _ in range(trials):
        w = rng.standard_normal(d)
        x = rng.standard_normal((stream.train_samples, d))
        y = x @ w + stream.noise_sd * rng.standard_normal(stream.train_samples)
        w_hat = np.linalg.lstsq(x, y, rcond=None)[0]
        steps = stream.drift_sd_per_unit * rng.standard_normal((int(ages.max()), d))
        walk = np.vstack([np.zeros(d), np.cumsum(steps, axis=0)])  # (max age + 1, d)
        gap = w + walk[ages] - w_hat  # (ages, d)
        total += stream.noise_sd**2 + np.sum(gap * gap, axis=1)  # E over a fresh x, ε
    return total / trials


@dataclass(frozen=True, kw_only=True)
class RetrainPlan:
    """The retrain interval that minimises staleness cost plus retraining cost."""

    fresh_mse: float
    slope_mse_per_unit: float
    """d·s²: MSE gained per time unit of age."""
    interval_units: float
    """T* (inf when the model does not decay)."""
    cost_usd_per_unit: float
    """Retraining plus staleness cost per time unit at T*."""


def retrain_plan(*, fresh_mse: float, slope_mse_per_unit: float, retrain_cost_usd: float,
                 error_cost_usd: float) -> RetrainPlan:
    """T* = sqrt(2C / (v·slope)) and its cost rate (module docstring)."""
    positive("retrain_cost_usd", retrain_cost_usd)
    positive("error_cost_usd", error_cost_usd)
    if slope_mse_per_unit <= 0:
        return RetrainPlan(fresh_mse=fresh_mse, slope_mse_per_unit=slope_mse_per_unit,
                           interval_units=math.inf, cost_usd_per_unit=0.0)
    interval = math.sqrt(2 * retrain_cost_usd / (error_cost_usd * slope_mse_per_unit))
    cost = retrain_cost_usd / interval + error_cost_usd * slope_mse_per_unit * interval / 2
    return RetrainPlan(fresh_mse=fresh_mse, slope_mse_per_unit=slope_mse_per_unit,
                       interval_units=interval, cost_usd_per_unit=cost)


def fit_decay(age: npt.ArrayLike, error: npt.ArrayLike) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through an error-vs-age series."""
    slope, intercept = np.polyfit(np.asarray(age, np.float64), np.asarray(error, np.float64), 1)
    return float(intercept), float(slope)
