"""A roofline fitted to measurements: the efficiency the ceilings are reached at and a
fixed per-step overhead (``measured ≈ ideal / efficiency + overhead_s``), which turn the
roofline's bound into a prediction for small, overhead-bound steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import non_negative_array, positive_array
from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """A roofline fitted to measurements: measured ≈ ideal / efficiency + overhead_s."""

    efficiency: float
    """Fraction of the ceilings reached; use as compute_ and memory_efficiency."""
    overhead_s: float
    """Fixed per-step overhead."""
    median_abs_rel_error: float
    """Median |predicted / measured - 1| of the fitted model on the fitting points."""


def calibrate(*, measured_s: npt.ArrayLike, ideal_s: npt.ArrayLike,
              fit_efficiency: bool = True) -> Calibration:
    """Fit efficiency and fixed overhead to measured step times.

    ``ideal_s`` is the roofline time with efficiency 1 and no overhead. Minimises the
    relative error sum(((ideal/eff + overhead) - measured) / measured)^2 subject to
    0 < eff <= 1 and overhead >= 0, so small and large steps weigh alike. The problem
    is convex, so when the unconstrained optimum has eff > 1 (the ceilings are lower
    than what was measured) the optimum is eff = 1. ``fit_efficiency=False`` holds
    eff at 1 and fits only the overhead. Raises InputError for bad or mismatched input.
    """
    from scipy.optimize import nnls  # here, not at import: scipy.optimize costs ~0.3 s

    m = positive_array("measured_s", measured_s).ravel()
    ideal = non_negative_array("ideal_s", ideal_s).ravel()
    if m.shape != ideal.shape or m.size < 2:
        raise InputError(f"need >= 2 measured/ideal pairs of equal length, "
                         f"got {m.size} and {ideal.size}")
    inv_eff = 0.0
    if fit_efficiency:
        (inv_eff, overhead), _ = nnls(np.column_stack([ideal / m, 1.0 / m]), np.ones_like(m))
    if inv_eff < 1.0:  # efficiency held at (or capped to) 1: fit the overhead alone
        inv_eff, overhead = 1.0, nnls((1.0 / m)[:, None], 1.0 - ideal / m)[0][0]
    predicted = ideal * inv_eff + overhead
    return Calibration(efficiency=float(1.0 / inv_eff), overhead_s=float(overhead),
                       median_abs_rel_error=float(np.median(np.abs(predicted / m - 1.0))))
