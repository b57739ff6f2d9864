"""AUC of a Gaussian score against a thresholded Gaussian latent, and its empirical check.

The ranking tasks of this package share one synthetic world: a latent ``u`` (jointly
normal with the score ``s``, correlation ``r``) and a label ``y = 1{u > 0}``. Then

    AUC = P(s_i > s_j | y_i = 1, y_j = 0) = 1/2 + (2/π)·arcsin(r/√2)

because ``(s_i − s_j, u_i, −u_j)`` is trivariate normal with correlations
``(r/√2, r/√2, 0)`` and its positive-orthant probability is
``1/8 + (1/4π)·Σ arcsin ρ`` (Sheppard's formula; Kendall & Stuart, *The Advanced Theory
of Statistics* vol. 1, ch. 15). AUC is 1/2 at r = 0 and 1 at r = 1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

from mlfleet.checks import fraction_array

FloatArray = npt.NDArray[np.float64]


def auc_of_correlation(r: npt.ArrayLike) -> FloatArray:
    """AUC of a score with correlation ``r`` (in [-1, 1]) to the latent (module doc)."""
    rho = np.asarray(r, dtype=np.float64)
    fraction_array("|r|", np.abs(rho))
    return np.asarray(0.5 + 2.0 / np.pi * np.arcsin(rho / np.sqrt(2.0)))


def empirical_auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Mann-Whitney AUC of ``scores`` for boolean ``labels`` (ties count one half)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
