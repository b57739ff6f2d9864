"""Finish-time fairness and Jain's index: closed forms and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.fairness import (
    fairness_of,
    finish_time_fairness,
    jain_index,
    jain_over_teams,
    team_gpu_seconds,
)
from mlfleet.infra.scheduling.types import JobRecord


def test_jain_is_one_for_equal_shares_and_one_over_n_for_one_taking_all() -> None:
    assert jain_index([3.0, 3.0, 3.0, 3.0]) == pytest.approx(1.0, abs=1e-15)
    for n in range(1, 9):
        assert jain_index([5.0] + [0.0] * (n - 1)) == pytest.approx(1.0 / n, abs=1e-15)
    # (1 + 2 + 3)^2 / (3 (1 + 4 + 9)) = 36 / 42
    assert jain_index([1.0, 2.0, 3.0]) == pytest.approx(36 / 42, abs=1e-15)


@given(st.lists(st.floats(0.0, 1e6), min_size=1, max_size=50), st.floats(1e-3, 1e3))
def test_jain_lies_in_one_over_n_to_one_and_ignores_scale(x: list[float], c: float) -> None:
    j = jain_index(x)
    assert 1.0 / len(x) - 1e-12 <= j <= 1.0 + 1e-12
    assert jain_index(np.array(x) * c) == pytest.approx(j, rel=1e-9)


def test_rho_is_shared_over_isolated_and_rejects_a_zero_isolated_time() -> None:
    assert finish_time_fairness([100.0, 300.0], [100.0, 100.0]).tolist() == [1.0, 3.0]
    with pytest.raises(InputError, match=r"isolated_s\(=0\) must be a finite number > 0"):
        finish_time_fairness([1.0], [0.0])


def record(name: str, submit_s: float, start_s: float, finish_s: float, gpus: int = 1,
           team: str = "a") -> JobRecord:
    return JobRecord(name=name, submit_s=submit_s, start_s=start_s, finish_s=finish_s,
                     gpus=gpus, team=team, gpu_s=gpus * (finish_s - start_s), isolated_s=100.0)


def test_fairness_of_records_skips_unfinished_jobs() -> None:
    records = [record("x", 0, 0, 100), record("y", 0, 100, 300),
               JobRecord(name="z", submit_s=0, start_s=None, finish_s=None, gpus=1)]
    summary = fairness_of(records, {"x": 100.0, "y": 100.0, "z": 50.0})
    assert summary.jobs == 2
    assert (summary.rho_max, summary.rho_median, summary.rho_mean) == (3.0, 2.0, 2.0)
    assert summary.jain_rho == pytest.approx(16 / 20)  # (1 + 3)^2 / (2 (1 + 9))
    assert math.isnan(fairness_of([], {}).rho_max)
    assert fairness_of(records[:2]) == summary  # the records' own isolated_s (100 s)


def test_team_shares_weighted_by_entitlement() -> None:
    used = team_gpu_seconds([record("x", 0, 0, 100, gpus=2, team="a"),
                             record("y", 0, 0, 100, gpus=1, team="b")])
    assert used == {"a": 200.0, "b": 100.0}
    assert jain_over_teams(used, {"a": 2.0, "b": 1.0}) == pytest.approx(1.0)
    assert jain_over_teams(used) == pytest.approx(9 / 10)  # (2 + 1)^2 / (2 (4 + 1))
    assert jain_over_teams(used, teams=["a", "b", "c"]) == pytest.approx(9 / 15)
