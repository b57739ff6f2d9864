"""What defines each batching policy, checked on the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from sim_builders import LINEAR_STEP, llm_stream

from mlfleet.errors import InputError
from mlfleet.serving.sim.arrivals import PoissonArrivals, RequestStream, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.replicas.chunked import ChunkedPrefillReplica
from mlfleet.serving.sim.replicas.continuous import ContinuousReplica
from mlfleet.serving.sim.replicas.dynamic import DynamicBatchReplica
from mlfleet.serving.sim.replicas.paged import PagedReplica
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.replicas.static import StaticBatchReplica
from mlfleet.serving.sim.results import SimResult
from mlfleet.serving.sim.steptime import BatchServiceTime, request_service_s


def run(stream: RequestStream, *replicas: Replica) -> SimResult:
    return Engine(requests=stream, replicas=list(replicas), rng=np.random.default_rng(0)).run()


def times(*arrivals: float) -> RequestStream:
    n = len(arrivals)
    return RequestStream(arrival_s=np.array(arrivals), prompt_tokens=np.ones(n, np.int64),
                         output_tokens=np.ones(n, np.int64))


def test_continuous_batching_outserves_static_batching_under_load() -> None:
    """Orca's point: no waiting for the longest sequence of a batch."""
    stream = llm_stream(400, rate_per_s=200.0)  # far beyond either's capacity
    static = run(stream, StaticBatchReplica(batch_size=16, step_time=LINEAR_STEP)).summary()
    cont = run(stream, ContinuousReplica(step_time=LINEAR_STEP, kv_capacity_tokens=40_000,
                                         max_seqs=16)).summary()
    assert static.completed == cont.completed == 400
    assert cont.throughput_per_s > 1.5 * static.throughput_per_s
    assert cont.e2e.p50_s < static.e2e.p50_s


def test_paged_kv_preempts_when_blocks_are_scarce_and_everyone_finishes() -> None:
    stream = llm_stream(300, rate_per_s=40.0, max_prompt=500, max_output=300)
    scarce = run(stream, PagedReplica(step_time=LINEAR_STEP, num_blocks=120, block_size=8))
    ample = run(stream, PagedReplica(step_time=LINEAR_STEP, num_blocks=100_000, block_size=8))
    assert scarce.preemptions.sum() > 20 and ample.preemptions.sum() == 0
    assert scarce.done.all() and ample.done.all()
    # a preempted request recomputes: it finishes later than without preemption
    hit = scarce.preemptions > 0
    assert np.median(scarce.e2e_s[hit] - ample.e2e_s[hit]) > 0


def test_chunked_prefill_removes_generation_stalls() -> None:
    """Long prompts: a prefill-only iteration stalls every decode (paged); chunks under a
    token budget keep iterations short, so the time-per-output-token tail drops."""
    stream = llm_stream(300, rate_per_s=6.0, prompt_median=2000, output_median=100,
                        sigma=0.5, max_prompt=6000)
    paged = run(stream, PagedReplica(step_time=LINEAR_STEP, num_blocks=100_000,
                                     block_size=16)).summary()
    chunked = run(stream, ChunkedPrefillReplica(step_time=LINEAR_STEP, token_budget=256,
                                                num_blocks=100_000, block_size=16)).summary()
    assert chunked.completed == paged.completed == 300
    assert chunked.tpot.p99_s < 0.7 * paged.tpot.p99_s
    assert chunked.ttft.p50_s > paged.ttft.p50_s  # the price: prompts take several iterations


def test_dynamic_batching_waits_at_most_the_queue_delay() -> None:
    """A lone request waits max_queue_delay for company, then goes alone."""
    service = BatchServiceTime.constant(0.010)
    res = run(times(0.0, 1.0), DynamicBatchReplica(max_batch=8, max_queue_delay_s=0.002,
                                                   service=service))
    np.testing.assert_allclose(res.start_s, [0.002, 1.002])
    np.testing.assert_allclose(res.finish_s, [0.012, 1.012])


def test_dynamic_batching_dispatches_full_and_preferred_batches_at_once() -> None:
    service = BatchServiceTime.constant(0.010)
    # the 4th arrival fills max_batch: all 4 go at once; the last 2 then wait the delay
    res = run(times(0.0, *np.linspace(0.001, 0.005, 5)),
              DynamicBatchReplica(max_batch=4, max_queue_delay_s=1.0, service=service))
    np.testing.assert_allclose(res.start_s, [0.003] * 4 + [1.004] * 2)
    # preferred size 2: the second arrival makes a pair, which goes without waiting
    res = run(times(0.0, 0.001, 0.002),
              DynamicBatchReplica(max_batch=8, max_queue_delay_s=1.0, preferred_sizes=(2,),
                                  service=service))
    np.testing.assert_allclose(res.start_s, [0.001, 0.001, 1.002])


def test_dynamic_batching_raises_throughput_of_a_batch_friendly_model() -> None:
    """Batch time 5 ms + 0.1 ms per item: at 1,000 req/s one-at-a-time saturates."""
    service = BatchServiceTime(pieces=((0.005, 0.0001),))
    stream = make_requests(3000, arrivals=PoissonArrivals(rate_per_s=1000.0),
                           rng=np.random.default_rng(1))
    single = run(stream, RequestLevelReplica(service=service)).summary()
    batched = run(stream, DynamicBatchReplica(max_batch=32, max_queue_delay_s=0.001,
                                              service=service)).summary()
    assert batched.e2e.p99_s < 0.05 < single.e2e.p99_s
    assert batched.utilization < single.utilization


def test_static_batching_waits_for_a_full_batch_and_flushes_at_the_end() -> None:
    service = BatchServiceTime.constant(0.5)
    res = run(times(0.0, 1.0, 2.0, 3.0, 4.0), StaticBatchReplica(batch_size=2, service=service))
    np.testing.assert_allclose(res.start_s, [1.0, 1.0, 3.0, 3.0, 4.0])


def test_a_static_llm_batch_returns_when_its_longest_member_is_done() -> None:
    stream = RequestStream(arrival_s=np.array([0.0, 0.0]), prompt_tokens=np.array([10, 10]),
                           output_tokens=np.array([2, 50]))
    res = run(stream, StaticBatchReplica(batch_size=2, step_time=LINEAR_STEP))
    assert res.finish_s[0] == res.finish_s[1]
    assert res.first_token_s[0] == res.first_token_s[1] < res.finish_s[0]


def test_request_level_llm_service_is_prefill_then_decode_at_batch_one() -> None:
    stream = RequestStream(arrival_s=np.array([0.0]), prompt_tokens=np.array([100]),
                           output_tokens=np.array([20]))
    res = run(stream, RequestLevelReplica(step_time=LINEAR_STEP))
    ttft, total = request_service_s(LINEAR_STEP, 100, 20)
    expected = LINEAR_STEP.iteration_s(0, 0.0, 100, 5050.0)
    expected_total = expected + sum(LINEAR_STEP.iteration_s(1, 100.0 + j) for j in range(19))
    assert res.first_token_s[0] == pytest.approx(ttft) == pytest.approx(expected)
    assert res.finish_s[0] == pytest.approx(total) == pytest.approx(expected_total)


@pytest.mark.parametrize(("build", "fragment"), [
    (lambda: PagedReplica(step_time=LINEAR_STEP, num_blocks=0), "num_blocks(=0)"),
    (lambda: PagedReplica(step_time=LINEAR_STEP, num_blocks=10, watermark=1.5), "watermark"),
    (lambda: ChunkedPrefillReplica(step_time=LINEAR_STEP, num_blocks=10, token_budget=0),
     "token_budget(=0)"),
    (lambda: DynamicBatchReplica(max_batch=4, preferred_sizes=(8,),
                                 service=BatchServiceTime.constant(1.0)), "preferred_sizes"),
    (lambda: StaticBatchReplica(batch_size=2), "exactly one of"),
    (lambda: RequestLevelReplica(servers=0), "servers(=0)"),
    (lambda: ContinuousReplica(step_time=LINEAR_STEP, kv_capacity_tokens=-1),
     "kv_capacity_tokens(=-1)"),
])
def test_bad_replica_parameters_name_the_value(build: object, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        build()  # type: ignore[operator]
    assert fragment in str(info.value)


def test_requests_longer_than_the_kv_cache_are_rejected() -> None:
    stream = RequestStream(arrival_s=np.array([0.0, 1.0]), prompt_tokens=np.array([50, 5000]),
                           output_tokens=np.array([10, 10]))
    res = run(stream, PagedReplica(step_time=LINEAR_STEP, num_blocks=20, block_size=16))
    assert res.status.tolist() == [1, 2]  # done, rejected
