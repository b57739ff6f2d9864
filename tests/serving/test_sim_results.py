"""Metrics from per-request records, checked on hand-made runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.serving.sim.arrivals import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import PERCENTILES, SimResult, Slo, min_samples


def served(service_s: list[float], arrivals: list[float], servers: int = 1) -> SimResult:
    n = len(arrivals)
    stream = RequestStream(arrival_s=np.array(arrivals), prompt_tokens=np.ones(n, np.int64),
                           output_tokens=np.ones(n, np.int64), service_s=np.array(service_s))
    return Engine(requests=stream, replicas=[RequestLevelReplica(servers=servers)],
                  rng=np.random.default_rng(0)).run()


def test_latencies_throughput_goodput_and_utilisation() -> None:
    # one server: requests at 0, 1, 1 with service 2, 1, 1 -> start 0, 2, 3; finish 2, 3, 4
    res = served([2.0, 1.0, 1.0], [0.0, 1.0, 1.0])
    np.testing.assert_allclose(res.queue_s, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(res.e2e_s, [2.0, 2.0, 3.0])
    np.testing.assert_allclose(res.ttft_s, res.e2e_s)  # non-LLM: first token = response
    m = res.summary(slo=Slo(e2e_s=2.5))
    assert (m.completed, m.span_s) == (3, 4.0)
    assert m.throughput_per_s == pytest.approx(0.75)
    assert m.goodput_per_s == pytest.approx(0.5) and m.slo_attainment == pytest.approx(2 / 3)
    assert m.utilization == pytest.approx(1.0)
    assert m.e2e.p50_s == pytest.approx(2.0) and m.e2e.mean_s == pytest.approx(7 / 3)
    assert np.isnan(m.tpot.mean_s)  # no request has a second token


def test_utilisation_counts_server_seconds() -> None:
    res = served([1.0, 1.0], [0.0, 0.0], servers=4)
    assert res.summary().utilization == pytest.approx(2.0 / 4.0)


def test_histogram_is_log_spaced_and_counts_every_completed_request() -> None:
    res = served(list(np.linspace(0.01, 10.0, 100)), list(np.arange(100) * 20.0))
    counts, edges = res.histogram(res.e2e_s, bins=10)
    assert counts.sum() == 100 and len(edges) == 11
    assert np.allclose(np.diff(np.log(edges)), np.log(edges[1] / edges[0]))


def test_summary_as_dict_is_plain() -> None:
    d = served([1.0] * 1000, [float(i) for i in range(1000)]).summary().as_dict()
    assert d["e2e"]["p99_s"] == pytest.approx(1.0) and d["completed"] == 1000
    assert d["e2e"]["p999_s"] == pytest.approx(1.0) and d["e2e"]["samples"] == 1000


def test_a_percentile_with_too_few_samples_is_null_with_a_reason() -> None:
    d = served([1.0], [0.0]).summary().as_dict()["e2e"]
    assert d["p50_s"] is None and d["p50_s_null_reason"] == "1 samples; p50 needs at least 2"
    assert d["p999_s"] is None and "p99.9 needs at least 1000" in d["p999_s_null_reason"]
    assert d["mean_s"] == pytest.approx(1.0)


def test_min_samples_is_one_over_the_tail() -> None:
    assert [min_samples(p) for p in PERCENTILES] == [2, 100, 1000]


def test_a_bad_slo_names_the_value() -> None:
    with pytest.raises(InputError, match=r"ttft_s\(=-1\)"):
        Slo(ttft_s=-1)


def test_latency_grows_over_an_overloaded_run_and_not_over_a_stable_one() -> None:
    n = 400
    stable = served([0.5] * n, [float(i) for i in range(n)])
    assert stable.latency_growth() == pytest.approx(1.0)
    overloaded = served([1.0] * n, [0.5 * i for i in range(n)])  # twice the capacity
    assert overloaded.latency_growth() > 10
    assert math.isnan(served([1.0] * 10, [float(i) for i in range(10)]).latency_growth())
