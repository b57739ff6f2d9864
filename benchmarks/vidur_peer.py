"""Vidur's simulator core on our requests, with our roofline step time as its predictor.

Used by ``bench_serving_sim.py``, which runs it next to our engine in the same process
on the same requests. Not a test.

Vidur (Agrawal et al., MLSys 2024; ``pip install --no-deps vidur==0.0.26``, see
:data:`INSTALL`) predicts each batch's execution time with regression models trained
on profiling data that its predictors download at run time, which this machine cannot
do. Its simulator core (events, cluster, vLLM replica scheduler, block manager,
metrics store) runs without them, so :class:`RooflinePredictor` stands in for the
regression model: it returns our roofline iteration time
(:class:`mlfleet.serving.sim.steptime.LlmStepTime`) for the batch, which makes both
simulators spend their time on scheduling and events, not on different step-time
models. Requests are fed as Vidur ``Request`` entities, one arrival event each, with
the same arrival times, prompt and output lengths as our engine gets.

What differs from a stock Vidur run is only the predictor (ours instead of a
scikit-learn model, registered under Vidur's ``linear_regression`` key) and the
request source; every scheduling decision and every event is Vidur's.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.serving.sim.arrivals import RequestStream
from mlfleet.serving.sim.steptime import LlmStepTime

INSTALL = ("pip install --no-deps vidur==0.0.26 pandas ddsketch fasteners scikit-learn "
           "joblib threadpoolctl python-dateutil pytz tzdata six 'protobuf<6' "
           "wandb==0.17.9 docker-pycreds platformdirs sentry-sdk psutil requests urllib3 "
           "certifi idna charset-normalizer plotly plotly_express narwhals packaging "
           "cloudpickle huggingface_hub httpx2 httpcore2 truststore h11 tqdm")
"""Vidur 0.0.26 and only what importing its simulator needs; no torch (the machine's
CPU torch stays), nothing that downloads at import."""
VIDUR_MODEL, VIDUR_DEVICE, VIDUR_NETWORK = "meta-llama/Llama-2-7b-hf", "a100", \
    "a100_pairwise_nvlink"


def available() -> bool:
    """Whether Vidur's simulator imports here."""
    try:
        import vidur.simulator  # noqa: F401
    except ImportError:
        return False
    return True


def _predictor_class(step: LlmStepTime) -> type:
    """A Vidur execution-time predictor returning ``step``'s iteration time."""
    from vidur._native.entities import ExecutionTime as ExecutionTimeC
    from vidur.execution_time_predictor.base_execution_time_predictor import (
        BaseExecutionTimePredictor,
    )

    class RooflinePredictor(BaseExecutionTimePredictor):  # type: ignore[misc]
        """Vidur's predictor interface over our roofline step time: the whole step in
        one per-layer operation (Vidur multiplies by the layers and reports ms)."""

        def get_execution_time(self, batch: Any, pipeline_stage: int) -> Any:
            layers = self._num_layers_per_pipeline_stage
            per_layer_ms = _iteration_s(step, batch) * 1e3 / layers
            return ExecutionTimeC(layers, *([0.0] * 6), per_layer_ms, *([0.0] * 7))

    for name in BaseExecutionTimePredictor.__abstractmethods__:
        setattr(RooflinePredictor, name, lambda self, batch: 0.0)
    RooflinePredictor.__abstractmethods__ = frozenset()
    return RooflinePredictor


def _iteration_s(step: LlmStepTime, batch: Any) -> float:
    """Our iteration time of a Vidur batch: its prefill chunks and decoding sequences."""
    decode, context, prefill, pairs, prefix = 0, 0.0, 0, 0.0, 0.0
    for request, q, kv in zip(batch.requests, batch.num_q_tokens, batch.num_kv_tokens,
                              strict=True):
        if request.is_prefill_complete:
            decode += 1
            context += kv
        else:  # a prompt chunk of q tokens after kv cached ones: causal pairs
            prefill += q
            pairs += q * kv + q * (q + 1) / 2
            prefix += kv
    return float(step.iteration_s(decode, context, prefill, pairs, prefix))


def _config(*, blocks: int, max_seqs: int, max_batched_tokens: int, metrics: bool,
            output_dir: str) -> Any:
    from vidur import config as vc

    replica = vc.ReplicaConfig(model_name=VIDUR_MODEL, device=VIDUR_DEVICE,
                               network_device=VIDUR_NETWORK, num_pipeline_stages=1,
                               tensor_parallel_size=1)
    cluster = vc.ClusterConfig(
        num_replicas=1, replica_config=replica,
        cache_config=vc.CacheConfig(block_size=16, num_blocks=blocks),
        replica_scheduler_config=vc.VllmSchedulerConfig(
            batch_size_cap=max_seqs, max_tokens_in_batch=max_batched_tokens),
        global_scheduler_config=vc.RoundRobinGlobalSchedulerConfig())
    return vc.SimulationConfig(
        log_level="error", cluster_config=cluster,
        execution_time_predictor_config=vc.LinearRegressionExecutionTimePredictorConfig(),
        metrics_config=vc.MetricsConfig(write_metrics=metrics, store_plots=False,
                                        output_dir=output_dir))


@dataclass(frozen=True, kw_only=True)
class VidurRun:
    """One Vidur run: its cost and what it simulated."""

    wall_s: float
    cpu_s: float
    finish_s: npt.NDArray[np.float64]
    """Completion time of each request (s), in the stream's order."""


def simulate(stream: RequestStream, step: LlmStepTime, *, blocks: int, max_seqs: int,
             max_batched_tokens: int, metrics: bool) -> VidurRun:
    """One Vidur run over ``stream`` (timed from building the simulator to its end)."""
    from vidur.entities import Request
    from vidur.events import RequestArrivalEvent
    from vidur.execution_time_predictor import ExecutionTimePredictorRegistry
    from vidur.simulator import Simulator
    from vidur.types import ExecutionTimePredictorType

    logging.disable(logging.WARNING)
    key = ExecutionTimePredictorType.LINEAR_REGRESSION
    ExecutionTimePredictorRegistry._registry[key] = _predictor_class(step)
    arrivals = list(zip(stream.arrival_s.tolist(), stream.prompt_tokens.tolist(),
                        stream.output_tokens.tolist(), strict=True))
    requests: list[Any] = []

    class FedSimulator(Simulator):  # type: ignore[misc]
        """Vidur's simulator with our requests as its arrival events."""

        def _init_event_queue(self) -> None:
            for t, prompt, output in arrivals:
                requests.append(Request(t, int(prompt), int(output)))
                self._add_event(RequestArrivalEvent(t, requests[-1]))

    _reset_entity_ids()
    with tempfile.TemporaryDirectory() as out:
        wall, cpu = time.perf_counter(), time.process_time()
        sim = FedSimulator(_config(blocks=blocks, max_seqs=max_seqs, metrics=metrics,
                                   max_batched_tokens=max_batched_tokens, output_dir=out))
        sim.run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return VidurRun(wall_s=wall, cpu_s=cpu,
                    finish_s=np.array([r.completed_at for r in requests]))


def _reset_entity_ids() -> None:
    """Start Vidur's process-wide id counters afresh: its global scheduler looks
    replicas up by id from 0, so a second simulator in one process would miss them."""
    from vidur.entities.base_entity import BaseEntity

    pending = [BaseEntity]
    while pending:
        cls = pending.pop()
        cls._id = -1
        pending.extend(cls.__subclasses__())
