"""The load generator's retries against real servers: a failing server sees at most
``(1 + ratio) ×`` the offered load plus the budget's minimum (the retry storm a budget
prevents), the expected attempts against ``1 + p + p² + p³``, deadlines that stop
retries, and fallback replies counted from ``X-Served-By``."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from loadgen_builders import load_spec

from mlfleet.serving.loadgen import run_load_async
from mlfleet.serving.loadgen_spec import LoadSpec
from mlfleet.serving.loadgen_stats import LoadReport, summarize
from mlfleet.serving.server.config import DynamicBatchingConfig
from mlfleet.serving.server.metrics import parse_text
from mlfleet.serving.server.resilience_config import FaultSpec, RankFallbackConfig
from mlfleet.serving.server.testing import running_app, small_config

ROOMY = DynamicBatchingConfig(max_batch_size=8, queue_capacity=1000)


def server_config(fault: FaultSpec, *, fallback: bool = False) -> Any:
    return small_config(rank=ROOMY, rank_fallback=RankFallbackConfig(enabled=fallback,
                                                                     fault=fault))


async def run_against(fault: FaultSpec, *, fallback: bool = False,
                      **spec: Any) -> tuple[LoadReport, float]:
    """The report, and how many rank requests the server itself counted."""
    async with running_app(server_config(fault, fallback=fallback)) as client:
        load = load_spec(url=str(client.make_url("/v1/rank")), items_per_request=8, **spec)
        report = summarize((await run_load_async(load)).records, load)
        metrics = parse_text(await (await client.get("/metrics")).text())
        seen = sum(v for k, v in metrics["mlfleet_http_requests_total"].items()
                   if ("route", "/v1/rank") in k)
        return report, seen


@pytest.mark.slow
def test_budget_bounds_the_load_on_a_failing_server() -> None:
    """Every request fails, each wants 3 retries: with a 20 % budget the server sees
    at most 1.2 × requests + 3 (the window outlasts the run); without one, 4 ×."""
    fail = FaultSpec(mode="fail")
    common: dict[str, Any] = dict(rate_rps=100.0, duration_s=2.0, seed=3, retries=3, backoff_base_s=0.001,
                  backoff_cap_s=0.005)
    budgeted, seen = asyncio.run(run_against(fail, retry_budget=0.2, retry_min=3, **common))
    n = budgeted.requests
    assert seen == budgeted.attempts == n + budgeted.retries  # what the server counted
    assert budgeted.retries <= 0.2 * n + 3
    assert budgeted.retries >= 0.2 * n - 1  # the budget is used, not just respected
    assert budgeted.retry_budget_exhausted >= n - budgeted.retries  # the rest were refused
    print(f"budgeted: {n} requests, server saw {seen:g} ({seen / n:.3f} x); bound "
          f"{(1.2 * n + 3) / n:.3f} x")
    storm, storm_seen = asyncio.run(run_against(fail, retry_budget=100.0, **common))
    assert storm_seen == 4 * storm.requests and storm.retry_budget_exhausted == 0
    print(f"unbudgeted: {storm.requests} requests, server saw {storm_seen:g} "
          f"({storm_seen / storm.requests:.3f} x)")


@pytest.mark.slow
def test_attempts_per_request_match_the_geometric_sum() -> None:
    """A fault hitting a fraction p of calls: attempts per request = 1 + p + p² + p³
    with 3 retries and no budget limit; 30 % of 400 requests, within 8 %."""
    p = 0.3
    report, seen = asyncio.run(run_against(
        FaultSpec(mode="fail", fraction=p, seed=11), rate_rps=200.0, duration_s=2.0, seed=4,
        retries=3, retry_budget=100.0, backoff_base_s=0.001, backoff_cap_s=0.005))
    expected = 1 + p + p**2 + p**3
    measured = seen / report.requests
    print(f"attempts per request {measured:.4f}, expected {expected:.4f}, "
          f"error {measured / expected - 1:+.2%}")
    assert abs(measured / expected - 1) < 0.08, (measured, expected)
    assert report.status_counts.get("500", 0) <= 0.03 * report.requests  # p^4 = 0.8 %


def test_no_retry_past_the_deadline() -> None:
    """A primary slower than the deadline: the server answers 504 after the deadline
    has passed, and the client has nothing left to retry with."""
    slow = FaultSpec(mode="slow", delay_s=0.15)
    report, seen = asyncio.run(run_against(slow, rate_rps=20.0, duration_s=0.5,
                                           retries=3, deadline_ms=100.0))
    assert report.retries == 0 and seen == report.requests
    assert report.status_counts == {"504": report.requests}


def test_fallback_replies_are_counted_and_need_no_retry() -> None:
    report, _ = asyncio.run(run_against(FaultSpec(mode="fail"), fallback=True,
                                        rate_rps=40.0, duration_s=0.5, retries=3))
    assert report.status_counts == {"200": report.requests} and report.retries == 0
    assert report.fallbacks == report.requests
    assert report.served_by_counts == {"popularity": report.requests}


def test_cli_json_reports_retries() -> None:
    async def main() -> dict[str, Any]:
        async with running_app(server_config(FaultSpec(mode="fail"))) as client:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c",
                "import sys; from mlfleet.serving.loadgen import loadgen_command; "
                "loadgen_command.main(sys.argv[1:])",
                "--url", str(client.make_url("/v1/rank")), "--rate", "50", "--duration",
                "0.4", "--items", "8", "--retries", "2", "--retry-budget", "0.5",
                "--retry-min", "1", "--backoff-ms", "1", "--json",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0, err.decode()
            result: dict[str, Any] = json.loads(out)
            return result

    report = asyncio.run(main())
    n = report["requests"]
    assert 0 < report["retries"] <= 0.5 * n + 1
    assert report["attempts"] == n + report["retries"]
    assert report["retry_budget_exhausted"] > 0 and report["status_counts"] == {"500": n}
    assert report["served_by_counts"] == {} and report["fallbacks"] == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--retries", "-1"], "--retries(=-1) must be an integer >= 0"),
    (["--retry-budget", "-0.5"], "--retry-budget(=-0.5) must be a finite number >= 0"),
    (["--retry-min", "-2"], "--retry-min(=-2) must be an integer >= 0"),
    (["--backoff-ms", "0"], "--backoff-ms(=0) must be a finite number > 0"),
])
def test_bad_retry_flags_are_one_line(argv: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from mlfleet.cli import main

    code = main(["loadgen", "--url", "http://127.0.0.1:9/v1/rank", "--rate", "10", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: {message}"), err


def test_spec_defaults_keep_retries_off() -> None:
    assert LoadSpec(url="http://127.0.0.1:1/v1/rank", rate_rps=1, duration_s=1).retries == 0
