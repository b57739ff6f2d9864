"""The serving simulator's view of a dying replica: the check on :mod:`.llm_inflight`.

Two continuous-batching replicas timed by the same step model hold one request; replica
0 dies just after token g (half a step later). The simulator fails the request over
(:mod:`mlfleet.serving.deploy.failures`, KV state ``lost``): that is *regenerate*.
*Resume* is the request the router would send instead: prompt P + g, output N − g,
arriving at the death.
"""

from __future__ import annotations

import numpy as np

from mlfleet.reliability.degradation.llm_inflight import token_times_s
from mlfleet.serving.models.llm_step import LlmStepModel

KV_CAPACITY_TOKENS = 1_000_000
"""Room for any single request: this check is about time, not memory."""


def _finish_s(model: LlmStepModel, *, arrival_s: float, prompt: int, output: int,
              kill_s: float | None = None) -> float:
    from mlfleet.serving.deploy.failures import FailureInjector, ReplicaFailure
    from mlfleet.serving.lb.registry import make_load_balancer
    from mlfleet.serving.sim.arrivals.stream import RequestStream
    from mlfleet.serving.sim.engine import Engine
    from mlfleet.serving.sim.replicas.continuous import ContinuousReplica
    from mlfleet.serving.sim.steptime import LlmStepTime

    stream = RequestStream(arrival_s=np.array([arrival_s]), prompt_tokens=np.array([prompt]),
                           output_tokens=np.array([output]))
    replicas = [ContinuousReplica(step_time=LlmStepTime(model),
                                  kv_capacity_tokens=KV_CAPACITY_TOKENS) for _ in range(2)]
    engine = Engine(requests=stream, replicas=replicas, rng=np.random.default_rng(0),
                    lb=make_load_balancer("round_robin"))  # the first request goes to 0
    if kill_s is not None:
        FailureInjector([ReplicaFailure(replica=0, at_s=kill_s)],
                        session_state="lost").apply(engine)
    return float(engine.run().finish_s[0])


def simulated_extra_latency_s(model: LlmStepModel, *, prompt_tokens: int, output_tokens: int,
                              streamed_tokens: int) -> tuple[float, float]:
    """(regenerate, resume) extra end-to-end latency in the simulator, death just after
    token g >= 1, measured like :func:`~.llm_inflight.recovery_costs` (from token g)."""
    times = token_times_s(model, prompt_tokens=prompt_tokens, output_tokens=output_tokens)
    g = streamed_tokens
    kill = float(times[g - 1] + times[g]) / 2.0
    slack = kill - float(times[g - 1])  # the half step in flight, lost either way
    base = _finish_s(model, arrival_s=0.0, prompt=prompt_tokens, output=output_tokens)
    regen = _finish_s(model, arrival_s=0.0, prompt=prompt_tokens, output=output_tokens,
                      kill_s=kill)
    resume = _finish_s(model, arrival_s=kill, prompt=prompt_tokens + g, output=output_tokens - g)
    return regen - base - slack, resume - base - slack
