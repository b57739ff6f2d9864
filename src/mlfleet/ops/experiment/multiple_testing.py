"""Multiple-testing control: adjusted p-values for m simultaneous tests.

- Bonferroni: p·m — controls the family-wise error rate (FWER) under any dependence.
- Holm (Scand. J. Statist. 1979): step-down, p_(i)·(m − i + 1) made monotone — the same
  FWER guarantee, never fewer rejections than Bonferroni.
- Benjamini–Hochberg (JRSS B 1995): step-up, p_(i)·m/i made monotone from the top —
  controls the false discovery rate (FDR) at α·m₀/m for independent tests.

A hypothesis is rejected at level α when its adjusted p-value is ≤ α.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction_array, one_of
from mlfleet.ops.experiment.errors import ExperimentInputError

FloatArray = npt.NDArray[np.float64]


def _p_values(p_values: npt.ArrayLike) -> FloatArray:
    p = fraction_array("p_value", np.atleast_1d(np.asarray(p_values, dtype=np.float64)),
                       error=ExperimentInputError)
    if p.ndim != 1 or p.size == 0:
        raise ExperimentInputError(f"p_values(={p.size} values) must be a non-empty list")
    return p


def bonferroni(p_values: npt.ArrayLike) -> FloatArray:
    """min(1, p·m)."""
    p = _p_values(p_values)
    return np.minimum(1.0, p * p.size)


def holm(p_values: npt.ArrayLike) -> FloatArray:
    """Holm's step-down adjusted p-values."""
    p = _p_values(p_values)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (p.size - np.arange(p.size))  # p_(i)·(m − i + 1), i from 1
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini–Hochberg step-up adjusted p-values (q-values)."""
    p = _p_values(p_values)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * p.size / np.arange(1, p.size + 1)  # p_(i)·m/i
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return adjusted


CORRECTIONS: dict[str, Callable[[npt.ArrayLike], FloatArray]] = {
    "none": _p_values, "bonferroni": bonferroni, "holm": holm, "bh": benjamini_hochberg,
}
"""Correction name -> function from raw to adjusted p-values."""


def adjust(p_values: npt.ArrayLike, *, method: str) -> FloatArray:
    """Adjusted p-values by ``method`` (one of :data:`CORRECTIONS`)."""
    return CORRECTIONS[one_of("correction", method, CORRECTIONS, error=ExperimentInputError)](
        p_values)
