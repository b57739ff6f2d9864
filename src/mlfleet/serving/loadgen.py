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
status (429s included). Each request also keeps the server's ``Server-Timing`` (queue, service)
so calibration can separate server time from client and HTTP overhead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
import numpy as np

from mlfleet.errors import InputError, RunError
from mlfleet.serving.sim.results import LatencyStats

SERVER_TIMING_KEYS = ("queue", "service", "app")


@dataclass(frozen=True, kw_only=True)
class LoadSpec:
    """One open-loop run against one endpoint."""

    url: str
    """Endpoint URL: ``http://HOST:PORT/v1/rank`` or ``.../v1/generate``."""
    rate_rps: float
    """Mean arrival rate (Poisson), requests per second."""
    duration_s: float
    """Arrivals are generated over this long; the run then waits for stragglers."""
    seed: int = 0
    """Seed of the arrival times and the request contents."""
    items_per_request: int = 64
    """Rank: candidate items per request."""
    prompt_tokens: int = 16
    """Generate: prompt length in tokens (bytes)."""
    max_new_tokens: int = 16
    """Generate: tokens to generate per request."""
    slo_s: float | None = None
    """Latency SLO for goodput (generate: on TTFT); ``None``: every success counts."""
    deadline_ms: float | None = None
    """Sent as ``X-Deadline-Ms`` when set."""
    timeout_s: float = 60.0
    """Client-side timeout per request (counted as status ``timeout``)."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(f"url(={self.url!r}) must be an http(s) URL with host and port")
        if self.route not in ("rank", "generate"):
            raise InputError(f"url(={self.url!r}) must end in /v1/rank or /v1/generate")
        for name in ("rate_rps", "duration_s", "timeout_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"{name}(={value}) must be > 0")
        for name in ("items_per_request", "prompt_tokens", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise InputError(f"{name}(={getattr(self, name)}) must be >= 1")
        if self.slo_s is not None and not self.slo_s > 0:
            raise InputError(f"slo_s(={self.slo_s}) must be > 0")

    @property
    def route(self) -> str:
        return urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


@dataclass(slots=True)
class RequestRecord:
    """What happened to one request; times in seconds from the start of the run."""

    index: int
    intended_s: float
    sent_s: float = math.nan
    status: str = "pending"
    """HTTP status code as a string, or ``timeout`` / ``error`` (transport failure)."""
    latency_s: float = math.nan
    """From the scheduled arrival to the last byte of the response."""
    ttft_s: float = math.nan
    tpot_s: float = math.nan
    tokens: int = 0
    server_s: dict[str, float] = field(default_factory=dict)
    """``Server-Timing`` durations in seconds: queue, service, app."""
    retry_after_s: float = math.nan
    """The ``Retry-After`` header (seconds), when the response had one."""


def poisson_arrivals(rate_rps: float, duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """Arrival times in ``[0, duration_s)`` of a Poisson process of rate ``rate_rps``."""
    n_guess = int(rate_rps * duration_s + 10 * math.sqrt(rate_rps * duration_s) + 20)
    times = np.cumsum(rng.exponential(1.0 / rate_rps, size=n_guess))
    while times[-1] < duration_s:  # astronomically rare; extend rather than truncate
        times = np.concatenate([times, times[-1] + np.cumsum(
            rng.exponential(1.0 / rate_rps, size=n_guess))])
    return times[times < duration_s]


def arrival_trace(spec: LoadSpec) -> np.ndarray:
    """The exact arrival times a run of ``spec`` uses (the simulator replays them)."""
    return poisson_arrivals(spec.rate_rps, spec.duration_s, np.random.default_rng(spec.seed))


def _payloads(spec: LoadSpec, n: int, limits: dict[str, int]) -> list[dict[str, Any]]:
    rng = np.random.default_rng([spec.seed, 1])
    if spec.route == "rank":
        users = rng.integers(0, limits["n_users"], size=n)
        items = rng.integers(0, limits["n_items"], size=(n, spec.items_per_request))
        return [{"user": int(u), "items": row.tolist()} for u, row in zip(users, items, strict=True)]
    prompts = rng.integers(32, 127, size=(n, spec.prompt_tokens))  # printable ASCII bytes
    return [{"prompt_tokens": row.tolist(), "max_new_tokens": spec.max_new_tokens, "stream": True}
            for row in prompts]


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


async def _fetch_limits(session: Any, spec: LoadSpec) -> dict[str, int]:
    """Table sizes from ``/v1/info`` so generated ids are valid; small defaults otherwise."""
    try:
        async with session.get(spec.base_url + "/v1/info") as resp:
            info = await resp.json()
        ranker = info["config"]["ranker"]
        return {"n_users": int(ranker["n_users"]), "n_items": int(ranker["n_items"])}
    except Exception:  # a server without /v1/info: ids below these are valid for ours
        return {"n_users": 1000, "n_items": 1000}


async def _send(session: Any, spec: LoadSpec, rec: RequestRecord, payload: dict[str, Any],
                t0: float) -> None:
    import aiohttp

    headers = {} if spec.deadline_ms is None else {"X-Deadline-Ms": f"{spec.deadline_ms:g}"}
    rec.sent_s = time.monotonic() - t0
    try:
        async with session.post(spec.url, json=payload, headers=headers) as resp:
            rec.server_s = parse_server_timing(resp.headers.get("Server-Timing"))
            if "Retry-After" in resp.headers:
                with contextlib.suppress(ValueError):
                    rec.retry_after_s = float(resp.headers["Retry-After"])
            if resp.status == 200 and spec.route == "generate":
                await _read_stream(resp, rec, t0)
            else:
                await resp.read()
            rec.status = str(resp.status)
    except TimeoutError:
        rec.status = "timeout"
    except (aiohttp.ClientError, RunError, ValueError):
        rec.status = "error"
    rec.latency_s = time.monotonic() - t0 - rec.intended_s


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


async def run_load_async(spec: LoadSpec) -> LoadRun:
    """Drive ``spec`` against the server; one record per scheduled arrival."""
    import aiohttp

    arrivals = arrival_trace(spec)
    timeout = aiohttp.ClientTimeout(total=spec.timeout_s)
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        payloads = _payloads(spec, len(arrivals), await _fetch_limits(session, spec))
        records = [RequestRecord(index=i, intended_s=float(t)) for i, t in enumerate(arrivals)]
        t0 = time.monotonic() + 0.05
        tasks = []
        for rec, payload in zip(records, payloads, strict=True):
            delay = t0 + rec.intended_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_send(session, spec, rec, payload, t0)))
        await asyncio.gather(*tasks)
    return LoadRun(records=records, t0_s=t0)


def run_load(spec: LoadSpec) -> LoadRun:
    """Synchronous wrapper of :func:`run_load_async` (its own event loop)."""
    return asyncio.run(run_load_async(spec))


async def run_closed_loop_async(spec: LoadSpec, *, concurrency: int) -> list[RequestRecord]:
    """``concurrency`` clients, each sending its next request when the last returns, for
    ``spec.duration_s`` (``spec.rate_rps`` is ignored): saturation throughput and
    service-time sweeps. Latency here is from the actual send."""
    import aiohttp

    if concurrency < 1:
        raise InputError(f"concurrency(={concurrency}) must be >= 1")
    timeout = aiohttp.ClientTimeout(total=spec.timeout_s)
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        limits = await _fetch_limits(session, spec)
        payloads = _payloads(replace(spec, seed=spec.seed + 1), 4096, limits)  # cycled
        records: list[RequestRecord] = []
        t0 = time.monotonic()

        async def client() -> None:
            while (now := time.monotonic() - t0) < spec.duration_s:
                rec = RequestRecord(index=len(records), intended_s=now)
                records.append(rec)
                await _send(session, spec, rec, payloads[rec.index % len(payloads)], t0)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return records


# ----------------------------------------------------------------------------- report


@dataclass(frozen=True, kw_only=True)
class LoadReport:
    """The simulator's metric set (``serving/sim/results.py``), measured at the client.

    Latencies cover successful (200) requests; ``e2e`` is from the scheduled arrival to
    the last byte, ``ttft``/``tpot`` are measured on the streamed tokens (generate).
    """

    route: str
    offered_rps: float
    duration_s: float
    requests: int
    completed: int
    """200 responses."""
    rejected: int
    """429 responses (shed by admission control)."""
    failed: int
    """Everything else: other statuses, timeouts, transport errors."""
    status_counts: dict[str, int]
    throughput_per_s: float
    """Completed requests per second of offered load."""
    goodput_per_s: float
    """Completed requests within the SLO per second (= throughput without an SLO)."""
    tokens_per_s: float
    """Generated tokens of completed requests per second (generate)."""
    slo_s: float | None
    """Latency SLO (generate: on TTFT)."""
    slo_attainment: float
    """Fraction of all requests that completed within the SLO."""
    e2e: LatencyStats
    ttft: LatencyStats
    tpot: LatencyStats
    client_lag_p99_s: float
    """How late the client sent (sent - scheduled), p99: should be far below latencies."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(records: list[RequestRecord], spec: LoadSpec) -> LoadReport:
    """The report of one run."""
    ok = [r for r in records if r.status == "200"]
    counts = Counter(r.status for r in records)
    ttft = np.array([r.ttft_s for r in ok], dtype=np.float64)
    e2e = np.array([r.latency_s for r in ok], dtype=np.float64)
    slo_metric = ttft if spec.route == "generate" else e2e
    good = int(np.sum(slo_metric <= spec.slo_s)) if spec.slo_s is not None else len(ok)
    lag = np.array([r.sent_s - r.intended_s for r in records if not math.isnan(r.sent_s)])
    return LoadReport(
        route=spec.route, offered_rps=spec.rate_rps, duration_s=spec.duration_s,
        requests=len(records), completed=len(ok), rejected=counts.get("429", 0),
        failed=len(records) - len(ok) - counts.get("429", 0),
        status_counts=dict(sorted(counts.items())),
        throughput_per_s=len(ok) / spec.duration_s, goodput_per_s=good / spec.duration_s,
        tokens_per_s=sum(r.tokens for r in ok) / spec.duration_s, slo_s=spec.slo_s,
        slo_attainment=good / len(records) if records else math.nan,
        e2e=LatencyStats.of(e2e), ttft=LatencyStats.of(ttft),
        tpot=LatencyStats.of(np.array([r.tpot_s for r in ok if r.tokens > 1], dtype=np.float64)),
        client_lag_p99_s=float(np.percentile(lag, 99)) if lag.size else math.nan)


def format_report(report: LoadReport) -> str:
    """A short human-readable rendering."""
    ms = 1e3

    def stats(name: str, s: LatencyStats) -> str:
        return (f"{name} p50 {s.p50_s * ms:.2f} ms, p99 {s.p99_s * ms:.2f} ms, "
                f"p99.9 {s.p999_s * ms:.2f} ms, mean {s.mean_s * ms:.2f} ms")

    lines = [
        f"route {report.route}: offered {report.offered_rps:g} req/s for {report.duration_s:g} s, "
        f"{report.requests} requests",
        "status: " + ", ".join(f"{k}={v}" for k, v in report.status_counts.items()),
        f"throughput {report.throughput_per_s:.1f} req/s, goodput {report.goodput_per_s:.1f} req/s"
        + (f" (SLO {report.slo_s * ms:g} ms, attained by {report.slo_attainment:.1%})"
           if report.slo_s is not None else ""),
        stats("latency", report.e2e),
    ]
    if report.route == "generate":
        lines += [stats("TTFT", report.ttft), stats("TPOT", report.tpot),
                  f"tokens {report.tokens_per_s:.1f}/s"]
    lines.append(f"client lag p99 {report.client_lag_p99_s * ms:.2f} ms")
    return "\n".join(lines)


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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def loadgen_command(url: str, rate_rps: float, duration_s: float, seed: int,
                    items_per_request: int, prompt_tokens: int, max_new_tokens: int,
                    slo_ms: float | None, deadline_ms: float | None, timeout_s: float,
                    as_json: bool) -> None:
    """Open-loop Poisson load against a running `mlfleet serve`; reports latency
    percentiles, TTFT/TPOT, throughput, goodput and status counts (429 included)."""
    spec = LoadSpec(url=url, rate_rps=rate_rps, duration_s=duration_s, seed=seed,
                    items_per_request=items_per_request, prompt_tokens=prompt_tokens,
                    max_new_tokens=max_new_tokens,
                    slo_s=None if slo_ms is None else slo_ms / 1e3, deadline_ms=deadline_ms,
                    timeout_s=timeout_s)
    records = run_load(spec).records
    if records and all(r.status == "error" for r in records):
        raise RunError(f"no response from {url}: is `mlfleet serve` running there?")
    report = summarize(records, spec)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(report.to_dict())
    else:
        click.echo(format_report(report))
