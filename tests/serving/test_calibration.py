"""Calibrating the simulator from the real server: models, the simulated server, the
experiment against a fake server, and the acceptance test against the real one."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from calibration_fakes import SimulatedServer, line_model

from mlfleet.errors import InputError, RunError
from mlfleet.serving.calibrate import (
    BatchingPolicy,
    BatchSamples,
    ExperimentSpec,
    LoadSlowdown,
    OverheadModel,
    RequestTiming,
    ServiceTimeModel,
    SpeedTrace,
    closed_loop_throughput,
    format_result,
    predict,
    run_experiment,
    simulate_server,
    wait_bound_s,
)
from mlfleet.serving.calibrate.interval import speed_interval
from mlfleet.serving.calibrate.lateness import DispatchLateness
from mlfleet.serving.calibrate.overload import wait_windows_s
from mlfleet.serving.calibrate.service import speed_estimate, speed_factor
from mlfleet.serving.calibrate.simulate import (
    DrawnBatchTime,
    TracedBatchTime,
    batch_positions,
    batch_sizes,
    drawn,
    p99_confidence_interval,
    quantile_interval,
)
from mlfleet.serving.calibrate.spec import CalibrationRun, LoadCalibration
from mlfleet.serving.loadgen_spec import RequestRecord
from mlfleet.serving.server.process import server_process


def samples(sizes: list[int], cycle_s: list[float],
            dispatched_s: list[float] | None = None) -> BatchSamples:
    n = len(sizes)
    return BatchSamples(size=np.array(sizes, dtype=np.int64), cycle_s=np.array(cycle_s),
                        dispatched_s=np.array(dispatched_s if dispatched_s is not None
                                              else np.arange(n, dtype=np.float64)),
                        last_seq=n - 1)


def policy(*, max_batch_size: int = 4, max_queue_delay_s: float = 0.01,
           queue_capacity: int = 8) -> BatchingPolicy:
    return BatchingPolicy(max_batch_size=max_batch_size, max_queue_delay_s=max_queue_delay_s,
                          queue_capacity=queue_capacity)


class Constant:
    """Every batch takes ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def batch_s(self, size: int, *, now_s: float) -> float:
        return self.seconds


# ----------------------------------------------------------------------------- models


def test_service_model_recovers_line_and_draws_what_was_measured() -> None:
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 17, size=2000)
    noise = rng.lognormal(0.0, 0.1, size=sizes.size)
    model = ServiceTimeModel.fit(samples(sizes.tolist(), ((0.004 + 0.002 * sizes) * noise).tolist()))
    assert model.intercept_s == pytest.approx(0.004, rel=0.1)
    assert model.per_request_s == pytest.approx(0.002, rel=0.05)
    measured_16 = model.by_size[16]
    assert model.sample_s(16, rng) in set(measured_16.tolist())
    assert model.mean_s(16) == pytest.approx(measured_16.mean())
    draws = [model.sample_s(40, rng) for _ in range(2000)]  # never seen: line x residual
    assert np.mean(draws) == pytest.approx(model.line_s(40), rel=0.02)


def test_speed_trace_replays_stalls_where_they_happened() -> None:
    """Real batches of size 1 (mean 10 ms) at 0 s and 1 s; the second stalled 40 ms."""
    model = line_model(a_s=0.01, b_s=0.0, noise=0.0)
    trace = SpeedTrace.measure(samples([1, 1], [0.01, 0.05], dispatched_s=[10.0, 11.0]),
                               model, t0_s=10.0)
    mean_s = model.mean_s(1)
    # idle between them: the run's mean pace (2 batches of work in 60 ms of busy time)
    assert trace.finish_s(0.5, mean_s) - 0.5 == pytest.approx(0.06 / 2)
    # started with the stalled batch: as slow as it was
    assert trace.finish_s(1.0, mean_s) - 1.0 == pytest.approx(0.05)
    # started 30 ms into it: its last 20 ms do 20 % of their length in work (4 ms), the
    # other 6 ms of work at the idle pace (1/3) take 18 ms
    assert trace.finish_s(1.03, mean_s) - 1.03 == pytest.approx(0.02 + 0.006 * 3)


def test_speed_factor_and_its_batch_means_error() -> None:
    model = line_model()
    slow = samples([1, 4], [1.5 * model.mean_s(1), 1.1 * model.mean_s(4)])
    expected = (1.5 * model.mean_s(1) + 1.1 * model.mean_s(4)) / (model.mean_s(1) + model.mean_s(4))
    assert speed_factor(slow, model) == pytest.approx(expected)
    with pytest.raises(RunError, match="no batches"):
        speed_factor(samples([], []), model)
    steady = samples([2] * 40, [1.2 * model.mean_s(2)] * 40)
    assert speed_estimate(steady, model).mean == pytest.approx(1.2)
    assert speed_estimate(steady, model).se == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(speed_estimate(samples([2] * 5, [0.01] * 5), model).se)


def test_slowdown_is_a_line_with_the_runs_scatter_as_drift() -> None:
    k = LoadSlowdown.fit([50.0, 250.0], [1.0, 1.2])
    assert k.at(150.0) == pytest.approx(1.1) and k.at(300.0) == pytest.approx(1.25)
    assert math.isnan(k.drift_sd)
    assert LoadSlowdown.fit([50.0, 250.0], [1.0, 0.1]).at(1000.0) == 0.5
    drifting = LoadSlowdown.fit([50.0, 50.0, 250.0, 250.0], [0.95, 1.05, 1.15, 1.25])
    assert drifting.at(150.0) == pytest.approx(1.1)
    assert drifting.drift_sd == pytest.approx(math.sqrt(4 * 0.05**2 / 2))
    with pytest.raises(InputError, match="2 distinct rates"):
        LoadSlowdown.fit([50.0, 50.0], [1.0, 1.2])


def test_speed_interval_is_the_regression_prediction_interval() -> None:
    rates, speeds = [50.0, 50.0, 250.0, 250.0], [0.95, 1.05, 1.15, 1.25]
    k = LoadSlowdown.fit(rates, speeds)
    got = speed_interval(k, rates_rps=rates, standard_errors=[0.01] * 4, rate_rps=150.0)
    # sigma * sqrt(1 + 1/n + 0) with t(0.975, 2 dof) = 4.303
    sd = k.drift_sd * math.sqrt(1 + 1 / 4)
    assert got.center == pytest.approx(1.1) and got.sd == pytest.approx(sd)
    assert got.high - got.center == pytest.approx(4.303 * sd, rel=1e-3)
    two = speed_interval(LoadSlowdown.fit([50.0, 250.0], [1.0, 1.2]), rates_rps=[50.0, 250.0],
                         standard_errors=[0.02, math.nan], rate_rps=250.0)
    assert two.sd == pytest.approx(0.02 * math.sqrt(1 + 1 / 2 + 0.5))


def rec(latency_s: float, queue_s: float, service_s: float, post_s: float, *,
        index: int = 0, intended_s: float = 0.0, lag_s: float = 0.0,
        pre_s: float = 0.0) -> RequestRecord:
    return RequestRecord(index=index, intended_s=intended_s, sent_s=intended_s + lag_s,
                         status="200", latency_s=latency_s,
                         server_s={"pre": pre_s, "queue": queue_s, "service": service_s,
                                   "post": post_s})


def test_overhead_models_from_records() -> None:
    records = [rec(0.020, 0.010, 0.005, 0.003)] * 30
    measured = OverheadModel.measure(records, mean_batch=2.0)  # mean post = c (2 + 1) / 2
    assert measured.samples_s == pytest.approx([0.002] * 30)
    assert measured.per_response_s == pytest.approx(0.002)
    with pytest.raises(RunError, match="got 3"):
        OverheadModel.measure(records[:3], mean_batch=1.0)


def test_overhead_interpolates_quantiles_and_never_extrapolates() -> None:
    low = OverheadModel(samples_s=np.linspace(0.001, 0.002, 50), per_response_s=0.0002)
    high = OverheadModel(samples_s=np.linspace(0.003, 0.006, 50), per_response_s=0.0006)
    mid = OverheadModel.interpolate(low, high, weight=0.5)
    assert np.median(mid.samples_s) == pytest.approx((0.0015 + 0.0045) / 2)
    assert mid.per_response_s == pytest.approx(0.0004)
    beyond = OverheadModel.interpolate(low, high, weight=3.0)
    assert beyond.samples_s.max() == pytest.approx(0.006) and beyond.per_response_s == 0.0006


def test_request_timing_queues_each_request_when_the_server_did() -> None:
    """Three requests of one run (t0 = 100 s on the server clock). The log holds batches
    dispatched at 101.020 (busy 5 ms) and 101.030 (busy 7 ms). Request 0 (scheduled at
    1.000) queued 10 ms before the first batch; request 1 (scheduled earlier, at 0.999,
    but sent late) queued 2 ms before the second; request 2 matches no batch."""
    batches = samples([1, 1], [0.005, 0.007], dispatched_s=[101.020, 101.030])
    records = [rec(0.030, 0.010, 0.005, 0.001, index=0, intended_s=1.000),
               rec(0.040, 0.002, 0.007, 0.001, index=1, intended_s=0.999, lag_s=0.02),
               rec(0.020, 0.004, 0.003, 0.001, index=2, intended_s=2.0, lag_s=0.001,
                   pre_s=0.001)]
    timing = RequestTiming.measure(records, batches=batches, t0_s=100.0, mean_batch=1.0)
    # in the order they joined the queue: 0 at 1.010, 1 at 1.028, 2 at send + pre = 2.002
    assert timing.arrival_s == pytest.approx([1.010, 1.028, 2.002])
    assert timing.overhead_s == pytest.approx([0.030 - 0.016, 0.040 - 0.010, 0.020 - 0.008])


def test_dispatch_lateness_is_dispatch_minus_due() -> None:
    """max batch 4, max delay 10 ms. Batch 1 (one request, joined 1.000) was due at 1.010
    and left at 1.013; batch 2 (one request joined 1.015, previous batch busy until 1.030)
    was due at 1.030 and left at 1.031; batch 3 (full: its 4th request joined 1.040, the
    worker free since 1.035) was due at 1.040 and left at 1.042."""
    batches = samples([1, 1, 1, 4], [0.001, 0.017, 0.004, 0.005],
                      dispatched_s=[100.5, 101.013, 101.031, 101.042])
    records = [rec(0.03, 0.013, 0.017, 0.0, index=0, intended_s=1.0),
               rec(0.03, 0.016, 0.004, 0.0, index=1, intended_s=1.015),
               *[rec(0.05, 1.042 - t, 0.005, 0.0, index=2 + k, intended_s=t)
                 for k, t in enumerate((1.036, 1.037, 1.038, 1.040))]]
    late = DispatchLateness.measure(records, batches, t0_s=100.0, policy=policy())
    assert late.due_s == pytest.approx([1.010, 1.030, 1.040])
    assert late.late_s == pytest.approx([0.003, 0.001, 0.002])
    assert late.at(0.0) == pytest.approx(0.003) and late.at(1.02) == pytest.approx(0.003)
    assert late.at(5.0) == pytest.approx(0.002)
    model = line_model(a_s=0.01, b_s=0.0, noise=0.0)
    traced = TracedBatchTime(model, SpeedTrace.measure(samples([1], [0.01]), model, t0_s=0.0),
                             late)
    assert traced.batch_s(1, now_s=1.02) == pytest.approx(0.003 + 0.01)


def test_load_calibration_pools_repeats_and_interpolates_overheads() -> None:
    over = [OverheadModel(samples_s=np.full(10, v), per_response_s=v / 10) for v in (1.0, 3.0, 4.0)]
    runs = tuple(CalibrationRun(
        fraction=f, rate_rps=r, requests=100, speed=1.0, speed_se=0.01, mean_batch=1.0,
        overhead_p50_s=0.0, overhead_p99_s=0.0, per_response_s=0.0, others_cores=0.0)
        for f, r in ((0.1, 10.0), (0.1, 10.0), (1.0, 110.0)))
    cal = LoadCalibration(service=line_model(), slowdown=LoadSlowdown(intercept=1.0, per_rps=0.0),
                          runs=runs, overheads=tuple(over))
    assert np.median(cal.overhead_at(10.0).samples_s) == pytest.approx(2.0)  # 1 and 3 pooled
    assert np.median(cal.overhead_at(10.0, combine="low").samples_s) == pytest.approx(1.0)
    high = cal.overhead_at(10.0, combine="high")
    assert np.median(high.samples_s) == pytest.approx(3.0) and high.per_response_s == 0.3
    assert np.median(cal.overhead_at(110.0).samples_s) == pytest.approx(4.0)
    assert cal.speed_at(60.0).center == pytest.approx(1.0)


@pytest.mark.parametrize(("overrides", "match"), [
    ({"load_fractions": (0.3, 1.2)}, "load_fractions"),
    ({"calibration_fractions": (0.2,)}, "2 distinct"),
    ({"calibration_fractions": (0.2, 0.62)}, r"0\.05 away.*\(0\.62, 0\.6\)"),
    ({"calibration_requests": 10}, r"calibration_requests\(=10\)"),
    ({"calibration_repeats": 0}, r"calibration_repeats\(=0\)"),
    ({"calibration": "oracle"}, "'oracle'"),
    ({"calibration": "predictive", "calibration_fractions": ()}, "needs calibration_fractions"),
])
def test_experiment_spec_rejects_bad_values(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        ExperimentSpec(**overrides)


def test_closed_loop_throughput_counts_completions_inside_the_window() -> None:
    inside = [RequestRecord(index=i, intended_s=i * 0.01 - 0.005, status="200", latency_s=0.005)
              for i in range(1, 201)]
    late = [RequestRecord(index=0, intended_s=1.99, status="200", latency_s=0.05)] * 48
    failed = [RequestRecord(index=0, intended_s=1.0, status="429", latency_s=0.001)] * 10
    assert closed_loop_throughput(inside + late + failed, duration_s=2.0) == pytest.approx(100.0)


def test_quantile_intervals_bracket_the_quantile() -> None:
    values = np.random.default_rng(0).exponential(1.0, size=2000)
    lo, hi = p99_confidence_interval(values)
    assert lo < np.percentile(values, 99) < hi
    assert lo == pytest.approx(np.log(100), rel=0.2) and hi == pytest.approx(np.log(100), rel=0.2)
    assert np.isnan(p99_confidence_interval(np.array([]))[0])
    lo, hi = quantile_interval(values, n=2000, q=0.99)
    assert lo < np.quantile(values, 0.99) < hi


# ----------------------------------------------------------------------------- overload bound


def test_wait_bound_is_m_plus_one_periods_and_one_batch() -> None:
    """Q = 8, B = 4: m = floor(7 / 4) = 1, so W_j = D[j+2] + C[j+2] - D[j]."""
    batches = samples([4] * 5, [0.1, 0.1, 0.3, 0.1, 0.1], dispatched_s=[0.0, 0.1, 0.2, 0.5, 0.6])
    assert wait_windows_s(policy(), batches) == pytest.approx([0.5, 0.5, 0.5])
    assert wait_bound_s(policy(), batches) == pytest.approx(0.5 + 0.01, abs=2e-5)


def test_in_overload_no_admitted_request_waits_beyond_the_bound() -> None:
    """The simulated server (the same QueueDepthAdmission as the real one) at 3x its
    capacity, with service times that vary 4x: every admitted request's queue + service
    time stays within the bound computed from its batch log, and it is reached."""
    model = line_model(noise=0.5)
    server = SimulatedServer(policy(), model, seed=3)
    result, t0 = server.replay(np.sort(np.random.default_rng(1).uniform(0, 10, 10_000)))
    done = result.done
    waits = result.finish_s[done] - result.arrival_s[done]
    bound = wait_bound_s(policy(), server.batches())
    assert waits.max() <= bound
    assert waits.max() > 0.6 * bound  # not vacuous: the bound is nearly reached
    assert 0.3 < 1 - done.mean() < 0.9  # shed


# ----------------------------------------------------------------------------- simulated server


def test_simulated_server_follows_the_server_batching_rules() -> None:
    arrivals = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0])
    result = simulate_server(arrivals, policy=policy(), timing=Constant(0.1),
                             rng=np.random.default_rng(0))
    e2e = result.finish_s - result.arrival_s
    assert e2e[0] == pytest.approx(0.01 + 0.1)  # alone: waits the max delay, then served
    assert e2e[1:5] == pytest.approx([0.1] * 4)  # a full batch goes at once
    assert e2e[5:] == pytest.approx([0.11] * 2)  # a partial batch after the delay
    assert batch_sizes(result).tolist() == [1, 4, 2]
    assert batch_positions(result).tolist() == [0, 0, 1, 2, 3, 0, 1]


def test_simulated_server_sheds_at_queue_capacity() -> None:
    result = simulate_server(np.zeros(20), policy=policy(queue_capacity=3),
                             timing=Constant(0.1), rng=np.random.default_rng(0))
    assert int(result.done.sum()) == 3  # the rest found three waiting


def test_timings_get_the_dispatch_time() -> None:
    model = line_model(a_s=0.01, b_s=0.0, noise=0.0)
    slow_later = SpeedTrace.measure(samples([1, 1], [0.01, 0.03], dispatched_s=[0.0, 5.0]),
                                    model, t0_s=0.0)
    traced = TracedBatchTime(model, slow_later)
    assert traced.batch_s(1, now_s=5.0) == pytest.approx(0.03)
    result = simulate_server(np.array([0.0, 5.0]), policy=policy(max_queue_delay_s=0.0),
                             timing=traced, rng=np.random.default_rng(0))
    assert (result.finish_s - result.arrival_s) == pytest.approx([0.01, 0.03])
    drawn = DrawnBatchTime(model, np.random.default_rng(0))
    assert drawn.batch_s(1, now_s=0.0) == pytest.approx(model.mean_s(1))


def test_prediction_pools_replications_and_adds_overhead() -> None:
    model = line_model(a_s=0.01, b_s=0.0, noise=0.0)
    overhead = OverheadModel(samples_s=np.array([0.002]), per_response_s=0.001)
    pred = predict(np.arange(100, dtype=np.float64), policy=policy(max_queue_delay_s=0.0),
                   timing_of=drawn(model), overhead=overhead, replications=3, seed=0)
    assert pred.p50_s == pytest.approx(0.01 + 0.001 + 0.002)
    assert pred.mean_batch == pytest.approx(1.0)


# ----------------------------------------------------------------------------- the experiment


def test_experiment_against_a_simulated_server_agrees_with_itself() -> None:
    """The whole experiment against a fake server that *is* the simulator: the
    trace-driven comparison reproduces it (only the service draws differ), the predictive
    intervals are reported, and the overload bound holds."""
    server = SimulatedServer(policy(max_batch_size=8, queue_capacity=32), line_model(noise=0.1))
    result = run_experiment(ExperimentSpec(
        min_requests=2000, min_duration_s=2.0, sweep_concurrency=(1, 4, 16),
        sweep_duration_s=2.0, capacity_duration_s=4.0, calibration_requests=400,
        calibration_repeats=2, overload_duration_s=4.0, replications=4), server)
    text = format_result(result)
    assert [c.load_fraction for c in result.final()] == [0.3, 0.6, 0.9]
    for c in result.final():
        e50, e99 = c.errors("per_run")
        assert abs(e50) < 0.1 and abs(e99) < 0.15, text
        assert c.predictive is not None and c.covered() is not None
    overload = result.overload
    assert overload is not None and overload.holds, text
    assert "overload 2x" in text and "predictive 95% intervals" in text
    doc = json.loads(json.dumps(result.to_dict(), default=str))
    assert len(doc["calibration_runs"]) == 4 and "p99_error" in doc["comparisons"][0]["per_run"]


# ----------------------------------------------------------------------------- acceptance


@pytest.mark.slow
@pytest.mark.serial
def test_simulator_reproduces_the_real_server_and_overload_is_contained() -> None:
    """Issue acceptance, against the real server (aiohttp, tiny PyTorch ranker) on
    127.0.0.1: at 30/60/90 % of the measured capacity the simulator, fed the run's own
    arrivals, overheads and batch-by-batch machine pace, reproduces the measured p50 and
    p99 within 15 % — the batching and queueing model is what is under test. At 2x
    capacity the server stays up, every admitted request completes, every shed one gets
    429 with Retry-After, and no admitted request waits longer in queue + service than
    the queue-depth limit allows at the batch times measured in that run. All hard
    assertions, meant to hold on a loaded host; the predictive path's intervals and their
    coverage are measured in benchmarks/bench_calibration_coverage.py, not here."""
    with server_process() as url:
        result = run_experiment(ExperimentSpec(
            base_url=url, min_requests=2000, min_duration_s=6.0, max_duration_s=30.0,
            sweep_concurrency=(1, 2, 4, 8, 16, 32, 48), sweep_duration_s=1.5,
            capacity_duration_s=4.0, calibration_fractions=(), overload_duration_s=6.0,
            replications=8, tolerance=0.15, max_attempts=1))
    text = format_result(result)
    print("\n" + text)
    overload = result.overload
    assert overload is not None
    assert overload.alive_after and overload.all_admitted_completed, text
    assert overload.report.rejected > 0 and overload.every_429_has_retry_after, text
    assert overload.admitted_max_wait_s <= overload.wait_bound_s, text
    final = result.final()
    assert [c.load_fraction for c in final] == [0.3, 0.6, 0.9]
    misses = [(c.load_fraction, name, round(err, 3)) for c in final
              for name, err in zip(("p50", "p99"), c.errors("per_run"), strict=True)
              if not abs(err) <= 0.15]
    assert not misses, f"trace-driven simulator outside 15 % at {misses}\n{text}"
