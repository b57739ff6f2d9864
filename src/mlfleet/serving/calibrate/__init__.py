"""Calibrate the serving simulator from the real server, and check it against the server.

One concept per module:

* :mod:`.client` — the server behind the :class:`ServerClient` Protocol (HTTP for real);
* :mod:`.service` — batch service times and the machine's speed;
* :mod:`.overhead` — latency outside the batcher;
* :mod:`.simulate` — the shared simulator configured as the server, and predictions;
* :mod:`.interval` — the predictive path's prediction interval;
* :mod:`.overload` — what the bounded queue guarantees an admitted request;
* :mod:`.spec` — the experiment's settings and typed results;
* :mod:`.experiment` — the orchestration; :mod:`.report` — text output.

See :mod:`mlfleet.serving.calibrate.experiment` and docs/serving-real.md.
"""
from __future__ import annotations

from mlfleet.serving.calibrate.client import (
    BatchingPolicy,
    BatchSamples,
    HttpServerClient,
    ServerClient,
)
from mlfleet.serving.calibrate.experiment import (
    closed_loop_throughput,
    run_experiment,
    run_experiment_async,
)
from mlfleet.serving.calibrate.interval import PredictionInterval, SpeedInterval
from mlfleet.serving.calibrate.overhead import OverheadModel, RequestTiming
from mlfleet.serving.calibrate.overload import wait_bound_s
from mlfleet.serving.calibrate.report import format_result
from mlfleet.serving.calibrate.service import LoadSlowdown, ServiceTimeModel, SpeedTrace
from mlfleet.serving.calibrate.simulate import SimPrediction, predict, simulate_server
from mlfleet.serving.calibrate.spec import ExperimentResult, ExperimentSpec

__all__ = [
    "BatchSamples", "BatchingPolicy", "ExperimentResult", "ExperimentSpec", "HttpServerClient",
    "LoadSlowdown", "OverheadModel", "PredictionInterval", "RequestTiming", "ServerClient",
    "ServiceTimeModel", "SimPrediction", "SpeedInterval", "SpeedTrace", "closed_loop_throughput",
    "format_result", "predict", "run_experiment", "run_experiment_async", "simulate_server",
    "wait_bound_s",
]
