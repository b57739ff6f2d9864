"""Streaming load statistics: the log histogram's stated error, and the streaming report
against the exact one on the same records."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loadgen_builders import load_spec

from mlfleet.serving.loadgen_progress import ProgressBar
from mlfleet.serving.loadgen_spec import LoadSpec, RequestRecord
from mlfleet.serving.loadgen_stats import (
    DROPPED,
    RELATIVE_ERROR,
    LoadStats,
    LogHistogram,
    format_report,
    summarize,
)


def spec(**overrides: object) -> LoadSpec:
    return load_spec(**{"duration_s": 2.0, **overrides})


def nearest_rank(values: np.ndarray, q: float) -> float:
    ordered = np.sort(values)
    return float(ordered[max(1, math.ceil(q * ordered.size)) - 1])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sigma=st.floats(0.1, 4.0),
       n=st.integers(1, 3000), q=st.sampled_from([0.01, 0.5, 0.9, 0.99, 0.999, 1.0]))
def test_histogram_quantile_within_stated_relative_error(seed: int, sigma: float, n: int,
                                                         q: float) -> None:
    values = np.random.default_rng(seed).lognormal(math.log(0.01), sigma, size=n)
    values = np.clip(values, 1e-6, 1e5)
    hist = LogHistogram()
    for v in values:
        hist.add(float(v))
    exact = nearest_rank(values, q)
    assert abs(hist.quantile(q) - exact) <= RELATIVE_ERROR * exact * (1 + 1e-9)
    assert hist.sum_s / hist.total == pytest.approx(values.mean())


def test_histogram_edges_merge_and_empty() -> None:
    hist, other = LogHistogram(), LogHistogram()
    assert math.isnan(hist.quantile(0.5)) and math.isnan(hist.stats().p99_s)
    for value in (0.0, -1e-9, math.nan):
        hist.add(value)
    assert hist.total == 2 and hist.quantile(1.0) == 0.0  # below resolution reads as 0
    other.add(1e9)
    hist.merge(other)
    assert hist.total == 3 and hist.quantile(1.0) == 1e5  # clamped to the top bin
    assert hist.counts.size < 2000  # fixed size, whatever the run's length


def records_of_a_run(n: int) -> list[RequestRecord]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        status = rng.choice(["200", "200", "200", "429", DROPPED, "timeout"])
        sent = math.nan if status == DROPPED else 0.001 * float(rng.random())
        out.append(RequestRecord(index=i, intended_s=0.0, sent_s=sent, status=str(status),
                                 latency_s=float(rng.lognormal(-4, 1))))
    return out


def test_streaming_report_matches_the_exact_one() -> None:
    records = records_of_a_run(5000)
    load = spec(slo_s=0.02)
    stats = LoadStats(load)
    for rec in records:
        stats.add(rec)
    streamed, exact = stats.report(), summarize(records, load)
    for name in ("requests", "dropped", "completed", "rejected", "failed", "status_counts",
                 "offered_rps", "throughput_per_s", "goodput_per_s", "slo_attainment"):
        assert getattr(streamed, name) == getattr(exact, name), name
    assert streamed.e2e.mean_s == pytest.approx(exact.e2e.mean_s)
    ok = np.array([r.latency_s for r in records if r.status == "200"])
    for name, q in (("p50_s", 0.5), ("p99_s", 0.99), ("p999_s", 0.999)):
        assert getattr(streamed.e2e, name) == pytest.approx(nearest_rank(ok, q),
                                                            rel=RELATIVE_ERROR)
    assert streamed.percentile_relative_error == RELATIVE_ERROR
    assert exact.percentile_relative_error == 0.0
    assert streamed.dropped == exact.status_counts[DROPPED] > 0
    assert streamed.offered_rps == (streamed.requests - streamed.dropped) / 2.0
    assert streamed.failed == exact.status_counts["timeout"]
    assert "dropped by the client" in format_report(streamed)
    assert "within 1%" in format_report(streamed)


def test_progress_bar_line_and_eta() -> None:
    out = io.StringIO()
    bar = ProgressBar(total_s=10.0, stream=out)
    assert bar.line(2.5, sent=25) == (
        "[########......................]  25%  2.5/10 s  ETA 7.5 s  sent 25")
    assert bar.line(12.0).startswith("[" + "#" * 30 + "] 100%")
    bar.close()
    assert out.getvalue() == ""  # nothing drawn, nothing to end
    bar.draw(1.0, sent=1)
    bar.close()
    assert out.getvalue().startswith("\r[###") and out.getvalue().endswith("\n")
