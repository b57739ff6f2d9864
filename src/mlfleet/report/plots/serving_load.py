"""Latency percentiles vs offered load from the serving simulator, with the SLO line.

One replica of the scenario's serving workload (``mlfleet sim serve``'s defaults, on the
scenario's accelerator, when the scenario serves nothing) is simulated at loads from 10 %
to 110 % of what it serves when saturated, each run seeded and small
(:data:`REQUESTS` requests). Latency is end-to-end per request (the simulator's ``e2e``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlfleet.catalog.types import Workload
from mlfleet.report.plots.chart import Axis, Chart, RefLine, Series
from mlfleet.scenario import Scenario
from mlfleet.serving.sim.arrivals import LogNormal, PoissonArrivals, make_requests
from mlfleet.serving.sim.cli import SERVE_DEFAULTS
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.fleet import FleetSpec, build_fleet
from mlfleet.serving.sim.results import ServingMetrics

LOAD_FRACTIONS = (0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.9, 1.0, 1.1)
"""Offered load as a fraction of the saturated replica's throughput."""
REQUESTS = 2000
"""Requests per simulated load point: keeps the chart under a second."""
SATURATING_QPS = 1e6
"""Offered rate of the run that measures the saturated throughput."""
LENGTH_SIGMA = 0.6
"""Log-space sigma of prompt and output lengths (``mlfleet sim serve``'s default)."""
STAND_IN_SLO_S = 10.0
"""End-to-end p99 line drawn when the scenario sets no serving SLO (labelled as such)."""

Progress = Callable[[int, int], None]


def chart(scenario: Scenario, *, seed: int, progress: Progress | None = None) -> Chart:
    """Simulate the load sweep (``len(LOAD_FRACTIONS) + 1`` seeded runs) and chart it."""
    spec, lengths = _fleet(scenario)
    capacity_qps = _simulate(spec, lengths, rate_per_s=SATURATING_QPS, seed=seed).throughput_per_s
    qps = [f * capacity_qps for f in LOAD_FRACTIONS]
    p50, p99 = [], []
    for i, rate in enumerate(qps):
        e2e = _simulate(spec, lengths, rate_per_s=rate, seed=seed).e2e
        p50.append(e2e.p50_s)
        p99.append(e2e.p99_s)
        if progress is not None:
            progress(i + 1, len(qps))
    slo_s, slo_label = _slo(scenario)
    return Chart(
        plot_id="serving-latency",
        title=f"Latency vs load: {spec.workload} on {spec.tp} x {spec.accelerator}",
        caption=(f"Latency stays flat until the replica nears saturation ({capacity_qps:.3g} "
                 "req/s), then queueing makes p99 climb: where p99 crosses the SLO line is the "
                 "load one replica can take."),
        x=Axis(label="offered load (requests/s)", lo=0.0),
        y=Axis(label="end-to-end latency (s)", log=True),
        series=(Series(name="p50", x=tuple(qps), y=tuple(p50), style="linepoints"),
                Series(name="p99", x=tuple(qps), y=tuple(p99), style="linepoints")),
        refs=(RefLine(axis="y", value=slo_s, label=slo_label),),
        note=(f"one replica, {spec.batching} batching, {REQUESTS} Poisson requests per point, "
              f"seed {seed}; saturation measured at {SATURATING_QPS:.0e} req/s offered"))


Lengths = tuple[int, int] | None
"""Median prompt and output tokens (LLM), or None (one item per request)."""


def _fleet(scenario: Scenario) -> tuple[FleetSpec, Lengths]:
    """One replica of the scenario's serving traffic, else ``mlfleet sim serve``'s defaults
    on the scenario's accelerator."""
    serving = scenario.serving
    workload = scenario.workload if serving is not None else str(SERVE_DEFAULTS["workload"])
    llm = Workload.from_name(workload).unit == "token"
    spec = FleetSpec(workload=workload, accelerator=scenario.cluster.accelerator,
                     precision=serving.precision if serving is not None
                     else str(SERVE_DEFAULTS["precision"]),
                     batching="paged" if llm else "dynamic",
                     tp=_tp(workload, scenario) if llm else 1,
                     items_per_request=(serving.items_per_request or 1) if serving else 1)
    if not llm:
        return spec, None
    prompt = getattr(serving, "prompt_tokens", None) or SERVE_DEFAULTS["prompt_tokens"]
    output = getattr(serving, "output_tokens", None) or SERVE_DEFAULTS["output_tokens"]
    return spec, (int(prompt), int(output))


def _simulate(spec: FleetSpec, lengths: Lengths, *, rate_per_s: float,
              seed: int) -> ServingMetrics:
    r_stream, r_engine = np.random.default_rng(seed).spawn(2)
    prompt = output = None
    if lengths is not None:  # capped at half the context, as `mlfleet sim serve` caps them
        context = int(Workload.from_name(spec.workload).shape.get("seq_len", 0)) or 2_000_000
        prompt, output = (LogNormal(median=m, sigma=LENGTH_SIGMA, max_tokens=max(m, context // 2))
                          for m in lengths)
    stream = make_requests(REQUESTS, arrivals=PoissonArrivals(rate_per_s=rate_per_s),
                           rng=r_stream, prompt=prompt, output=output)
    return Engine(requests=stream, replicas=build_fleet(spec), rng=r_engine).run().summary()


def _tp(workload: str, scenario: Scenario) -> int:
    """Tensor-parallel GPUs so that the weights take at most half of the replica's memory."""
    acc = scenario.cluster.to_cluster().accelerator
    weights = Workload.from_name(workload).params * 2.0
    tp = 1
    while weights / tp > acc.hbm_bytes / 2 and tp < scenario.cluster.gpus_per_node:
        tp *= 2
    return tp


def _slo(scenario: Scenario) -> tuple[float, str]:
    slo = scenario.serving.slo if scenario.serving is not None else None
    if slo is not None and slo.p99_s is not None:
        return slo.p99_s, f"SLO p99 {slo.p99_s:g} s"
    return STAND_IN_SLO_S, f"stand-in SLO p99 {STAND_IN_SLO_S:g} s (scenario sets none)"
