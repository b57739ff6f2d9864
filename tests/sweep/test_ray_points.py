"""The point functions a Ray sweep runs (mlfleet.sweep.points), in this process."""

from __future__ import annotations

import json
import math

import pytest

from mlfleet.errors import InputError
from mlfleet.sweep.points import (
    CLUSTER_METRICS,
    SERVING_METRICS,
    cluster_point,
    located_point,
    serving_point,
)


def test_serving_point_is_seeded_and_plain() -> None:
    first = serving_point({"requests": 300, "qps": 2.0, "seed": 3})
    assert list(first) == list(SERVING_METRICS)
    assert first == serving_point({"requests": 300, "qps": 2.0, "seed": 3})
    assert first != serving_point({"requests": 300, "qps": 2.0, "seed": 4})
    assert json.loads(json.dumps(first)) == first  # plain Python values: crosses processes


def test_serving_point_without_tokens_for_a_non_llm_workload() -> None:
    point = {"workload": "DLRM-DCNv2", "batching": "dynamic", "qps": 500.0, "requests": 500}
    result = serving_point(point)
    assert result["tokens_per_s"] == result["throughput_per_s"]  # one item per request
    assert math.isnan(result["tpot_p50_s"])


def test_cluster_point_metrics() -> None:
    result = cluster_point({"policy": "fifo", "nodes": 8})
    assert list(result) == list(CLUSTER_METRICS)
    assert result["finished"] > 0 and 0 < result["gpu_utilisation"] <= 1


def test_unknown_field_is_named_with_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"point field\(='qsp'\) is unknown; known: .*qps"):
        serving_point({"qsp": 2.0})


def test_located_point_outside_ray() -> None:
    result = located_point({"func": "mlfleet.sweep.points:cluster_point", "policy": "fifo"})
    assert result["node_id"] is None and result["node_ip"] is None and result["pid"] > 0
    assert result["avg_jct_s"] == cluster_point({"policy": "fifo"})["avg_jct_s"]
    with pytest.raises(InputError, match="func"):
        located_point({"policy": "fifo"})
