"""The coalesced engine equals the naive iteration-by-iteration reference, request by request.

The engine advances decode runs in closed form, cuts them at arrivals, fuses prefill
iterations with the run that follows, and plans block exhaustion from a residue
histogram; :mod:`mlfleet.serving.sim.reference` does none of that. Both must give every
request the same start, first-token and finish times (to 1e-9 relative) and the same
preemptions, for every scheduler, with KV scarce enough to preempt.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sim_builders import LINEAR_STEP, llm_stream

from mlfleet.serving.sim.arrivals import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.reference import ReferenceConfig, ReferenceResult, simulate_reference
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.replicas.chunked import ChunkedPrefillReplica
from mlfleet.serving.sim.replicas.continuous import ContinuousReplica
from mlfleet.serving.sim.replicas.paged import PagedReplica
from mlfleet.serving.sim.step_contract import StepTime
from mlfleet.serving.sim.steptime import CallableStepTime, roofline_step_time

STEPS: dict[str, StepTime] = {
    "linear": LINEAR_STEP,
    "roofline": roofline_step_time(workload="Llama-3-8B", accelerator="A100-80GB"),
    "callable": CallableStepTime(lambda d, c, p, a, x: LINEAR_STEP.iteration_s(d, c, p, a, x)),
}


def _config(scheduler: str, rng: np.random.Generator) -> ReferenceConfig:
    return ReferenceConfig(
        scheduler=scheduler, num_blocks=int(rng.integers(30, 300)),
        block_size=int(rng.choice([1, 4, 16])), max_seqs=int(rng.integers(2, 48)),
        token_budget=int(rng.integers(16, 600)), kv_capacity_tokens=int(rng.integers(800, 5000)),
        max_batched_tokens=int(rng.integers(600, 3000)), watermark=float(rng.choice([0, 0.01])))


def _replica(cfg: ReferenceConfig, step: StepTime) -> Replica:
    common: dict[str, Any] = dict(step_time=step, max_seqs=cfg.max_seqs)
    if cfg.scheduler == "paged":
        return PagedReplica(num_blocks=cfg.num_blocks, block_size=cfg.block_size,
                            max_batched_tokens=cfg.max_batched_tokens, watermark=cfg.watermark,
                            **common)
    if cfg.scheduler == "chunked":
        return ChunkedPrefillReplica(num_blocks=cfg.num_blocks, block_size=cfg.block_size,
                                     token_budget=cfg.token_budget, watermark=cfg.watermark,
                                     **common)
    return ContinuousReplica(kv_capacity_tokens=cfg.kv_capacity_tokens, **common)


def _assert_same(ids: np.ndarray, got: Any, want: ReferenceResult) -> None:
    for name in ("start_s", "first_token_s", "finish_s"):
        a, b = getattr(got, name)[ids], getattr(want, name)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, err_msg=name)
    np.testing.assert_array_equal(got.preemptions[ids], want.preemptions)


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("scheduler", ["paged", "chunked", "continuous"])
@pytest.mark.parametrize("seed", range(4))
def test_one_replica_matches_the_reference(seed: int, scheduler: str, step: str) -> None:
    """One replica: arrivals cap decode runs in advance, prefills fuse with runs."""
    rng = np.random.default_rng(seed)
    stream = llm_stream(250, seed=seed, rate_per_s=float(rng.uniform(3, 30)),
                        prompt_median=int(rng.integers(20, 300)),
                        output_median=int(rng.integers(5, 120)))
    cfg = _config(scheduler, rng)
    got = Engine(requests=stream, replicas=[_replica(cfg, STEPS[step])],
                 rng=np.random.default_rng(0)).run()
    want = simulate_reference(stream, step_time=STEPS[step], config=cfg)
    _assert_same(np.arange(len(stream)), got, want)


@pytest.mark.parametrize("scheduler", ["paged", "chunked", "continuous"])
@pytest.mark.parametrize("seed", range(3))
def test_each_of_two_replicas_matches_the_reference(seed: int, scheduler: str) -> None:
    """Two replicas, round-robin: arrivals cut runs that were already planned."""
    rng = np.random.default_rng(100 + seed)
    stream = llm_stream(400, seed=seed, rate_per_s=float(rng.uniform(5, 40)))
    cfg = _config(scheduler, rng)
    got = Engine(requests=stream, replicas=[_replica(cfg, LINEAR_STEP) for _ in range(2)],
                 rng=np.random.default_rng(0)).run()
    for replica in (0, 1):
        ids = np.arange(replica, len(stream), 2)
        sub = RequestStream(arrival_s=stream.arrival_s[ids],
                            prompt_tokens=stream.prompt_tokens[ids],
                            output_tokens=stream.output_tokens[ids])
        _assert_same(ids, got, simulate_reference(sub, step_time=LINEAR_STEP, config=cfg))


def test_the_comparison_exercises_preemption() -> None:
    """Guard against a vacuous test: scarce blocks do preempt in these configurations."""
    stream = llm_stream(250, seed=1, rate_per_s=30.0)
    cfg = ReferenceConfig(scheduler="paged", num_blocks=60, block_size=4, max_seqs=32,
                          watermark=0.0)
    want = simulate_reference(stream, step_time=LINEAR_STEP, config=cfg)
    assert want.preemptions.sum() > 10
    got = Engine(requests=stream, replicas=[_replica(cfg, LINEAR_STEP)],
                 rng=np.random.default_rng(0)).run()
    _assert_same(np.arange(len(stream)), got, want)
