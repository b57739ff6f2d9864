"""The serving section of a plan: replicas, batching and predicted latency for the SLO.

Fidelity: model (``mlfleet.serving.models``: roofline step time with calibrated-default
overheads, M/M/c queueing on batches). Capacity is sized for the peak rate.
"""

from __future__ import annotations

from typing import Any

from mlfleet.plan.context import cluster_of, workload_of
from mlfleet.plan.section import Section, not_applicable


def build(scenario: Any) -> Section:
    """Serving section; 'not applicable' without a serving section in the scenario."""
    from mlfleet.serving.models.capacity import plan_serving

    serving = scenario.serving
    if serving is None:
        return not_applicable("no serving traffic in the scenario")
    slo = serving.slo
    out = plan_serving(
        workload=workload_of(scenario), accelerator=cluster_of(scenario).accelerator,
        gpus=scenario.cluster.gpus, gpus_per_node=scenario.cluster.gpus_per_node,
        qps=serving.qps, peak_to_mean=serving.peak_to_mean or 1.0,
        prompt_tokens=serving.prompt_tokens, output_tokens=serving.output_tokens,
        items_per_request=serving.items_per_request, precision=serving.precision,
        p99_s=slo.p99_s if slo else None, ttft_p99_s=slo.ttft_p99_s if slo else None,
        tpot_p99_s=slo.tpot_p99_s if slo else None)
    return Section(**out)
