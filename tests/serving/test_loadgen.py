"""The open-loop load generator: arrivals, report, and a run against the real app."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from loadgen_builders import load_spec

from mlfleet.errors import InputError
from mlfleet.serving.loadgen import (
    arrival_trace,
    format_report,
    parse_server_timing,
    poisson_arrivals,
    run_closed_loop_async,
    run_load_async,
    summarize,
)
from mlfleet.serving.loadgen_spec import RequestRecord
from mlfleet.serving.server.config import DynamicBatchingConfig
from mlfleet.serving.server.testing import blocked_worker, running_app, small_config

spec = load_spec


def test_poisson_arrivals_rate_and_range() -> None:
    t = poisson_arrivals(200.0, 50.0, np.random.default_rng(1))
    assert np.all(np.diff(t) > 0) and t[0] >= 0 and t[-1] < 50.0
    assert abs(t.size / 50.0 - 200.0) < 200.0 * 0.05
    gaps = np.diff(t)
    assert abs(gaps.std() / gaps.mean() - 1.0) < 0.05  # exponential: CV = 1


def test_arrival_trace_is_seeded() -> None:
    a, b = arrival_trace(spec(seed=3)), arrival_trace(spec(seed=3))
    assert np.array_equal(a, b) and not np.array_equal(a, arrival_trace(spec(seed=4)))


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"url": "ftp://x/v1/rank"}, "http"),
    ({"url": "http://127.0.0.1:1/v1/other"}, "/v1/rank or /v1/generate"),
    ({"rate_rps": 0.0}, "rate_rps"),
    ({"duration_s": math.inf}, "duration_s"),
    ({"items_per_request": 0}, "items_per_request"),
    ({"slo_s": -1.0}, "slo_s"),
    ({"rate_rps": 2e5}, "cannot offer more"),
    ({"rate_rps": math.nan}, "rate_rps"),
    ({"seed": -1}, "seed"),
    ({"items_per_request": 10_001}, "items_per_request"),
    ({"deadline_ms": math.nan}, "deadline_ms"),
    ({"max_in_flight": 0}, "max_in_flight"),
])
def test_spec_validation_quotes_value(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        spec(**overrides)


def test_parse_server_timing() -> None:
    parsed = parse_server_timing("queue;dur=1.5, service;dur=3, app;desc=x;dur=bad, x")
    assert parsed == {"queue": 0.0015, "service": 0.003}
    assert parse_server_timing(None) == {}


def test_summarize_percentiles_counts_goodput() -> None:
    records = [RequestRecord(index=i, intended_s=0.0, sent_s=0.001, status="200",
                             latency_s=(i + 1) / 1000) for i in range(100)]
    records += [RequestRecord(index=100 + i, intended_s=0.0, sent_s=0.0, status="429",
                              latency_s=0.001) for i in range(10)]
    report = summarize(records, spec(duration_s=2.0, slo_s=0.05))
    assert report.status_counts == {"200": 100, "429": 10}
    assert report.throughput_per_s == 50.0 and report.goodput_per_s == 25.0
    assert (report.completed, report.rejected, report.failed) == (100, 10, 0)
    assert report.slo_attainment == pytest.approx(50 / 110)
    assert report.e2e.p50_s == pytest.approx(0.0505)
    assert report.e2e.p99_s == pytest.approx(0.09901)
    assert report.e2e.mean_s == pytest.approx(0.0505)
    assert report.client_lag_p99_s == pytest.approx(0.001)
    assert math.isnan(report.ttft.p50_s)
    assert "429=10" in format_report(report)


def test_open_loop_run_against_the_app_reports_everything() -> None:
    roomy = small_config(rank=DynamicBatchingConfig(max_batch_size=8, queue_capacity=1000))

    async def main() -> None:
        async with running_app(roomy) as client:
            url = str(client.make_url("/v1/rank"))
            load = spec(url=url, rate_rps=40.0, duration_s=1.0, items_per_request=8, seed=5)
            run = await run_load_async(load)
            report = summarize(run.records, load)
            assert report.requests == len(arrival_trace(load))
            assert report.status_counts == {"200": report.requests}
            assert 0 < report.e2e.p50_s <= report.e2e.p99_s <= report.e2e.p999_s
            assert all({"queue", "service", "post"} <= set(r.server_s) for r in run.records)
            gen = spec(url=str(client.make_url("/v1/generate")), rate_rps=10.0, duration_s=1.0,
                       prompt_tokens=4, max_new_tokens=5, slo_s=10.0)
            gen_run = await run_load_async(gen)
            gen_report = summarize(gen_run.records, gen)
            assert gen_report.status_counts == {"200": len(gen_run.records)}
            assert all(r.tokens == 5 for r in gen_run.records)
            assert 0 < gen_report.ttft.p50_s <= gen_report.e2e.p50_s
            assert gen_report.tpot.p50_s > 0
            assert gen_report.goodput_per_s == gen_report.throughput_per_s
            assert gen_report.tokens_per_s == pytest.approx(5 * gen_report.throughput_per_s)
            assert "TTFT" in format_report(gen_report)

    asyncio.run(main())


def test_loadgen_counts_429_and_retry_after() -> None:
    config = small_config(rank=DynamicBatchingConfig(max_batch_size=1, queue_capacity=1,
                                                     max_queue_delay_s=0.0))

    async def main() -> None:
        async with running_app(config) as client:
            with blocked_worker(client.app) as release:
                load = spec(url=str(client.make_url("/v1/rank")), rate_rps=40.0, duration_s=0.5)
                task = asyncio.ensure_future(run_load_async(load))
                await asyncio.sleep(1.0)
                release.set()
                run = await task
            report = summarize(run.records, load)
            assert report.status_counts["429"] >= 1 and report.status_counts["200"] >= 1
            assert all(r.retry_after_s >= 1 for r in run.records if r.status == "429")

    asyncio.run(main())


def test_closed_loop_keeps_concurrency() -> None:
    async def main() -> None:
        async with running_app() as client:
            load = spec(url=str(client.make_url("/v1/rank")), duration_s=0.5, items_per_request=4)
            records = await run_closed_loop_async(load, concurrency=4)
            assert len(records) >= 4 and all(r.status == "200" for r in records)
            doc = await (await client.get("/v1/stats")).json()
            assert max(r[3] for r in doc["records"]) >= 2  # concurrent clients got batched

    asyncio.run(main())


def test_unreachable_server_is_a_run_error() -> None:
    code = ("import sys; from mlfleet.serving.loadgen import loadgen_command; "
            "from mlfleet.errors import MlfleetError\n"
            "try:\n    loadgen_command.main(sys.argv[1:], standalone_mode=False)\n"
            "except MlfleetError as e:\n    print('ERR', e); sys.exit(e.exit_code)")
    proc = subprocess.run([sys.executable, "-c", code, "--url", "http://127.0.0.1:9/v1/rank",
                           "--rate", "20", "--duration", "0.2"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1 and "no response" in proc.stdout


def test_loadgen_cli_json_against_a_live_server() -> None:
    async def main() -> str:
        async with running_app() as client:
            url = str(client.make_url("/v1/rank"))
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c",
                "import sys; from mlfleet.serving.loadgen import loadgen_command; "
                "loadgen_command.main(sys.argv[1:])",
                "--url", url, "--rate", "50", "--duration", "0.5", "--items", "8", "--json",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0, err.decode()
            return out.decode()

    report = json.loads(asyncio.run(main()))
    assert report["route"] == "rank" and report["status_counts"].get("200", 0) >= 1
    assert report["requested_rps"] == 50 and report["dropped"] == 0
    assert report["offered_rps"] == pytest.approx(report["requests"] / 0.5)
    for key in ("throughput_per_s", "goodput_per_s", "slo_attainment", "rejected"):
        assert key in report
    for stats in ("e2e", "ttft", "tpot"):  # null values carry a ``*_null_reason`` beside them
        assert {"mean_s", "p50_s", "p99_s", "p999_s"} <= set(report[stats])
    assert report["e2e"]["p50_s"] > 0


# ----------------------------------------------------------------------------- big input, Ctrl-C

MLFLEET = ("import sys; from mlfleet.cli import main; sys.exit(main())", "loadgen")


def test_arrivals_stream_in_chunks_equal_to_one_trace() -> None:
    """Chunked generation is the same trace as one cumsum over all the gaps, bit for bit."""
    from mlfleet.serving.loadgen import CHUNK, arrivals

    load = spec(rate_rps=3000.0, duration_s=2.0, seed=9)  # several chunks
    rng = np.random.default_rng(9)
    gaps = rng.exponential(1 / 3000.0, size=CHUNK * 8)
    whole = np.cumsum(gaps)
    assert np.array_equal(arrival_trace(load), whole[whole < 2.0])
    limits = {"n_users": 100, "n_items": 1000}
    wide = spec(rate_rps=3000.0, duration_s=2.0, items_per_request=10_000)  # 6 per payload chunk
    first, again = list(arrivals(wide, limits)), list(arrivals(wide, limits))
    assert [t for t, _ in first] == arrival_trace(wide).tolist()
    assert first == again and len(first[0][1]["items"]) == 10_000


@pytest.mark.parametrize(("argv", "message"), [
    (["--rate", "1e9"], "--rate(=1e+09) must be <= 100000 req/s"),
    (["--rate", "nan"], "--rate(=nan) must be >= 1e-06 req/s"),
    (["--seed", "-1"], "--seed(=-1) must be an integer >= 0"),
    (["--items", "100000"], "--items(=100000) must be in [1, 10000]"),
    (["--slo-ms", "-1"], "--slo-ms(=-1) must be a number > 0"),
    (["--max-in-flight", "0"], "--max-in-flight(=0) must be an integer >= 1"),
])
def test_bad_flags_are_one_line_naming_the_flag(argv: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from mlfleet.cli import main

    code = main(["loadgen", "--url", "http://127.0.0.1:9/v1/rank", "--rate", "10", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: {message}")


def test_a_rate_one_process_cannot_offer_is_refused_in_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    from mlfleet.cli import main

    code = main(["loadgen", "--url", "http://127.0.0.1:9/v1/rank", "--rate", "1e9",
                 "--duration", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: --rate(=1e+09) must be <= 100000 req/s")


def test_load_above_the_servers_capacity_streams_in_bounded_memory() -> None:
    """Offered 1e5/s for 2 s (the old generator: 4.3 GB at 1e6/s for 1 s): the client
    drops what it cannot send, says so, and its peak RSS stays small."""
    # VmHWM of the child's own address space: ru_maxrss would count this process's RSS,
    # which the child had before its exec.
    peak_rss = ("import sys; from mlfleet.cli import main; code = main(); sys.stderr.write("
                "next(x for x in open('/proc/self/status') if x.startswith('VmHWM'))); "
                "sys.exit(code)")

    async def main() -> tuple[int | None, bytes, bytes]:
        async with running_app() as client:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", peak_rss, "loadgen", "--url",
                str(client.make_url("/v1/rank")), "--rate", "1e5", "--duration", "2",
                "--items", "4", "--timeout", "5", "--json",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 120)
            return proc.returncode, out, err

    code, out, err = asyncio.run(main())
    assert code == 0, err.decode()
    report = json.loads(out)
    assert report["requested_rps"] == 1e5
    assert report["offered_rps"] < 1e5 and report["dropped"] > 0
    assert report["offered_rps"] == pytest.approx(
        (report["requests"] - report["dropped"]) / 2.0)
    peak_rss_bytes = int(err.decode().split()[-2]) * 1024  # "VmHWM:   123456 kB"
    assert peak_rss_bytes < 200e6, peak_rss_bytes
    print(f"offered {report['offered_rps']:.0f} req/s, dropped {report['dropped']}, "
          f"peak RSS {peak_rss_bytes / 1e6:.0f} MB")


@pytest.mark.parametrize("rate", ["200", "1e5"])
def test_ctrl_c_stops_loadgen_with_130_and_no_traceback(rate: str) -> None:
    async def main() -> tuple[int | None, bytes, float]:
        async with running_app() as client:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", *MLFLEET, "--url", str(client.make_url("/v1/rank")),
                "--rate", rate, "--duration", "60", "--items", "4",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            await asyncio.sleep(3.0)  # imports, then about a second of load
            proc.send_signal(signal.SIGINT)
            sent_at = time.monotonic()
            _, err = await asyncio.wait_for(proc.communicate(), 60)
            return proc.returncode, err, time.monotonic() - sent_at

    code, err, exit_after_s = asyncio.run(main())
    assert code == 130, err.decode()
    assert b"Traceback" not in err
    assert err.decode().split() in (["interrupted"], ["aborted"])  # click turns ^C into Abort
    assert exit_after_s < 5.0  # a generous signal-response bound (the goal is 1 s)
    print(f"exit {exit_after_s:.2f} s after SIGINT")
