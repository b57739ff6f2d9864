"""Acceptance (issue 11): a rank SIGKILLed mid-run costs time, never a bit of the result.

``mlfleet run train --ranks 4 --steps 200 --ckpt-every 20 --inject kill:rank=2,step=137``
recovers from the step-120 checkpoint and ends with the same SHA-256 of the weights as the
run without ``--inject``; so do kills at seeded random steps and ranks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from train_helpers import fork_server, run_supervised, train_json

ACCEPTANCE = ("--ranks", "4", "--steps", "200", "--ckpt-every", "20")


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    report: dict[str, Any] = train_json(*ACCEPTANCE)
    return report


def test_the_reference_run_has_no_failure(reference: dict[str, Any]) -> None:
    assert reference["restarts"] == 0 and reference["lost_steps"] == 0
    assert reference["steps_executed"] == 200
    assert reference["checkpoints_committed"] == 10
    assert len(reference["sha256"]) == 64


def test_kill_rank_2_at_step_137_recovers_from_step_120_with_the_same_weights(
        reference: dict[str, Any]) -> None:
    run = train_json(*ACCEPTANCE, "--inject", "kill:rank=2,step=137")
    assert run["restarts"] == 1
    failure, = run["failures"]
    assert (failure["kind"], failure["rank"], failure["step"]) == ("died", 2, 136)
    assert "SIGKILL" in failure["message"]
    assert failure["resumed_from_step"] == 120
    assert failure["lost_steps"] == 16
    assert run["steps_executed"] == 200 + 16
    assert run["sha256"] == reference["sha256"]


@pytest.mark.slow
def test_kills_at_random_steps_leave_the_weights_unchanged(reference: dict[str, Any],
                                                          tmp_path: Path) -> None:
    """Five seeded (rank, step) kills through the same supervisor, one fork server for all."""
    rng = np.random.default_rng(2026)
    with fork_server(tmp_path) as server:
        for trial in range(5):
            rank, step = int(rng.integers(4)), int(rng.integers(1, 201))
            report = run_supervised(server, tmp_path / f"trial-{trial}", ranks=4, steps=200,
                                    ckpt_every=20, injections=(f"kill:rank={rank},step={step}",))
            failure, = report.failures
            assert failure.rank == rank
            assert failure.resumed_from_step == (step - 1) // 20 * 20, (rank, step)
            assert report.sha256 == reference["sha256"], (rank, step)
