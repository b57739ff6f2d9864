"""Feature drift per column: PSI and KS from the storage chapter's quality checks.

The statistics are :func:`mlfleet.storage.datasets.quality.psi` (deciles of the reference)
and :func:`~mlfleet.storage.datasets.quality.ks`; this module adds the verdicts and the
model to check them against. PSI thresholds follow the credit-scoring convention
(Siddiqi, *Credit Risk Scorecards*, Wiley 2006, ch. 8): < 0.1 stable, 0.1-0.25 moderate
shift, >= 0.25 significant shift. KS flags a column when its p-value is below ``ks_alpha``
*and* D is at least ``ks_d_min`` (in large samples a p-value alone flags shifts too small
to matter).

For a normal feature whose mean moves by δ standard deviations, the expected PSI over the
reference's deciles (large samples) is exact and computable
(:func:`psi_of_normal_shift`): ``Σ (a_i - e_i) ln(a_i / e_i)`` with ``e_i = 1/B`` and
``a_i = Φ(q_{i+1} - δ) - Φ(q_i - δ)``. Without binning PSI is the symmetrised
Kullback-Leibler divergence, ``δ²`` here (Yurdakul 2018); deciles lose a little of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive

PSI_MODERATE = 0.1
PSI_SHIFTED = 0.25


@dataclass(frozen=True, kw_only=True)
class DriftRule:
    """When a column has drifted."""

    psi_threshold: float = PSI_MODERATE
    ks_alpha: float = 0.01
    ks_d_min: float = 0.05

    def __post_init__(self) -> None:
        positive("psi_threshold", self.psi_threshold)
        fraction("ks_alpha", self.ks_alpha, open_low=True, open_high=True)
        fraction("ks_d_min", self.ks_d_min)


@dataclass(frozen=True, kw_only=True)
class ColumnDrift:
    """One column's drift statistics and verdicts."""

    column: str
    psi: float
    psi_verdict: str
    """``stable``, ``moderate`` or ``shifted`` (0.1 / 0.25 convention)."""
    ks_d: float
    ks_p: float
    drifted_psi: bool
    drifted_ks: bool


def psi_verdict(value: float) -> str:
    """The conventional reading of a PSI value."""
    if value >= PSI_SHIFTED:
        return "shifted"
    return "moderate" if value >= PSI_MODERATE else "stable"


def column_drift(column: str, reference: npt.ArrayLike, current: npt.ArrayLike,
                 rule: DriftRule | None = None) -> ColumnDrift:
    """PSI and KS of ``current`` against ``reference`` (see the module docstring)."""
    from mlfleet.storage.datasets.quality import ks, psi

    rule = rule or DriftRule()
    value = psi(reference, current)
    d, p = ks(reference, current)
    return ColumnDrift(column=column, psi=value, psi_verdict=psi_verdict(value), ks_d=d,
                       ks_p=p, drifted_psi=value >= rule.psi_threshold,
                       drifted_ks=p < rule.ks_alpha and d >= rule.ks_d_min)


def table_drift(reference: Mapping[str, npt.NDArray[np.float64]],
                current: Mapping[str, npt.NDArray[np.float64]],
                rule: DriftRule | None = None) -> list[ColumnDrift]:
    """Every column both tables have, in the reference's order."""
    return [column_drift(name, values, current[name], rule)
            for name, values in reference.items() if name in current]


def psi_of_normal_shift(delta: float, *, bins: int = 10) -> float:
    """Expected PSI over the reference's ``bins`` quantile bins of N(δ, 1) against N(0, 1)."""
    from scipy.stats import norm

    edges = norm.ppf(np.linspace(0, 1, bins + 1))  # -inf ... inf
    shifted = np.diff(norm.cdf(edges - delta))
    expected = np.full(bins, 1.0 / bins)
    return float(np.sum((shifted - expected) * np.log(shifted / expected)))


@dataclass(frozen=True, kw_only=True)
class DetectionRate:
    """Share of trials in which a planted shift was flagged."""

    delta: float
    psi_mean: float
    psi_rate: float
    ks_rate: float


def detection_rate(delta: float, *, seeds: range, n: int,
                   rule: DriftRule | None = None) -> DetectionRate:
    """Plant a mean shift of ``delta`` σ in a normal feature (``n`` rows each side)."""
    psis, by_psi, by_ks = [], 0, 0
    for seed in seeds:
        rng = np.random.default_rng([seed, 0xD41F])
        found = column_drift("x", rng.standard_normal(n), rng.normal(delta, 1.0, n), rule)
        psis.append(found.psi)
        by_psi += found.drifted_psi
        by_ks += found.drifted_ks
    return DetectionRate(delta=delta, psi_mean=float(np.mean(psis)),
                         psi_rate=by_psi / len(seeds), ks_rate=by_ks / len(seeds))
