"""Quality degradation: PSI drift detection time, the noncentral-χ² model vs simulation."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.reliability.degradation import quality_drift as qd


@pytest.mark.parametrize("delta", [0.2, 0.25, 0.3])
def test_window_alert_probability_matches_simulated_windows(delta: float) -> None:
    """Per-window alert rate over 120 streams × 5 windows (n = 500, n_ref = 2000) within
    0.12 of the noncentral χ² model (observed max 0.064, at δ = 0.25)."""
    p = qd.window_alert_probability(delta, window=500, reference=2000)
    flagged = []
    for seed in range(120):
        run = qd.simulate_drift(delta, window=500, reference=2000, windows_before=0,
                                max_windows=5, rng=np.random.default_rng([seed, 1]))
        k = run.windows_to_detect
        flagged.append((1, k) if k is not None else (0, 5))  # (alerts, windows looked at)
    rate = sum(a for a, _ in flagged) / sum(w for _, w in flagged)
    assert abs(rate - p) < 0.12


@pytest.mark.slow
@pytest.mark.parametrize("delta", [0.2, 0.3, 0.5])
def test_time_to_detect_matches_the_geometric_model(delta: float) -> None:
    """100 streams, at most 20 windows: mean windows to detect within 20 % of
    (1 − (1 − p)^20)/p (observed: 0.3 %, 6.7 %, 0.0 % at δ = 0.2, 0.3, 0.5)."""
    p = qd.window_alert_probability(delta, window=500, reference=2000)
    runs = [qd.simulate_drift(delta, window=500, reference=2000, windows_before=0,
                              max_windows=20, rng=np.random.default_rng([seed, 2]))
            for seed in range(100)]
    sim = np.mean([r.windows_to_detect or 20 for r in runs])
    assert sim == pytest.approx(qd.expected_windows_to_detect(p, max_windows=20), rel=0.2)


def test_no_drift_no_false_alarms_and_the_decision() -> None:
    assert qd.window_alert_probability(0.0, window=500, reference=2000) < 1e-4
    runs = [qd.simulate_drift(0.6, window=500, reference=2000, windows_before=3, max_windows=3,
                              since_deploy_s=600.0, rng=np.random.default_rng(s))
            for s in range(10)]
    assert sum(r.false_alarms for r in runs) == 0
    assert {r.decision for r in runs} == {"rollback"}
    assert qd.decide(alerted=True, since_deploy_s=None, deploy_window_s=3600) == "retrain"
    assert qd.decide(alerted=False, since_deploy_s=1.0, deploy_window_s=3600) == "none"


def test_bad_input() -> None:
    with pytest.raises(InputError, match="window"):
        qd.window_alert_probability(0.2, window=5, reference=2000)
    with pytest.raises(InputError, match="delta"):
        qd.window_alert_probability(-0.2, window=500, reference=2000)
