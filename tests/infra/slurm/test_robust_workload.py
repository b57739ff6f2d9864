"""The knife-edge-free workload the real-Slurm comparison runs (docs/scheduling-slurm.md):
deterministic, still a mix, and robust where the plain random mix is not."""

from __future__ import annotations

from typing import Any

import pytest

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.slurm.predict import Timing, predict
from mlfleet.infra.scheduling.slurm.workload import SlurmJob
from mlfleet.infra.slurm_lab.compare import mixed_config, mixed_workload
from mlfleet.infra.slurm_lab.robust_workload import (
    Robustness,
    is_robust,
    robust_workload,
    workload_mix,
)

CONFIG = mixed_config()


SEED = 14
"""The real-Slurm comparison's workload (tests/infra/slurm_lab/test_slurm_vs_model.py)."""


@pytest.fixture(scope="module")
def workload() -> list[SlurmJob]:
    return robust_workload(seed=SEED)


def test_the_comparisons_workload_is_deterministic_and_still_a_mix(
        workload: list[SlurmJob]) -> None:
    assert robust_workload(seed=SEED) == workload
    mix = workload_mix(workload, CONFIG)
    # the issue asks for a mixed workload of >= 50 jobs: queueing, preemption, two-node
    # jobs, both partitions, backfill all still occur
    assert mix.jobs == 52 and mix.queued >= 8 and mix.preempted >= 1
    assert mix.two_node >= 2 and mix.urgent >= 2 and mix.backfilled >= 10


def test_jittered_timing_moves_no_start_of_it_beyond_the_bound(workload: list[SlurmJob]) -> None:
    # 64 trials the generator never saw: every start within 1.5 s, the same fates
    base = predict(workload, CONFIG)
    for trial in range(1000, 1064):
        moved = predict(workload, CONFIG, timing=Timing(jitter_s=0.5, jitter_seed=trial))
        assert [(p.nodes, p.preempted) for p in moved] == [(p.nodes, p.preempted) for p in base]
        assert max(abs(m.start_s - b.start_s) for m, b in zip(moved, base, strict=True)
                   if m.start_s is not None and b.start_s is not None) <= 1.5


def test_the_plain_random_mix_has_knife_edges() -> None:
    # seed 19 of the plain mix: 51/52 once on the real Slurm (one job +3.7 s)
    assert not is_robust(mixed_workload(seed=19), CONFIG)


@pytest.mark.parametrize("kwargs", [{"jitter_s": 0.0}, {"max_move_s": -1.0}, {"trials": 0}])
def test_bad_robustness_is_one_line(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        Robustness(**kwargs)
