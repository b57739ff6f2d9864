"""The engine's seams: determinism, failures, capacity changes, splits, shadows, policies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from sim_builders import LINEAR_STEP, llm_stream, mm_stream

from mlfleet.errors import InputError
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.policy import ReplicaView, Request, SystemView
from mlfleet.serving.sim.arrivals import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.paged import PagedReplica
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import STATUS


def fleet(n: int = 3, *, group: str = "stable") -> list[RequestLevelReplica]:
    return [RequestLevelReplica(group=group) for _ in range(n)]


def engine(stream: RequestStream, replicas: Sequence[object], *, seed: int = 0,
           lb: str = "random", **kw: object) -> Engine:
    return Engine(requests=stream, replicas=replicas,  # type: ignore[arg-type]
                  rng=np.random.default_rng(seed), lb=make_load_balancer(lb), **kw)  # type: ignore[arg-type]


def test_same_seed_same_results_bit_for_bit() -> None:
    stream = llm_stream(300, rate_per_s=20.0)

    def once(seed: int) -> np.ndarray:
        reps = [PagedReplica(step_time=LINEAR_STEP, num_blocks=200, block_size=8)
                for _ in range(3)]
        return engine(stream, reps, seed=seed, lb="power_of_two").run().finish_s

    np.testing.assert_array_equal(once(1), once(1))
    assert not np.array_equal(once(1), once(2))


def test_a_killed_replica_s_requests_fail_over_and_complete() -> None:
    stream = mm_stream(3000, rate_per_s=2.4)
    kill_s, held = next((t, n) for t in np.arange(100.0, 400.0, 10.0)
                        if (n := _held_by_replica_0(stream, t)) > 0)
    eng = engine(stream, fleet(3))
    eng.kill_replica(0, at_s=kill_s)
    res = eng.run()
    moved = res.attempts > 1
    assert moved.sum() == held and res.done.all()
    assert np.all(res.replica[moved] != 0)
    assert not np.any((res.replica == 0) & (res.start_s > kill_s))
    assert np.all(res.start_s[moved] >= kill_s)  # restarted from scratch after the kill


def test_the_engine_runs_on_the_kernel_and_a_killed_replica_s_events_never_come() -> None:
    """Arrivals are the kernel's source events, each replica's events have their own
    kind, callbacks are 'call'; the kill cancels replica 0's pending completions, so it
    handles exactly the completions of the requests it finished."""
    stream = mm_stream(3000, rate_per_s=2.4)
    eng = engine(stream, fleet(3))
    eng.kill_replica(0, at_s=500.0)
    res = eng.run()
    counts = eng.sim.counts()
    assert counts["arrival"] == 3000 and counts["call"] == 1
    served = np.bincount(res.replica[res.done], minlength=3)
    assert [counts[f"replica {i}"] for i in range(3)] == served.tolist()
    assert eng.now_s == eng.sim.now_s == np.nanmax(res.finish_s)
    assert eng.sim.pending() == 0
    assert (res.attempts > 1).any()  # the kill did cut requests short


def _held_by_replica_0(stream: RequestStream, t: float) -> int:
    eng = engine(stream, fleet(3))
    eng.run(until_s=t)
    return eng.replicas[0].outstanding


def test_when_every_replica_is_dead_requests_fail() -> None:
    eng = engine(mm_stream(500), fleet(2))
    for i in range(2):
        eng.kill_replica(i, at_s=50.0)
    res = eng.run()
    failed = res.status == STATUS.index("failed")
    assert failed.any() and np.all(res.finish_s[failed] >= 50.0)
    assert res.summary().failed == failed.sum()


def test_a_revived_or_added_replica_serves_only_once_it_is_up() -> None:
    eng = engine(mm_stream(3000, rate_per_s=1.6), fleet(2))
    eng.kill_replica(1, at_s=100.0)
    eng.revive_replica(1, at_s=200.0)
    new = eng.add_replica(RequestLevelReplica(), at_s=300.0)
    res = eng.run()
    on_1, on_new = res.replica == 1, res.replica == new
    assert not np.any(on_1 & (res.start_s > 100.0) & (res.start_s < 200.0))
    assert np.any(on_1 & (res.start_s > 200.0))
    assert on_new.any() and np.all(res.start_s[on_new] >= 300.0)


def test_a_canary_split_routes_its_share_to_its_group() -> None:
    reps = fleet(4) + [RequestLevelReplica(group="canary", speed=0.5)]
    eng = engine(mm_stream(4000, rate_per_s=2.0), reps)
    eng.set_split({"canary": 0.1})
    res = eng.run()
    groups = res.group_of_request()
    assert 0.08 < np.mean(groups == "canary") < 0.12
    canary, stable = res.summary(group="canary"), res.summary(group="stable")
    assert canary.requests + stable.requests == 4000
    assert canary.service.mean_s == pytest.approx(2 * stable.service.mean_s, rel=0.15)


def test_a_split_can_change_mid_run_and_all_traffic_can_move() -> None:
    reps = fleet(2, group="blue") + fleet(2, group="green")
    eng = engine(mm_stream(2000, rate_per_s=1.0), reps)
    eng.set_split({"blue": 1.0})
    eng.set_split({"green": 1.0}, at_s=1000.0)
    res = eng.run()
    groups = res.group_of_request()
    early = res.arrival_s < 1000.0
    assert np.all(groups[early] == "blue") and np.all(groups[~early] == "green")


def test_shadow_copies_are_served_by_their_group_and_kept_out_of_user_metrics() -> None:
    reps = fleet(2) + fleet(2, group="shadow")
    eng = engine(mm_stream(1000, rate_per_s=1.0), reps)
    eng.set_split({"stable": 1.0})
    eng.set_mirror("shadow", fraction=0.5)
    res = eng.run()
    shadow = res.shadow_of >= 0
    assert 400 < shadow.sum() < 600
    assert np.all(res.group_of_request()[shadow] == "shadow")
    assert np.all(res.arrival_s[shadow] == res.arrival_s[res.shadow_of[shadow]])
    assert res.summary().requests == 1000
    assert res.summary(include_shadow=True).requests == 1000 + shadow.sum()


class CountingAdmission:
    """Admits every other request; counts finishes."""

    def __init__(self) -> None:
        self.seen = 0
        self.finished: list[int] = []
        self.views: list[SystemView] = []

    def admit(self, request: Request, system: SystemView) -> bool:
        self.seen += 1
        self.views.append(system)
        return request.id % 2 == 0

    def on_finish(self, request: Request, now_s: float) -> None:
        assert request.status == "done" and request.finish_s == now_s
        self.finished.append(request.id)


def test_admission_sees_every_arrival_and_every_finish_of_admitted_requests() -> None:
    policy = CountingAdmission()
    res = engine(mm_stream(400), fleet(2), admission=policy).run()
    assert policy.seen == 400
    assert sorted(policy.finished) == list(range(0, 400, 2))
    assert np.all(res.status[1::2] == STATUS.index("rejected"))
    assert all(v.alive_replicas == 2 for v in policy.views)


class RecordingBalancer:
    """Checks the view contract, then picks the last alive replica."""

    def __init__(self) -> None:
        self.changes = 0

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        assert [r.index for r in replicas] == list(range(len(replicas)))
        return [r.index for r in replicas if r.alive][-1]

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        self.changes += 1


def test_the_load_balancer_gets_the_whole_fleet_with_outsiders_masked() -> None:
    lb = RecordingBalancer()
    reps = fleet(2) + fleet(1, group="canary")
    eng = Engine(requests=mm_stream(200), replicas=reps, rng=np.random.default_rng(0), lb=lb)
    eng.set_split({"stable": 1.0})
    eng.kill_replica(0, at_s=50.0)
    res = eng.run()
    assert np.all(res.replica == 1)  # canary masked, replica 0 never the last alive
    assert lb.changes == 2  # construction, the kill


def test_callbacks_run_at_their_time_and_see_the_records_so_far() -> None:
    seen: list[tuple[float, int]] = []
    eng = engine(mm_stream(500), fleet(2))
    eng.call_at(100.0, lambda e: seen.append((e.now_s, int(e.snapshot().done.sum()))))
    res = eng.run()
    assert seen[0][0] == 100.0
    assert seen[0][1] == int(np.sum(res.finish_s <= 100.0))


def test_run_until_stops_early() -> None:
    res = engine(mm_stream(500), fleet(2)).run(until_s=50.0)
    assert np.nanmax(res.finish_s) <= 50.0 and not res.done.all()


def test_sessions_are_held_until_the_replica_dies() -> None:
    n = 50
    stream = RequestStream(arrival_s=np.arange(n, dtype=float), prompt_tokens=np.ones(n, int),
                           output_tokens=np.ones(n, int), service_s=np.full(n, 0.5),
                           session=np.arange(n) % 5)
    eng = engine(stream, fleet(1), lb="round_robin")
    eng.call_at(20.0, lambda e: seen.append(e.replicas[0].has_session(3)))
    seen: list[bool] = []
    eng.kill_replica(0, at_s=30.0)
    eng.run()
    assert seen == [True] and not eng.replicas[0].sessions


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda e: e.kill_replica(5, at_s=1.0), "replica index(=5)"),
    (lambda e: e.set_split({"canary": 1.5}), "1.5"),
    (lambda e: e.set_split({"a": 0.6, "b": 0.6}), "sum to 1.2"),
    (lambda e: e.set_mirror("shadow", fraction=0.0), "fraction(=0.0)"),
    (lambda e: e.call_at(float("nan"), lambda _: None), "at_s(=nan)"),
])
def test_bad_hook_arguments_name_the_value(call: object, fragment: str) -> None:
    eng = engine(mm_stream(10), fleet(2))
    with pytest.raises(InputError) as info:
        call(eng)  # type: ignore[operator]
    assert fragment in str(info.value)


def test_request_snapshots_fill_every_field_by_name() -> None:
    """The engine builds Request positionally for speed: the fields must line up."""
    stream = RequestStream(arrival_s=np.array([0.5]), prompt_tokens=np.array([7]),
                           output_tokens=np.array([3]), service_s=np.array([2.0]),
                           session=np.array([11]), user=np.array([4]), priority=np.array([2]),
                           key=np.array([9]))
    eng = engine(stream, fleet(1))
    eng.run()
    r = eng.request(0)
    assert (r.id, r.arrival_s, r.prompt_tokens, r.output_tokens) == (0, 0.5, 7, 3)
    assert (r.user, r.session, r.priority, r.key, r.replica) == (4, 11, 2, 9, 0)
    assert (r.start_s, r.finish_s, r.status, r.attempts) == (0.5, 2.5, "done", 1)
    assert (r.service_s, r.preemptions) == (2.0, 0) and np.isnan(r.first_token_s)


@pytest.mark.parametrize("batching", ["paged", "chunked", "continuous"])
def test_llm_fleets_survive_failures_and_give_back_every_resource(batching: str) -> None:
    """Kills land mid-run, mid-prefill and mid-preemption; afterwards every request is done
    (or failed while all were down) and every replica's KV accounting is back to empty."""
    from mlfleet.serving.sim.replicas.chunked import ChunkedPrefillReplica
    from mlfleet.serving.sim.replicas.continuous import ContinuousReplica

    def make() -> object:
        if batching == "paged":
            return PagedReplica(step_time=LINEAR_STEP, num_blocks=150, block_size=8)
        if batching == "chunked":
            return ChunkedPrefillReplica(step_time=LINEAR_STEP, num_blocks=150, block_size=8,
                                         token_budget=128)
        return ContinuousReplica(step_time=LINEAR_STEP, kv_capacity_tokens=3000)

    stream = llm_stream(600, rate_per_s=30.0, max_prompt=500, max_output=300)
    reps = [make() for _ in range(3)]
    eng = engine(stream, reps, lb="least_outstanding")
    rng = np.random.default_rng(5)
    for t in np.sort(rng.uniform(0, stream.arrival_s[-1], 6)):
        victim = int(rng.integers(3))
        eng.kill_replica(victim, at_s=float(t))
        eng.revive_replica(victim, at_s=float(t) + 0.5)
    res = eng.run()
    assert res.done.all()
    assert (res.attempts > 1).any()
    for r in eng.replicas:
        assert not r.waiting and not r.running and r._admitted == 0  # type: ignore[attr-defined]
        if batching != "continuous":
            assert r.free_blocks == r.num_blocks  # type: ignore[attr-defined]
        else:
            assert r.reserved_tokens == 0  # type: ignore[attr-defined]
