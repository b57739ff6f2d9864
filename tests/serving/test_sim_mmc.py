"""M/M/c through the engine agrees with Erlang C (within the simulation's 95 % CI)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sim_builders import mm_stream

from mlfleet.errors import InputError
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.mmc import (
    MAX_REQUESTS,
    PERCENTILE_RELATIVE_ERROR,
    STATISTICS,
    batch_means,
    erlang_c_waits,
    mmc_waits,
    simulate_mmc,
    t_quantile,
)
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica


@pytest.mark.parametrize(("servers", "utilization"), [(1, 0.7), (8, 0.9), (32, 0.95)])
def test_simulated_waits_match_erlang_c_over_seeds(servers: int, utilization: float) -> None:
    """Over 5 seeds the Erlang C mean wait and P(wait > 0) lie in the simulation's 95 %
    CI at least 4 times each (a CI misses with probability ~5 %, 2 misses in 5 ~2 %)."""
    hits = {"mean_wait_s": 0, "p_wait": 0}
    for seed in range(5):
        cmp = simulate_mmc(servers=servers, utilization=utilization, requests=60_000,
                           seed=seed)
        for name in hits:
            hits[name] += cmp.simulated[name].contains(cmp.erlang_c[name])
    assert all(h >= 4 for h in hits.values()), hits


@pytest.mark.slow
def test_wait_percentiles_match_erlang_c_on_a_long_run() -> None:
    """Tail quantiles need long runs (rare long busy periods): 1e6 requests at ρ = 0.9."""
    cmp = simulate_mmc(servers=8, utilization=0.9, requests=1_000_000, seed=3)
    for name in STATISTICS:
        assert cmp.simulated[name].value == pytest.approx(cmp.erlang_c[name], rel=0.06), name


def test_mean_wait_is_within_five_percent_on_a_long_run() -> None:
    cmp = simulate_mmc(servers=4, utilization=0.8, requests=200_000, seed=11)
    assert cmp.simulated["mean_wait_s"].value == pytest.approx(cmp.erlang_c["mean_wait_s"],
                                                                rel=0.05)
    assert cmp.simulated["p_wait"].value == pytest.approx(cmp.erlang_c["p_wait"], abs=0.01)
    assert cmp.simulated["p99_wait_s"].value == pytest.approx(cmp.erlang_c["p99_wait_s"],
                                                               rel=0.1)


def test_erlang_c_reference_values() -> None:
    """M/M/1 at ρ: P(wait) = ρ, E[W] = ρ/(μ - λ)."""
    waits = erlang_c_waits(servers=1, utilization=0.5)
    assert waits["p_wait"] == pytest.approx(0.5) and waits["mean_wait_s"] == pytest.approx(1.0)


def test_the_engine_is_the_textbook_fcfs_recursion() -> None:
    """One server, FIFO: start_k = max(arrival_k, finish_{k-1}) (Lindley)."""
    stream = mm_stream(2000, rate_per_s=0.9)
    res = Engine(requests=stream, replicas=[RequestLevelReplica()],
                 rng=np.random.default_rng(0)).run()
    finish = 0.0
    for a, s, start in zip(stream.arrival_s, stream.service_s, res.start_s, strict=True):
        assert start == max(a, finish)
        finish = start + s
    assert res.finish_s[-1] == pytest.approx(finish)


@pytest.mark.parametrize(("kw", "fragment"), [
    ({"servers": 0}, "servers(=0)"), ({"utilization": 1.0}, "utilization(=1.0)"),
    ({"requests": 10}, "requests(=10)"), ({"batches": 1}, "batches(=1)")])
def test_bad_parameters_name_the_value(kw: dict[str, Any], fragment: str) -> None:
    args: dict[str, Any] = {"servers": 2, "utilization": 0.5, "requests": 10_000, "seed": 0,
                            **kw}
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        simulate_mmc(**args)


def test_a_request_count_past_the_sanity_cap_is_refused_before_drawing() -> None:
    with pytest.raises(InputError, match=r"requests\(=1_000_000_000_000\) must be at most"):
        simulate_mmc(servers=2, utilization=0.5, requests=10**12, seed=0)
    assert MAX_REQUESTS < 10**12


def _engine_waits(requests: int, *, servers: int, utilization: float,
                  seed: int) -> np.ndarray:
    """The waits of the one-shot run through the engine (every request in memory)."""
    r_stream, r_engine = np.random.default_rng(seed).spawn(2)
    stream = make_requests(requests, arrivals=PoissonArrivals(rate_per_s=utilization * servers),
                           rng=r_stream, service=Exponential(mean_s=1.0))
    result = Engine(requests=stream, replicas=[RequestLevelReplica(servers=servers)],
                    rng=r_engine).run()
    waits: np.ndarray = result.start_s - result.arrival_s
    return waits


@pytest.mark.parametrize("chunk", [1, 999, 1 << 16, 10**6])
def test_the_chunked_run_is_the_engines_one_shot_run_bit_for_bit(chunk: int) -> None:
    n = 100_000 if chunk > 1 else 5_000
    one_shot = _engine_waits(n, servers=8, utilization=0.9, seed=5)
    chunked = np.concatenate(list(mmc_waits(servers=8, rate_per_s=7.2, service_mean_s=1.0,
                                            requests=n, seed=5, chunk=chunk)))
    assert np.array_equal(one_shot, chunked)


def test_streamed_statistics_are_the_one_shot_ones() -> None:
    """Mean and P(wait > 0), and their CIs, as from all the waits in memory (to
    rounding: the streamed sums are correctly rounded); percentiles and their CIs
    within the histogram's relative error."""
    n, seed = 100_003, 7  # batches of unequal sizes
    waits = _engine_waits(n, servers=4, utilization=0.8, seed=seed)[n // 10:]
    reference = batch_means(waits, batches=20)
    streamed = simulate_mmc(servers=4, utilization=0.8, requests=n, seed=seed).simulated
    for name in ("mean_wait_s", "p_wait"):
        assert streamed[name].value == pytest.approx(reference[name].value, rel=1e-12)
        assert streamed[name].ci95_half_width == pytest.approx(
            reference[name].ci95_half_width, rel=1e-9)
    for name in ("p50_wait_s", "p99_wait_s"):
        assert streamed[name].value == pytest.approx(
            reference[name].value, rel=PERCENTILE_RELATIVE_ERROR * (1 + 1e-9))
        assert streamed[name].ci95_half_width == pytest.approx(
            reference[name].ci95_half_width, rel=0.05)


def test_the_engine_path_gives_the_streaming_paths_mean_and_p_wait() -> None:
    kw: dict[str, Any] = {"servers": 4, "utilization": 0.8, "requests": 20_000, "seed": 3}
    streamed, on_engine = simulate_mmc(**kw), simulate_mmc(**kw, engine=True)
    for name in ("mean_wait_s", "p_wait"):  # exact on both paths: the same waits
        assert on_engine.simulated[name].value == pytest.approx(
            streamed.simulated[name].value, rel=1e-12)
    for name in ("p50_wait_s", "p99_wait_s"):  # exact vs the histogram's stated error
        assert on_engine.simulated[name].value == pytest.approx(
            streamed.simulated[name].value, rel=PERCENTILE_RELATIVE_ERROR * (1 + 1e-9))


@pytest.mark.parametrize("df", [*range(1, 60), 99, 999, 1000, 1001, 5000, 10**6])
@pytest.mark.parametrize("p", [0.6, 0.975, 0.995])
def test_t_quantile_is_scipys(df: int, p: float) -> None:
    from scipy import stats

    assert t_quantile(p, df) == pytest.approx(float(stats.t.ppf(p, df)), rel=1e-13)


@pytest.mark.serial
def test_ctrl_c_stops_a_long_run_with_130_and_one_line() -> None:
    """SIGINT 2 s into a 10⁸-request run: exit 130 within 3 s (the goal is 1 s,
    measured in benchmarks/bench_sim_mmc_memory.py), one line on stderr."""
    mlfleet = str(Path(sys.executable).with_name("mlfleet"))
    child = subprocess.Popen([mlfleet, "sim", "mmc", "--requests", str(10**8), "--json"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2.0)
    assert child.poll() is None  # still running: the signal lands mid-run
    child.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = child.communicate(timeout=60)
    exit_after_s = time.monotonic() - sent
    assert child.returncode == 130, err.decode()
    assert b"Traceback" not in err and len(err.decode().strip().splitlines()) == 1, err
    assert exit_after_s < 3.0, exit_after_s
