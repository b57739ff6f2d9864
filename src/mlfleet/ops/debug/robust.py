"""Robust location and scale: the median and the scaled median absolute deviation."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAD_TO_SIGMA = 1.4826
"""1 / Φ⁻¹(3/4): the MAD times this estimates σ of normal data (Hampel 1974)."""


def median_sigma(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(median, 1.4826 · MAD) of a 1-D array."""
    median = float(np.median(values))
    return median, MAD_TO_SIGMA * float(np.median(np.abs(values - median)))
