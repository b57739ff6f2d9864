"""Engine invariants on random trace workloads, and its checks of a policy's output."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra.scheduling.engine import ClusterEngine, PlacementError, simulate
from mlfleet.infra.scheduling.policies.optimus import OptimusPolicy
from mlfleet.infra.scheduling.policies.tiresias import TiresiasPolicy
from mlfleet.infra.scheduling.speed.model import JobSpeed
from mlfleet.infra.scheduling.speed.trace import LocalityModel, TraceSpeed
from mlfleet.infra.scheduling.types import ClusterView, JobRecord, JobSpec, JobView, Placement

NODES, PER_NODE = 3, 4


def speeds(specs: Sequence[JobSpec]) -> list[JobSpeed]:
    loc = LocalityModel(gpus_per_node=PER_NODE)
    out: list[JobSpeed] = []
    for s in specs:
        assert s.duration_s is not None
        out.append(TraceSpeed(duration_s=s.duration_s, gpus=s.gpus, locality=loc))
    return out


jobs_strategy = st.lists(
    st.tuples(st.integers(0, 4000), st.sampled_from([1, 1, 2, 3, 4, 6, 8, 12]),
              st.integers(1, 5000)), min_size=1, max_size=25)


def to_specs(rows: list[tuple[int, int, int]]) -> list[JobSpec]:
    return [JobSpec(name=f"j{i}", submit_s=float(t), gpus=g, duration_s=float(d),
                    max_gpus=g) for i, (t, g, d) in enumerate(rows)]


class Shuffler:
    """A legal but restless policy: every round it re-places running jobs elsewhere."""

    name = "shuffler"
    interval_s = 60.0

    def __init__(self) -> None:
        self.rounds = 0
        self.seen_times: list[float] = []

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        self.seen_times.append(now_s)
        self.rounds += 1
        free = [cluster.gpus_per_node] * cluster.nodes
        out: dict[str, Placement] = {}
        for k, job in enumerate(jobs):
            nodes: list[int] = []
            for step in range(cluster.nodes):
                node = (self.rounds + k + step) % cluster.nodes
                take = min(free[node], job.spec.gpus - len(nodes))
                nodes += [node] * take
                free[node] -= take
            if len(nodes) == job.spec.gpus:
                out[job.spec.name] = tuple(sorted(nodes))
            else:
                for node in nodes:
                    free[node] += 1
        return out


@settings(max_examples=40, deadline=None)
@given(rows=jobs_strategy, which=st.sampled_from(["tiresias", "optimus", "shuffler"]))
def test_every_job_finishes_no_earlier_than_its_packed_duration(
        rows: list[tuple[int, int, int]], which: str) -> None:
    specs = to_specs(rows)
    policy = {"tiresias": TiresiasPolicy, "optimus": OptimusPolicy, "shuffler": Shuffler}[which]()
    result = simulate(specs, speeds(specs), policy, nodes=NODES, gpus_per_node=PER_NODE)
    assert result.metrics.finished == len(specs)
    for spec, rec in zip(sorted(specs, key=lambda s: s.submit_s), result.records, strict=True):
        assert rec.name == spec.name or rec.submit_s == spec.submit_s
    by_name = {s.name: s for s in specs}
    for rec in result.records:
        spec = by_name[rec.name]
        assert rec.start_s is not None and rec.finish_s is not None
        assert rec.submit_s <= rec.start_s <= rec.finish_s
        assert spec.duration_s is not None
        if which != "optimus":  # optimus may give fewer GPUs (slower) but never more
            assert rec.finish_s - rec.start_s >= spec.duration_s + 30.0 - 1e-6
        assert rec.gpu_s >= spec.duration_s * 0.0
    assert 0.0 < result.metrics.gpu_utilisation <= 1.0 + 1e-9


@settings(max_examples=40, deadline=None)
@given(rows=jobs_strategy)
def test_work_is_conserved(rows: list[tuple[int, int, int]]) -> None:
    """GPU-seconds held >= GPU-seconds of work (packed duration x GPUs) for fixed-size
    jobs under Tiresias; the excess is restart delays, spreading and the wait for the
    next round after a finish."""
    specs = to_specs(rows)
    result = simulate(specs, speeds(specs), TiresiasPolicy(), nodes=NODES,
                      gpus_per_node=PER_NODE)
    work = sum(s.gpus * (s.duration_s or 0.0) for s in specs)
    held = sum(r.gpu_s for r in result.records)
    assert held >= work - 1e-6
    slack = sum(r.gpus * (30.0 + 60.0) * (1 + r.restarts) for r in result.records)
    assert held <= work / min(LocalityModel().speedup((1,) * 12, 12), 1.0) + slack + 1e-6


@settings(max_examples=30, deadline=None)
@given(rows=jobs_strategy)
def test_skipping_quiet_rounds_changes_nothing(rows: list[tuple[int, int, int]]) -> None:
    specs = to_specs(rows)
    every = simulate(specs, speeds(specs), TiresiasPolicy(threshold_gpu_s=3600.0),
                     nodes=NODES, gpus_per_node=PER_NODE, skip_quiet_rounds=False)
    skipping = simulate(specs, speeds(specs), TiresiasPolicy(threshold_gpu_s=3600.0),
                        nodes=NODES, gpus_per_node=PER_NODE, skip_quiet_rounds=True)
    def key(r: JobRecord) -> tuple[object, ...]:  # finishes differ by float rounding only
        return (r.name, r.start_s, r.restarts, r.preemptions, round(r.finish_s or -1.0, 6),
                round(r.gpu_s, 6))

    assert [key(r) for r in skipping.records] == [key(r) for r in every.records]
    assert skipping.metrics.rounds <= every.metrics.rounds


def test_rounds_fall_on_the_interval_grid_and_time_never_goes_back() -> None:
    specs = to_specs([(5, 1, 100), (130, 2, 500), (4000, 4, 50)])
    policy = Shuffler()
    simulate(specs, speeds(specs), policy, nodes=NODES, gpus_per_node=PER_NODE)
    times = policy.seen_times
    assert times == sorted(times) and times[0] == 60.0
    assert all(t % 60.0 == 0.0 for t in times)


class Greedy:
    """Puts every job on node 0: over capacity as soon as two jobs are active."""

    name = "greedy-bug"
    interval_s = 60.0

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        return {j.spec.name: (0,) * j.spec.gpus for j in jobs}


def test_over_capacity_names_the_policy_and_node() -> None:
    specs = to_specs([(0, 3, 100), (0, 3, 100)])
    with pytest.raises(PlacementError, match=r"'greedy-bug' put 6 GPUs on node 0"):
        simulate(specs, speeds(specs), Greedy(), nodes=NODES, gpus_per_node=PER_NODE)


class Ghost:
    name = "ghost"
    interval_s = 60.0

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        return {"nobody": (0,)}


def test_unknown_job_is_refused() -> None:
    specs = to_specs([(0, 1, 100)])
    with pytest.raises(PlacementError, match="'nobody', which is not an active job"):
        simulate(specs, speeds(specs), Ghost(), nodes=NODES, gpus_per_node=PER_NODE)


def test_a_job_that_never_fits_is_left_unfinished_not_looped_forever() -> None:
    specs = to_specs([(0, 1, 100), (0, 64, 100)])
    engine = ClusterEngine(specs, speeds(specs), TiresiasPolicy(), nodes=NODES,
                           gpus_per_node=PER_NODE)
    result = engine.run()
    assert result.metrics.finished == 1
    assert math.isnan(result.metrics.avg_jct_s) is False
