"""The goodput simulation's invariants and policies: time adds up, nothing is lost
without a failure, async writes can be lost, spares and elasticity change where the
time goes, and every failure process keeps its long-run rate."""

from __future__ import annotations

import dataclasses
import math
from itertools import islice
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.reliability.sim.failure_process import (
    Burst,
    Exponential,
    FailureProcess,
    Weibull,
    parse_failure,
)
from mlfleet.reliability.sim.job import (
    STATES,
    JobResult,
    JobSpec,
    NoProgressError,
    TrainingJob,
    simulate_job,
)
from mlfleet.reliability.sim.policies import CheckpointPolicy, Mode, SparePolicy
from mlfleet.sim import Simulation

H, MIN = 3600.0, 60.0


def job(**overrides: Any) -> JobSpec:
    """Daly's job (500 h, 5 min checkpoints, 10 min restart) at MTBF 6 h, 1 h interval."""
    ckpt = overrides.pop("checkpoint", CheckpointPolicy(interval_s=H, cost_s=5 * MIN))
    fields: dict[str, Any] = {"solve_s": 500 * H, "checkpoint": ckpt,
                              "failures": Exponential(mtbf_s=6 * H), "restart_s": 10 * MIN}
    fields.update(overrides)
    return JobSpec(**fields)


def assert_accounts(result: JobResult, spec: JobSpec) -> None:
    """Wall time is the sum of its states; goodput is at most 1; losses are >= 0."""
    assert set(result.time_in_state_s) == set(STATES)
    assert math.isclose(sum(result.time_in_state_s.values()), result.wall_s, rel_tol=1e-9)
    assert 0 < result.goodput <= 1 + 1e-12
    assert result.lost_work_s >= 0
    useful_wall_s = result.time_in_state_s["work"] - result.lost_work_s
    if spec.spares.spares is None:  # full speed throughout: work done = solve + lost
        assert math.isclose(useful_wall_s, spec.solve_s, rel_tol=1e-9)


def test_without_failures_the_wall_time_is_work_plus_checkpoints() -> None:
    spec = job(failures=Exponential(mtbf_s=1e15))
    result = simulate_job(spec, seed=0)
    assert result.failures == 0 and result.lost_work_s == 0
    assert result.checkpoints == 500
    assert math.isclose(result.wall_s, 500 * H + 500 * 5 * MIN, rel_tol=1e-12)


def test_a_partial_last_segment_still_checkpoints_unless_told_not_to() -> None:
    quiet = Exponential(mtbf_s=1e15)
    ckpt = CheckpointPolicy(interval_s=0.75 * H, cost_s=5 * MIN)
    with_final = simulate_job(job(failures=quiet, checkpoint=ckpt, solve_s=10 * H), seed=0)
    assert with_final.checkpoints == 14  # 13 full segments of 45 min and one of 15 min
    no_final = CheckpointPolicy(interval_s=0.75 * H, cost_s=5 * MIN, final=False)
    without = simulate_job(job(failures=quiet, checkpoint=no_final, solve_s=10 * H), seed=0)
    assert without.checkpoints == 13
    assert math.isclose(with_final.wall_s - without.wall_s, 5 * MIN)


def test_same_seed_same_run_and_other_seeds_differ() -> None:
    spec = job()
    assert simulate_job(spec, seed=3) == simulate_job(spec, seed=3)
    assert simulate_job(spec, seed=3).wall_s != simulate_job(spec, seed=4).wall_s


def _spec(solve_h: float, mtbf_h: float, tau_per_m: float, ckpt_per_tau: float,
          restart_per_m: float, detect_per_m: float, mode: Mode, snap_s: float) -> JobSpec:
    """A job whose segment and recovery stay within about an MTBF, so every run ends in
    a bounded number of events (a 5 h segment at MTBF 30 min would need e^10 tries)."""
    mtbf_s = mtbf_h * H
    interval_s = tau_per_m * mtbf_s
    return job(solve_s=solve_h * H, detect_s=detect_per_m * mtbf_s,
               restart_s=restart_per_m * mtbf_s, failures=Exponential(mtbf_s=mtbf_s),
               checkpoint=CheckpointPolicy(interval_s=interval_s,
                                           cost_s=ckpt_per_tau * interval_s, mode=mode,
                                           snapshot_s=min(snap_s, 0.1 * interval_s)))


specs = st.builds(_spec, st.floats(1, 50), st.floats(0.5, 48), st.floats(0.02, 1.0),
                  st.floats(0, 0.3), st.floats(0, 0.3), st.floats(0, 0.05),
                  st.sampled_from(["sync", "async"]), st.floats(0, 30))


policies = st.one_of(
    st.none(), st.tuples(st.integers(0, 3), st.floats(0.05, 2.0), st.booleans()))
"""None (unlimited spares) or (spares, repair time / the job's MTBF, elastic): repairs
no slower than two MTBFs, so even 8 nodes without spares finish."""
processes = st.sampled_from(["exponential", "weibull:shape=0.7", "weibull:shape=1.5",
                             "burst:switch_prob=0.3,nodes=3"])


@settings(max_examples=60, deadline=None)
@given(specs, st.integers(0, 2**31), policies, processes, st.integers(1, 8))
def test_time_adds_up_for_any_job(spec: JobSpec, seed: int,
                                  pool: tuple[int, float, bool] | None, process: str,
                                  nodes: int) -> None:
    mtbf_s = spec.failures.mtbf_s
    spares = SparePolicy() if pool is None else \
        SparePolicy(spares=pool[0], repair_s=pool[1] * mtbf_s, elastic=pool[2])
    spec = dataclasses.replace(spec, spares=spares, nodes=nodes,
                               failures=parse_failure(process, mtbf_s=mtbf_s))
    result = simulate_job(spec, seed=seed, max_events=2_000_000)
    assert_accounts(result, spec)
    segments = math.ceil(spec.solve_s / spec.checkpoint.interval_s - 1e-9)
    assert result.checkpoints >= segments  # at least one committed per segment
    stall_s = spec.checkpoint.stall_s
    assert result.wall_s >= spec.solve_s + segments * stall_s - 1e-6


def test_async_loses_writes_that_a_failure_beats_and_stalls_only_for_snapshots() -> None:
    ckpt = CheckpointPolicy(interval_s=H, cost_s=30 * MIN, mode="async", snapshot_s=10.0)
    quiet = simulate_job(job(checkpoint=ckpt, failures=Exponential(mtbf_s=1e15)), seed=0)
    # 500 snapshots on the critical path, then the last write must land
    assert math.isclose(quiet.wall_s, 500 * H + 500 * 10.0 + 30 * MIN, rel_tol=1e-12)
    noisy = simulate_job(job(checkpoint=ckpt), seed=1)
    assert noisy.lost_writes > 0
    assert_accounts(noisy, job(checkpoint=ckpt))


def test_without_spares_the_job_waits_for_repairs_and_elastic_works_on() -> None:
    spares = SparePolicy(spares=0, repair_s=12 * H)
    waits = simulate_job(job(nodes=8, spares=spares), seed=2)
    assert waits.time_in_state_s["waiting"] > 0 and waits.degraded_work_s == 0
    elastic = SparePolicy(spares=0, repair_s=12 * H, elastic=True)
    shrinks = simulate_job(job(nodes=8, spares=elastic), seed=2)
    assert shrinks.degraded_work_s > 0 and shrinks.time_in_state_s["waiting"] == 0
    assert shrinks.wall_s < waits.wall_s
    unlimited = simulate_job(job(nodes=8), seed=2)
    assert unlimited.wall_s < shrinks.wall_s
    for result, spec in ((waits, job(nodes=8, spares=spares)),
                         (shrinks, job(nodes=8, spares=elastic))):
        assert_accounts(result, spec)


def test_a_job_whose_repairs_never_catch_up_is_refused_not_run_forever() -> None:
    hopeless = job(nodes=8, failures=Exponential(mtbf_s=0.5 * H),
                   spares=SparePolicy(spares=0, repair_s=24 * H))
    with pytest.raises(NoProgressError, match="failures outpace repairs"):
        simulate_job(hopeless, seed=0, max_events=50_000)


def test_a_failure_striking_a_node_in_repair_does_nothing() -> None:
    """Thinning: with finite spares the job fails at a rate proportional to the nodes it
    has; with every node in repair but one, most failures strike nothing."""
    spec = job(nodes=8, spares=SparePolicy(spares=0, repair_s=12 * H))
    sim = Simulation(seed=2)
    result = TrainingJob(spec, sim).run()
    drawn = sim.counts()["failure"]
    assert 0 < result.failures < drawn
    unlimited = Simulation(seed=2)
    assert TrainingJob(job(nodes=8), unlimited).run().failures == unlimited.counts()["failure"]


def test_enough_hot_spares_behave_like_unlimited_ones() -> None:
    plenty = SparePolicy(spares=100, repair_s=H)
    assert simulate_job(job(nodes=8, spares=plenty), seed=5).wall_s == \
        simulate_job(job(nodes=8), seed=5).wall_s


@pytest.mark.parametrize("process", [
    Exponential(mtbf_s=6 * H), Weibull(mtbf_s=6 * H, shape=0.7),
    Weibull(mtbf_s=6 * H, shape=1.5),
    Burst(mtbf_s=6 * H, switch_prob=0.2, nodes=16, follow_prob=0.4, follow_gap_s=30 * MIN)])
def test_every_failure_process_keeps_its_long_run_rate(process: FailureProcess) -> None:
    draws = list(islice(process.gaps(np.random.default_rng(0)), 200_000))
    mean_gap_s = float(np.mean([d.gap_s for d in draws]))
    assert abs(mean_gap_s / process.mtbf_s - 1) < 0.01
    if isinstance(process, Burst):
        share = np.mean([d.nodes == process.nodes for d in draws])
        assert abs(share - process.switch_prob) < 0.005


def test_weibull_below_one_is_burstier_than_exponential() -> None:
    rng = np.random.default_rng(1)
    gaps = [d.gap_s for d in islice(Weibull(mtbf_s=1.0, shape=0.7).gaps(rng), 100_000)]
    cv = float(np.std(gaps) / np.mean(gaps))
    exact_cv = math.sqrt(math.gamma(1 + 2 / 0.7) / math.gamma(1 + 1 / 0.7) ** 2 - 1)
    assert abs(cv / exact_cv - 1) < 0.03 and cv > 1.3


@pytest.mark.parametrize(("text", "fragment"), [
    ("poisson", "failure(='poisson') is unknown"), ("weibull:k=1", "'k' is unknown"),
    ("weibull:shape=-1", "shape(=-1)"), ("burst:nodes=x", "nodes(='x')"),
    ("burst:switch_prob=2", "switch_prob(=2)"), ("weibull:shape", "key=value"),
    ("burst:follow_prob=0.5,follow_gap=60h", "follow_gap_s")])
def test_bad_failure_specs_name_the_value(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_failure(text, mtbf_s=24 * H)
    assert fragment in str(info.value)
