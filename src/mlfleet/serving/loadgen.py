"""``mlfleet loadgen``: an open-loop (Poisson) load generator for the real server.

Open loop means arrivals follow their schedule whatever the server does (a closed-loop
client slows down with the server and hides its queueing — "coordinated omission",
Tene 2013). Arrival ``i`` is scheduled at ``t_i`` (exponential gaps, rate ``R``, from a
seeded generator, so the simulator can replay the same trace); latency is measured
from ``t_i``, not from when the client managed to send, so client lag counts against
the server, never for it. The lag itself is reported.

The report has the simulator's metrics (``serving/sim/results.py``: the same
``LatencyStats`` of mean/p50/p99/p99.9): end-to-end latency of successful requests,
TTFT and TPOT for generation (streamed, measured at the client), throughput, goodput
(successful requests within the SLO per second), SLO attainment, and counts per HTTP
status (429s included), retries, retry-budget exhaustion and fallback replies (the
server's ``X-Served-By``; ``serving/loadgen_retry.py``). Each request also keeps the server's ``Server-Timing`` (queue, service)
so calibration can separate server time from client and HTTP overhead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import click
import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive
from mlfleet.errors import InputError, RunError
from mlfleet.reliability.resilience.backoff import BackoffConfig
from mlfleet.reliability.resilience.deadline import Deadline
from mlfleet.reliability.resilience.fallback import SERVED_BY_HEADER
from mlfleet.reliability.resilience.retry_budget import RetryBudgetConfig
from mlfleet.serving.loadgen_progress import PROGRESS_PERIOD_S, ProgressBar
from mlfleet.serving.loadgen_retry import RetryState, send_with_retries
from mlfleet.serving.loadgen_spec import (
    LoadSpec,
    RequestRecord,
)
from mlfleet.serving.loadgen_stats import (
    DROPPED,
    LoadReport,
    LoadStats,
    format_report,
    summarize,
)

__all__ = ["LoadReport", "LoadStats", "format_report", "summarize"]  # re-exported

FloatArray = npt.NDArray[np.float64]
SERVER_TIMING_KEYS = ("queue", "service", "app")
CHUNK = 1024
"""Arrivals generated at a time: a run never holds its whole trace."""
PAYLOAD_CHUNK_VALUES = 65_536
"""Payload numbers generated at a time (a chunk holds this many ids or tokens)."""
YIELD_EVERY = 64
"""Behind schedule, the arrival loop yields to the event loop every this many arrivals."""
MAX_RECORDS = 1e6
"""Most arrivals :func:`run_load_async` keeps a record of (about 1 KB each)."""


def _arrival_chunks(rate_rps: float, duration_s: float,
                    rng: np.random.Generator) -> Iterator[FloatArray]:
    """Arrival times of a Poisson process in ``[0, duration_s)``, ``CHUNK`` at a time, so a
    long run never holds its whole trace. Summed left to right across chunks: the
    times equal one ``cumsum`` over the whole trace, bit for bit."""
    last_s = 0.0
    while last_s < duration_s:
        gaps = rng.exponential(1.0 / rate_rps, size=CHUNK)
        times = np.cumsum(np.concatenate(([last_s], gaps)))[1:]
        last_s = float(times[-1])
        yield times[times < duration_s]


def poisson_arrivals(rate_rps: float, duration_s: float, rng: np.random.Generator) -> FloatArray:
    """Arrival times in ``[0, duration_s)`` of a Poisson process of rate ``rate_rps``."""
    return np.concatenate([*_arrival_chunks(rate_rps, duration_s, rng), np.empty(0)])


def arrival_trace(spec: LoadSpec) -> FloatArray:
    """The exact arrival times a run of ``spec`` uses (the simulator replays them)."""
    return poisson_arrivals(spec.rate_rps, spec.duration_s, np.random.default_rng(spec.seed))


def _payload_chunk(spec: LoadSpec, n: int, limits: dict[str, int],
                   rng: np.random.Generator) -> list[dict[str, Any]]:
    if spec.route == "rank":
        users = rng.integers(0, limits["n_users"], size=n)
        items = rng.integers(0, limits["n_items"], size=(n, spec.items_per_request))
        return [{"user": int(u), "items": row.tolist()} for u, row in zip(users, items, strict=True)]
    prompts = rng.integers(32, 127, size=(n, spec.prompt_tokens))  # printable ASCII bytes
    return [{"prompt_tokens": row.tolist(), "max_new_tokens": spec.max_new_tokens, "stream": True}
            for row in prompts]


def _payloads(spec: LoadSpec, n: int, limits: dict[str, int]) -> list[dict[str, Any]]:
    return _payload_chunk(spec, n, limits, np.random.default_rng([spec.seed, 1]))


def arrivals(spec: LoadSpec, limits: dict[str, int]) -> Iterator[tuple[float, dict[str, Any]]]:
    """``(scheduled time, payload)`` of each arrival, generated a chunk at a time."""
    payload_rng = np.random.default_rng([spec.seed, 1])
    chunks = _arrival_chunks(spec.rate_rps, spec.duration_s, np.random.default_rng(spec.seed))
    width = spec.items_per_request if spec.route == "rank" else spec.prompt_tokens
    per_chunk = max(1, PAYLOAD_CHUNK_VALUES // width)
    for times in chunks:
        for start in range(0, times.size, per_chunk):
            part = times[start:start + per_chunk].tolist()
            yield from zip(part, _payload_chunk(spec, len(part), limits, payload_rng), strict=True)


def parse_server_timing(header: str | None) -> dict[str, float]:
    """``queue;dur=1.5, service;dur=3`` -> ``{"queue": 0.0015, "service": 0.003}`` (seconds)."""
    out: dict[str, float] = {}
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "dur" and name:
                with contextlib.suppress(ValueError):
                    out[name] = float(value) / 1e3
    return out


# ----------------------------------------------------------------------------- running


async def fetch_limits(session: Any, spec: LoadSpec) -> dict[str, int]:
    """Table sizes from ``/v1/info`` so generated ids are valid; small defaults otherwise."""
    try:
        async with session.get(spec.base_url + "/v1/info") as resp:
            info = await resp.json()
        ranker = info["config"]["ranker"]
        return {"n_users": int(ranker["n_users"]), "n_items": int(ranker["n_items"])}
    except Exception:  # a server without /v1/info: ids below these are valid for ours
        return {"n_users": 1000, "n_items": 1000}


def retry_state(spec: LoadSpec) -> RetryState:
    """The run's retry budget and backoff, from ``spec``."""
    return RetryState(
        max_retries=spec.retries, seed=spec.seed,
        budget=RetryBudgetConfig(ratio=spec.retry_budget, min_retries=spec.retry_min,
                                 window_s=spec.retry_window_s),
        backoff=BackoffConfig(base_s=spec.backoff_base_s, cap_s=spec.backoff_cap_s))


async def _send(session: Any, spec: LoadSpec, rec: RequestRecord, payload: dict[str, Any],
                t0: float, retry: RetryState) -> None:
    rec.sent_s = time.monotonic() - t0
    deadline = None if spec.deadline_ms is None else Deadline.after(
        spec.deadline_ms / 1e3, now_s=time.monotonic())

    async def attempt(headers: dict[str, str]) -> str:
        return await _attempt(session, spec, rec, payload, t0, headers)

    outcome = await send_with_retries(attempt, state=retry, deadline=deadline)
    rec.status, rec.retries, rec.budget_denied = (outcome.status, outcome.retries,
                                                  outcome.budget_denied)
    rec.latency_s = time.monotonic() - t0 - rec.intended_s


async def _attempt(session: Any, spec: LoadSpec, rec: RequestRecord, payload: dict[str, Any],
                   t0: float, headers: dict[str, str]) -> str:
    """One HTTP attempt; its outcome: the status code, ``timeout`` or ``error``."""
    import aiohttp

    rec.tokens = 0
    try:
        async with session.post(spec.url, json=payload, headers=headers) as resp:
            rec.server_s = parse_server_timing(resp.headers.get("Server-Timing"))
            rec.served_by = resp.headers.get(SERVED_BY_HEADER, "")
            if "Retry-After" in resp.headers:
                with contextlib.suppress(ValueError):
                    rec.retry_after_s = float(resp.headers["Retry-After"])
            if resp.status == 200 and spec.route == "generate":
                await _read_stream(resp, rec, t0)
            else:
                await resp.read()
            return str(resp.status)
    except TimeoutError:
        return "timeout"
    except (aiohttp.ClientError, RunError, ValueError):
        return "error"


async def _read_stream(resp: Any, rec: RequestRecord, t0: float) -> None:
    first = last = math.nan
    async for line in resp.content:
        msg = json.loads(line)
        if "token" in msg:
            last = time.monotonic() - t0
            first = last if math.isnan(first) else first
            rec.tokens += 1
        elif "error" in msg:
            raise RunError(f"stream failed: {msg['error']}")
    rec.ttft_s = first - rec.intended_s
    rec.tpot_s = (last - first) / (rec.tokens - 1) if rec.tokens > 1 else 0.0


@dataclass(frozen=True, kw_only=True)
class LoadRun:
    """The records of one run and its time origin."""

    records: list[RequestRecord]
    t0_s: float
    """``time.monotonic()`` at the run's time 0. On one host it is the server's clock too
    (its event loop's ``loop.time()``), so server-side timestamps can be aligned."""


Sink = Callable[[RequestRecord], None]
"""Receives each request once it has finished or been dropped."""


async def drive_open_loop(spec: LoadSpec, sink: Sink, *,
                          on_start: Callable[[float], None] | None = None) -> float:
    """Drive ``spec`` against the server, handing every scheduled arrival to ``sink``; the
    run's ``t0`` (``time.monotonic()``). Memory is bounded by ``spec.max_in_flight``: an
    arrival that finds the cap reached, or comes due more than ``spec.max_lag_s`` late, is
    handed over as ``dropped`` instead of being queued. Cancelling it (Ctrl-C) cancels
    the requests in flight and closes the session."""
    async with client_session(spec) as session:
        limits = await fetch_limits(session, spec)
        retry = retry_state(spec)
        t0 = time.monotonic() + 0.05
        if on_start is not None:
            on_start(t0)
        in_flight: set[asyncio.Task[None]] = set()
        try:
            for index, (intended_s, payload) in enumerate(arrivals(spec, limits)):
                rec = RequestRecord(index=index, intended_s=intended_s)
                delay_s = t0 + intended_s - time.monotonic()
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
                elif index % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # behind schedule: let responses (and Ctrl-C) in
                if len(in_flight) >= spec.max_in_flight or -delay_s > spec.max_lag_s:
                    rec.status = DROPPED
                    sink(rec)
                    continue
                task = asyncio.create_task(_send_then(session, spec, rec, payload, t0,
                                                          retry, sink))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            await asyncio.gather(*in_flight)
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
    return t0


@contextlib.asynccontextmanager
async def client_session(spec: LoadSpec) -> AsyncIterator[Any]:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=spec.timeout_s)
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        yield session


async def _send_then(session: Any, spec: LoadSpec, rec: RequestRecord, payload: dict[str, Any],
                     t0: float, retry: RetryState, sink: Sink) -> None:
    await _send(session, spec, rec, payload, t0, retry)
    sink(rec)


async def run_load_async(spec: LoadSpec) -> LoadRun:
    """Drive ``spec`` and keep one record per scheduled arrival (calibration needs them).

    Raises:
        InputError: ``spec`` would schedule more than ``MAX_RECORDS`` arrivals (expected);
            stream those with :func:`drive_open_loop` and :class:`LoadStats`.
    """
    expected = spec.rate_rps * spec.duration_s
    if expected > MAX_RECORDS:
        raise InputError(f"rate_rps x duration_s(={expected:g}) must be <= {MAX_RECORDS:g} "
                         "arrivals to keep every record; stream larger runs (LoadStats)")
    records: list[RequestRecord] = []
    t0 = await drive_open_loop(spec, records.append)
    records.sort(key=lambda r: r.index)
    return LoadRun(records=records, t0_s=t0)


def run_load(spec: LoadSpec) -> LoadRun:
    """Synchronous wrapper of :func:`run_load_async` (its own event loop)."""
    return asyncio.run(run_load_async(spec))


async def run_closed_loop_async(spec: LoadSpec, *, concurrency: int) -> list[RequestRecord]:
    """``concurrency`` clients, each sending its next request when the last returns, for
    ``spec.duration_s`` (``spec.rate_rps`` is ignored): saturation throughput and
    service-time sweeps. Latency here is from the actual send."""
    if concurrency < 1:
        raise InputError(f"concurrency(={concurrency}) must be >= 1")
    async with client_session(spec) as session:
        limits = await fetch_limits(session, spec)
        payloads = _payloads(replace(spec, seed=spec.seed + 1), 4096, limits)  # cycled
        retry = retry_state(spec)
        records: list[RequestRecord] = []
        t0 = time.monotonic()

        async def client() -> None:
            while (now := time.monotonic() - t0) < spec.duration_s:
                rec = RequestRecord(index=len(records), intended_s=now)
                records.append(rec)
                await _send(session, spec, rec, payloads[rec.index % len(payloads)], t0,
                            retry)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return records


# ----------------------------------------------------------------------------- CLI


@click.command("loadgen")
@click.option("--url", required=True, help="Endpoint, e.g. http://127.0.0.1:8000/v1/rank.")
@click.option("--rate", "rate_rps", required=True, type=float, help="Mean arrivals per second.")
@click.option("--duration", "duration_s", default=10.0, show_default=True, type=float,
              help="Seconds of arrivals.")
@click.option("--seed", default=0, show_default=True, type=int, help="Arrival/content seed.")
@click.option("--items", "items_per_request", default=64, show_default=True, type=int,
              help="Rank: items per request.")
@click.option("--prompt-tokens", default=16, show_default=True, type=int,
              help="Generate: prompt length.")
@click.option("--max-new-tokens", default=16, show_default=True, type=int,
              help="Generate: tokens per request.")
@click.option("--slo-ms", default=None, type=float,
              help="Latency SLO for goodput (generate: TTFT).")
@click.option("--deadline-ms", default=None, type=float, help="Send X-Deadline-Ms.")
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, type=float,
              help="Client timeout per request, seconds.")
@click.option("--max-in-flight", default=1024, show_default=True, type=int,
              help="Most requests awaiting a response; arrivals beyond it are dropped.")
@click.option("--retries", default=0, show_default=True, type=int,
              help="Most retries per request of a 429, 5xx, timeout or transport error.")
@click.option("--retry-budget", default=0.2, show_default=True, type=float,
              help="Retries allowed per request over the last 10 s (plus --retry-min).")
@click.option("--retry-min", default=3, show_default=True, type=int,
              help="Retries always allowed per 10 s window.")
@click.option("--backoff-ms", default=10.0, show_default=True, type=float,
              help="Full-jitter backoff base: retry n waits up to base x 2^n.")
@click.option("--backoff-cap-ms", default=1000.0, show_default=True, type=float,
              help="Full-jitter backoff cap.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def loadgen_command(url: str, rate_rps: float, duration_s: float, seed: int,
                    items_per_request: int, prompt_tokens: int, max_new_tokens: int,
                    slo_ms: float | None, deadline_ms: float | None, timeout_s: float,
                    max_in_flight: int, retries: int, retry_budget: float, retry_min: int,
                    backoff_ms: float, backoff_cap_ms: float, as_json: bool) -> None:
    """Open-loop Poisson load against a running `mlfleet serve`; reports latency
    percentiles, TTFT/TPOT, throughput, goodput, status counts (429 included) and the
    rate actually offered. Memory stays bounded: at most --max-in-flight requests are
    outstanding, arrivals beyond it are counted as dropped, latencies go to a log
    histogram (percentiles within 1 %). Rates above 100,000 req/s are refused.
    With --retries, failed requests are retried after a full-jitter backoff while the
    client's retry budget allows (--retry-budget x recent requests + --retry-min); the
    report counts retries, budget exhaustion and fallback replies (X-Served-By)."""
    if slo_ms is not None:
        positive("--slo-ms", slo_ms, allow_inf=True)
    positive("--backoff-ms", backoff_ms)
    positive("--backoff-cap-ms", backoff_cap_ms)
    try:
        spec = LoadSpec(url=url, rate_rps=rate_rps, duration_s=duration_s, seed=seed,
                        items_per_request=items_per_request, prompt_tokens=prompt_tokens,
                        max_new_tokens=max_new_tokens,
                        slo_s=None if slo_ms is None else slo_ms / 1e3, deadline_ms=deadline_ms,
                        timeout_s=timeout_s, max_in_flight=max_in_flight, retries=retries,
                        retry_budget=retry_budget, retry_min=retry_min,
                        backoff_base_s=backoff_ms / 1e3, backoff_cap_s=backoff_cap_ms / 1e3)
    except InputError as exc:
        raise InputError(_as_flag(str(exc))) from None
    stats = LoadStats(spec)
    show_progress = not as_json and sys.stderr.isatty()
    asyncio.run(_run_with_progress(spec, stats) if show_progress
                else drive_open_loop(spec, stats.add))
    if stats.sent and stats.counts["error"] == stats.sent:
        raise RunError(f"no response from {url}: is `mlfleet serve` running there?")
    report = stats.report()
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(report.to_dict())
    else:
        click.echo(format_report(report))


FLAG_OF = {"url": "--url", "rate_rps": "--rate", "duration_s": "--duration", "seed": "--seed",
           "items_per_request": "--items", "prompt_tokens": "--prompt-tokens",
           "max_new_tokens": "--max-new-tokens", "deadline_ms": "--deadline-ms",
           "timeout_s": "--timeout", "max_in_flight": "--max-in-flight", "retries": "--retries",
           "retry_budget": "--retry-budget", "retry_min": "--retry-min",
           "backoff_base_s": "--backoff-ms", "backoff_cap_s": "--backoff-cap-ms"}
"""The flag of each :class:`LoadSpec` field the CLI sets (errors name what the user typed)."""


def _as_flag(message: str) -> str:
    """``rate_rps(=0) must ...`` -> ``--rate(=0) must ...``."""
    name, sep, rest = message.partition("(=")
    return FLAG_OF.get(name, name) + sep + rest


async def _run_with_progress(spec: LoadSpec, stats: LoadStats) -> None:
    """:func:`drive_open_loop` with a progress line on stderr, redrawn twice a second."""
    bar = ProgressBar(total_s=spec.duration_s)
    started: list[float] = []
    run = asyncio.ensure_future(drive_open_loop(spec, stats.add, on_start=started.append))
    try:
        while not run.done():
            await asyncio.wait([run], timeout=PROGRESS_PERIOD_S)
            if started:
                bar.draw(time.monotonic() - started[0], answered=stats.sent,
                         dropped=stats.counts[DROPPED])
        await run
    finally:
        if not run.done():  # Ctrl-C: let the run cancel its requests and close its session
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
        bar.close()
