"""Interaction between two overlapping experiments: does A's effect depend on B's arm?

Units in a 2×2 factorial (A's arm × B's arm, split by independent hashes). The
interaction contrast is the difference of A's effect between B's arms,
I = (ȳ₁₁ − ȳ₀₁) − (ȳ₁₀ − ȳ₀₀), with Var(Î) = Σ s²_ab / n_ab over the four cells; the
test is z = Î / SE (normal: each cell holds many units), two-sided (Montgomery,
*Design and Analysis of Experiments*, ch. 5; Kohavi, Tang and Xu 2020, ch. 4 on
interactions between concurrent experiments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from mlfleet.checks import finite, fraction, positive_int
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.split import assign, unit_range

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class Interaction:
    """The 2×2 cells and the test of the interaction contrast."""

    cell_n: tuple[tuple[int, int], tuple[int, int]]
    """Units per cell, indexed [arm of A][arm of B]."""
    cell_mean: tuple[tuple[float, float], tuple[float, float]]
    """Mean metric per cell, indexed [arm of A][arm of B]."""
    effect_a_by_b: tuple[float, float]
    """A's effect (treatment − control) among B's control and B's treatment units."""
    contrast: float
    """Î = effect_a_by_b[1] − effect_a_by_b[0]."""
    se: float
    """√(Σ s²/n) over the four cells."""
    z: float
    """Î / se."""
    p_value: float
    """Two-sided normal p-value."""


def interaction_test(value: npt.ArrayLike, arm_a: npt.ArrayLike,
                     arm_b: npt.ArrayLike) -> Interaction:
    """Test the A×B interaction; arms are 0 (control) or 1 (treatment) in each experiment.

    Raises :class:`ExperimentInputError` when a cell holds fewer than two units.
    """
    y = np.asarray(value, dtype=np.float64)
    cell = 2 * np.asarray(arm_a, dtype=np.int64) + np.asarray(arm_b, dtype=np.int64)
    n = np.bincount(cell, minlength=4)
    if n.size != 4 or n.min() < 2:
        raise ExperimentInputError(f"interaction cells (A arm, B arm) hold {n.tolist()} units; "
                                   "each of the 4 needs at least 2")
    mean = np.bincount(cell, weights=y, minlength=4) / n
    var = np.bincount(cell, weights=(y - mean[cell]) ** 2, minlength=4) / (n - 1)
    by_b = (float(mean[2] - mean[0]), float(mean[3] - mean[1]))
    contrast = by_b[1] - by_b[0]
    se = float(np.sqrt(np.sum(var / n)))
    z = contrast / se if se > 0 else math.nan
    return Interaction(cell_n=((int(n[0]), int(n[1])), (int(n[2]), int(n[3]))),
                       cell_mean=((float(mean[0]), float(mean[1])),
                                  (float(mean[2]), float(mean[3]))),
                       effect_a_by_b=by_b, contrast=contrast, se=se, z=z,
                       p_value=float(2 * stats.norm.sf(abs(z))) if se > 0 else math.nan)


def overlapping_assignment(users: int, *, salt_a: str = "experiment-a",
                           salt_b: str = "experiment-b") -> tuple[IntArray, IntArray]:
    """Arms of ``users`` units in two 50/50 experiments split by independent hashes."""
    ids = unit_range(users)
    half = {"control": 0.5, "treatment": 0.5}
    return assign(ids, salt=salt_a, weights=half), assign(ids, salt=salt_b, weights=half)


def rejection_rate(*, users: int, interaction: float, replicates: int, rng: np.random.Generator,
                   effect_a: float = 0.02, effect_b: float = 0.02, alpha: float = 0.05) -> float:
    """Share of simulated experiments whose interaction test rejects at ``alpha``.

    The same ``users`` (hash-split once) get fresh N(0, 1) metrics per replicate, with
    main effects ``effect_a``, ``effect_b`` and ``interaction`` added where both are
    treated: the power with a planted interaction, the false-positive rate without.
    """
    positive_int("replicates", replicates, error=ExperimentInputError)
    finite("interaction", interaction, error=ExperimentInputError)
    fraction("alpha", alpha, open_low=True, open_high=True, error=ExperimentInputError)
    a, b = overlapping_assignment(users)
    mean = effect_a * a + effect_b * b + interaction * a * b
    hits = sum(interaction_test(mean + rng.standard_normal(users), a, b).p_value < alpha
               for _ in range(replicates))
    return hits / replicates


def interaction_power(*, users: int, interaction: float, std: float = 1.0,
                      alpha: float = 0.05) -> float:
    """Closed-form power of the interaction test with ``users`` split evenly into 4 cells.

    SE(Î) = √(4 · σ²/(users/4)) = 4σ/√users: an interaction needs four times the users
    of a main effect of the same size for the same power (Montgomery, ch. 5).
    """
    positive_int("users", users, minimum=8, error=ExperimentInputError)
    fraction("alpha", alpha, open_low=True, open_high=True, error=ExperimentInputError)
    shift = abs(interaction) / (4 * std / math.sqrt(users))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))
