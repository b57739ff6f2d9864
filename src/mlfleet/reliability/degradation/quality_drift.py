"""Model-quality degradation as a failure mode: drift detected, an alert, a decision.

A feature of the request stream (standard normal) shifts its mean by δ σ at a window
boundary. Every window of n requests is compared with a reference sample of n_ref by
the operations chapter's drift check (:func:`mlfleet.ops.debug.drift.column_drift`:
PSI over the reference's deciles, KS); the first flagged window raises the alert.

Closed form for the time to detect: for large samples PSI is distributed as
``(1/n + 1/n_ref)·χ²(B − 1, λ)`` with noncentrality ``λ = PSI_δ/(1/n + 1/n_ref)``, where
PSI_δ is the population PSI of the shift (:func:`~mlfleet.ops.debug.drift.psi_of_normal_shift`)
(Yurdakul, *Statistical properties of the population stability index*, 2018: central
χ² under no shift; the noncentral form is the usual local-alternative extension). A window
alerts with probability ``p = P(PSI ≥ threshold)``, independently of the others, so the
windows to detect are geometric, capped at M: ``E[min(K, M)] = (1 − (1 − p)^M)/p``; times
``n / rate`` gives seconds.

Decision: drift that starts within ``deploy_window_s`` after a deploy points at the
release (training/serving skew shipped with it): roll back. Otherwise the world
changed: retrain on recent data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, ncx2

from mlfleet.checks import positive, positive_int
from mlfleet.ops.debug.drift import DriftRule, column_drift, psi_of_normal_shift
from mlfleet.reliability.errors import ReliabilityInputError as Bad

BINS = 10
"""Deciles of the reference, as :func:`mlfleet.storage.datasets.quality.psi` bins."""
MAX_DELTA = 10.0
"""Larger shifts leave reference deciles empty (PSI infinite): every window alerts."""


def window_alert_probability(delta: float, *, window: int, reference: int,
                             psi_threshold: float = 0.1) -> float:
    """P(one window of ``window`` rows flags PSI >= threshold) for a shift of δ σ."""
    scale = 1.0 / positive_int("window", window, minimum=20, error=Bad) \
        + 1.0 / positive_int("reference", reference, minimum=20, error=Bad)
    positive("psi_threshold", psi_threshold, error=Bad)
    if not 0 <= delta <= MAX_DELTA:
        raise Bad(f"delta(={delta!r}) must be a shift in [0, {MAX_DELTA:g}] σ")
    lam = psi_of_normal_shift(delta, bins=BINS) / scale
    if lam == 0.0:
        return float(chi2.sf(psi_threshold / scale, BINS - 1))
    return float(ncx2.sf(psi_threshold / scale, BINS - 1, lam))


def expected_windows_to_detect(p: float, *, max_windows: int) -> float:
    """E[min(K, M)] for K geometric with success probability p (capped at M windows)."""
    m = positive_int("max_windows", max_windows, error=Bad)
    return float(m) if p <= 0 else (1.0 - (1.0 - p) ** m) / p


@dataclass(frozen=True, kw_only=True)
class DriftRun:
    """One simulated stream: when the alert came and what was decided."""

    windows_to_detect: int | None
    """Windows after the shift until the first alert (1 = the first window); None: never."""
    false_alarms: int
    """Alerts in the windows before the shift."""
    decision: str
    """``rollback``, ``retrain`` or ``none`` (no alert)."""


def decide(*, alerted: bool, since_deploy_s: float | None, deploy_window_s: float) -> str:
    """Rollback when the drift began soon after a deploy, else retrain (module doc)."""
    if not alerted:
        return "none"
    recent = since_deploy_s is not None and 0 <= since_deploy_s <= deploy_window_s
    return "rollback" if recent else "retrain"


def simulate_drift(delta: float, *, window: int, reference: int, windows_before: int,
                   max_windows: int, rng: np.random.Generator, since_deploy_s: float | None = None,
                   deploy_window_s: float = 3600.0, rule: DriftRule | None = None) -> DriftRun:
    """A stream with the shift after ``windows_before`` windows, checked window by window."""
    rule = rule or DriftRule()
    ref = rng.standard_normal(reference)

    def flagged(mean: float) -> bool:
        return column_drift("x", ref, rng.normal(mean, 1.0, window), rule).drifted_psi

    false_alarms = sum(flagged(0.0) for _ in range(windows_before))
    found = next((k for k in range(1, max_windows + 1) if flagged(delta)), None)
    return DriftRun(windows_to_detect=found, false_alarms=false_alarms,
                    decision=decide(alerted=found is not None, since_deploy_s=since_deploy_s,
                                    deploy_window_s=deploy_window_s))
