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


def mixture_auc(*, weights: npt.ArrayLike, score_var: npt.ArrayLike, score_latent_cov: npt.ArrayLike,
                latent_var: float) -> float:
    """AUC over requests pooled from groups scored differently (same latent, base rate 1/2).

    Group g (share w_g) scores with variance v_g and covariance c_g with the latent. A
    positive of group s beats a negative of group t with probability
    ``1/2 + (1/π)·(arcsin(c_s/√((v_s+v_t)V)) + arcsin(c_t/√((v_s+v_t)V)))`` (the same
    orthant argument), and the pooled AUC is ``Σ_s Σ_t w_s w_t AUC_st``.
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    v = np.asarray(score_var, dtype=np.float64)
    c = np.asarray(score_latent_cov, dtype=np.float64)
    scale = np.sqrt((v[:, None] + v[None, :]) * latent_var)
    pair = 0.5 + (np.arcsin(c[:, None] / scale) + np.arcsin(c[None, :] / scale)) / np.pi
    return float(w @ pair @ w)
