"""Gandiva (time-slicing, migration) and Themis (finish-time fairness): hand-worked cases."""

from __future__ import annotations

import pytest
from policy_views import cluster, spec, step, view

from mlfleet.infra.scheduling.policies.fifo import FifoPolicy
from mlfleet.infra.scheduling.policies.gandiva import GandivaPolicy
from mlfleet.infra.scheduling.policies.gandiva import make as make_gandiva
from mlfleet.infra.scheduling.policies.options import PolicyOptionError
from mlfleet.infra.scheduling.policies.themis import ThemisPolicy, rho_estimate
from mlfleet.infra.scheduling.policies.themis import make as make_themis


def test_gandiva_time_slices_two_jobs_on_one_gpu_round_robin() -> None:
    jobs = [spec("A", 1, duration_s=3600.0), spec("B", 1, duration_s=3600.0)]
    run = step(GandivaPolicy(quantum_s=600.0), jobs)
    # A: 0-600, 1200-1800, ..., 6000-6600; B: 600-1200, ..., 6600-7200
    assert run.start_s == {"A": 0.0, "B": 600.0}
    assert run.finish_s == {"A": 6600.0, "B": 7200.0}
    assert run.preemptions == {"A": 5, "B": 5}
    assert step(FifoPolicy(), jobs).finish_s == {"A": 3600.0, "B": 7200.0}


def test_gandiva_does_not_slice_when_demand_fits() -> None:
    jobs = [spec("A", 1, duration_s=3600.0), spec("B", 1, duration_s=3600.0)]
    run = step(GandivaPolicy(quantum_s=600.0), jobs, nodes=1, gpus_per_node=2)
    assert run.finish_s == {"A": 3600.0, "B": 3600.0}
    assert not run.preemptions


def test_gandiva_migrates_a_spread_job_when_it_pays() -> None:
    c = cluster(2, 4)
    spread_job = view(spec("X", 4, duration_s=3600.0), placement=(0, 0, 1, 1), progress=0.1)
    assert GandivaPolicy().schedule(60.0, [spread_job], c) == {"X": (0, 0, 0, 0)}
    no_gain = view(spec("X", 4, duration_s=3600.0), placement=(0, 0, 1, 1), spread_slowdown=1.0)
    assert GandivaPolicy().schedule(60.0, [no_gain], c) == {"X": (0, 0, 1, 1)}
    blocker = view(spec("Y", 2), placement=(0, 1))
    assert GandivaPolicy().schedule(60.0, [spread_job, blocker], c)["X"] == (0, 0, 1, 1)


def test_themis_offers_gpus_to_the_worst_rho_first() -> None:
    c = cluster(1, 1)
    # both want the only GPU; "old" has waited 600 s for a 60 s job: ρ = 11, "new" ρ = 1
    old = view(spec("old", 1, duration_s=60.0), now_s=600.0)
    new = view(spec("new", 1, duration_s=60.0, submit_s=600.0), now_s=600.0, order=1)
    assert rho_estimate(old, old.remaining_s((0,))) == pytest.approx(11.0)
    assert rho_estimate(new, new.remaining_s((0,))) == pytest.approx(1.0)
    assert ThemisPolicy(f=0.5).schedule(600.0, [new, old], c) == {"old": (0,)}


def test_themis_knob_trades_fairness_for_efficiency() -> None:
    c = cluster(1, 1)
    # "long" is worst off (ρ = 1.5); "short" is nearly fair (ρ = 1.1) but a lease buys it more
    long_job = view(spec("long", 1, duration_s=6000.0), now_s=3000.0)
    short_job = view(spec("short", 1, duration_s=100.0, submit_s=2990.0), now_s=3000.0, order=1)
    fair = ThemisPolicy(f=0.5).schedule(3000.0, [long_job, short_job], c)
    efficient = ThemisPolicy(f=0.0).schedule(3000.0, [long_job, short_job], c)
    assert fair == {"long": (0,)} and efficient == {"short": (0,)}


def test_themis_keeps_a_lease_until_it_ends() -> None:
    jobs = [spec("A", 1, duration_s=1200.0), spec("B", 1, duration_s=1200.0, submit_s=30.0)]
    run = step(ThemisPolicy(lease_s=600.0), jobs)
    assert run.start_s["A"] == 0.0 and run.start_s["B"] == 600.0  # A's lease ran out at 600
    assert sorted(run.finish_s.values()) == [1800.0, 2400.0]


def test_bad_options() -> None:
    with pytest.raises(PolicyOptionError, match=r"f\(=1\) must be a fraction in \[0, 1\)"):
        make_themis(f=1)
    with pytest.raises(PolicyOptionError, match=r"quantum_s\(=-5\) must be"):
        make_gandiva(quantum_s=-5)
