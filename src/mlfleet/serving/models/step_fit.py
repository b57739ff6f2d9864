"""Fitting a serving step's efficiency and overheads to measured step times.

measured ≈ busy/efficiency + comm + steps·overhead + seqs·overhead_per_seq: the legacy
special case of the step model (:mod:`mlfleet.serving.models.llm_step`), which the CPU
calibration against the real server (:mod:`mlfleet.serving.calibrate`) uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import FloatArray, non_negative_array, positive_array
from mlfleet.errors import ServingInputError


@dataclass(frozen=True, kw_only=True)
class StepCalibration:
    """Step times fitted to measurements: busy/efficiency + comm + steps·o + seqs·o_seq."""

    efficiency: float
    """Fraction of the compute and memory ceilings reached (at most 1)."""
    overhead_s: float
    """Fixed overhead per step."""
    overhead_per_seq_s: float
    """Overhead per decoding sequence per step."""
    median_abs_rel_error: float
    """Median |predicted / measured - 1| on the fitting points."""


def fit_overheads(*, measured_s: npt.ArrayLike, busy_s: npt.ArrayLike, comm_s: npt.ArrayLike = 0.0,
                  steps: npt.ArrayLike = 1.0, seqs: npt.ArrayLike = 0.0,
                  per_seq: bool = True) -> StepCalibration:
    """Fit measured ≈ busy/eff + comm + steps·overhead + seqs·overhead_per_seq.

    ``busy_s`` is max(compute, memory) at efficiency 1 (summed over the steps a
    measurement spans); ``steps`` is how many steps it spans and ``seqs`` how many
    sequence-steps of decoding (Σ over steps of the decoding sequences).
    This is :func:`mlfleet.infra.roofline_fit.calibrate` with a per-sequence column: relative
    least squares, all coefficients >= 0, and the efficiency capped at 1 (refitting the
    overheads alone when the unconstrained optimum exceeds the ceilings). Raises
    ServingInputError for mismatched or non-positive input.
    """
    from scipy.optimize import nnls  # here, not at import: scipy.optimize costs ~0.3 s

    m = positive_array("measured_s", measured_s, error=ServingInputError).ravel()

    def column(name: str, value: npt.ArrayLike) -> FloatArray:
        arr = non_negative_array(name, value, error=ServingInputError)
        if arr.size not in (1, m.size):
            raise ServingInputError(f"{name} has {arr.size} values for {m.size} measurements")
        return np.asarray(np.broadcast_to(arr.ravel(), m.shape), dtype=np.float64)

    busy, comm = column("busy_s", busy_s), column("comm_s", comm_s)
    n_steps, n_seqs = column("steps", steps), column("seqs", seqs)
    if m.size < 2:
        raise ServingInputError(f"need >= 2 measurements to fit, got {m.size}")
    net = m - comm
    columns = [n_steps, n_seqs] if per_seq else [n_steps]
    coef, _ = nnls(np.column_stack([busy, *columns]) / m[:, None], net / m)
    if coef[0] < 1.0:  # faster than the ceilings allow: hold efficiency at 1
        rest, _ = nnls(np.column_stack(columns) / m[:, None], (net - busy) / m)
        coef = np.concatenate([[1.0], rest])
    per_seq_s = float(coef[2]) if per_seq else 0.0
    predicted = busy * coef[0] + comm + n_steps * coef[1] + n_seqs * per_seq_s
    return StepCalibration(efficiency=float(1.0 / coef[0]), overhead_s=float(coef[1]),
                           overhead_per_seq_s=per_seq_s,
                           median_abs_rel_error=float(np.median(np.abs(predicted / m - 1.0))))
