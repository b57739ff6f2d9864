"""The HTTP application: routes, middleware chain, lifecycle.

Endpoints (JSON unless stated):

====================  =====================================================================
``POST /v1/rank``     ``{"user": int, "items": [int, ...], "deadline_ms"?: float,
                      "priority"?: int}`` ->
                      ``{"scores", "ranking", "batch_size"}`` (dynamic batching)
``POST /v1/generate`` ``{"prompt": str | "prompt_tokens": [int], "max_new_tokens"?: int,
                      "stream"?: bool, "deadline_ms"?: float}`` -> ``{"tokens", "text",
                      "ttft_s", "tpot_s", ...}``; with ``stream`` an NDJSON line per token
                      (continuous batching)
``GET /healthz``      liveness: 200 while the loop runs and no batcher has died
``GET /readyz``       readiness: 200 once the models are loaded and warm and every
                      readiness check passes, else 503 with the reasons
``GET /metrics``      Prometheus text exposition format
``GET /v1/stats``     executed batches (``?since=SEQ``), for calibration
``GET /v1/info``      device, model shapes, batching and admission settings, process id
====================  =====================================================================

Status codes: 400 malformed input, 413 body / items / prompt too large, 429 shed by
admission control (with ``Retry-After``), 503 not ready or stopping, 504 the deadline
(``X-Deadline-Ms`` header or ``deadline_ms`` field, milliseconds from arrival) passed
while the request was still queued. Every response to a model route carries a
``Server-Timing`` header (``queue``, ``service`` and ``app`` durations in ms).

The seam for resilience: :func:`create_app` takes extra ``middlewares`` (aiohttp's
handler chain, innermost last) — a circuit breaker, a fallback chain or a hedging layer
wraps the model routes there — and named ``readiness_checks`` (probes of dependencies).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from mlfleet.errors import RunError
from mlfleet.serving.server.admission import (
    AdmissionDecision,
    AdmissionPolicy,
    LoadView,
    make_policy,
    retry_after_header,
)
from mlfleet.serving.server.batcher import (
    BatchRecord,
    ContinuousBatcher,
    DeadlineExceeded,
    DynamicBatcher,
    GenerationItem,
    ItemState,
    WorkItem,
    _Batcher,
)
from mlfleet.serving.server.config import ServerConfig
from mlfleet.serving.server.http_io import (
    HttpError,
    deadline_s,
    error_middleware,
    int_field,
    int_list,
    rank_input,
    read_json,
)
from mlfleet.serving.server.metrics import CONTENT_TYPE, Registry
from mlfleet.serving.server.rank_fallback import install as install_rank_fallback
from mlfleet.serving.server.rank_fallback import rank_resilience_middleware
from mlfleet.serving.server.runner import ModelRunner, RankInput

ReadinessCheck = Callable[[], bool]


class ServerMetrics:
    """The server's Prometheus metrics."""

    def __init__(self, registry: Registry, config: ServerConfig) -> None:
        r = registry
        self.requests = r.counter("mlfleet_http_requests_total", "HTTP requests by route and status code.",
                                  ["route", "code"])
        self.latency = r.histogram("mlfleet_http_request_duration_seconds",
                                   "Time from request start to response end.", ["route", "code"])
        self.shed = r.counter("mlfleet_admission_rejected_total",
                              "Requests shed by admission control (429).", ["route"])
        self.expired = r.counter("mlfleet_deadline_exceeded_total",
                                 "Requests whose deadline passed while queued (504).", ["route"])
        self.queue_wait = r.histogram("mlfleet_queue_wait_seconds",
                                      "Time from enqueue to dispatch.", ["route"])
        self.queue_depth = r.gauge("mlfleet_queue_depth", "Requests waiting to be batched.", ["route"])
        self.running = r.gauge("mlfleet_running", "Requests in service.", ["route"])
        sizes = [float(b) for b in range(1, max(config.rank.max_batch_size,
                                                config.generate.max_running) + 1)]
        self.batch_size = r.histogram("mlfleet_batch_size", "Requests per executed batch/iteration.",
                                      ["route"], buckets=sizes)
        self.batch_seconds = r.histogram("mlfleet_batch_duration_seconds",
                                         "Busy time per batch/iteration (dispatch to results).",
                                         ["route"])
        self.tokens = r.counter("mlfleet_generated_tokens_total", "Tokens generated.")
        self.ttft = r.histogram("mlfleet_time_to_first_token_seconds",
                                "Arrival to first token (generate).")
        self.tpot = r.histogram("mlfleet_time_per_output_token_seconds",
                                "Mean time between output tokens per request (generate).")
        self.ready = r.gauge("mlfleet_ready", "1 when the server is ready to serve.")


class ServerState:
    """Everything one running application holds; stored under :data:`STATE`."""

    def __init__(self, config: ServerConfig, *, admission: AdmissionPolicy,
                 readiness_checks: Mapping[str, ReadinessCheck]) -> None:
        self.config = config
        self.admission = admission
        self.readiness_checks = dict(readiness_checks)
        self.registry = Registry()
        self.metrics = ServerMetrics(self.registry, config)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlfleet-model")
        self.runner: ModelRunner | None = None
        self.rank: DynamicBatcher | None = None
        self.generate: ContinuousBatcher | None = None
        self.load_error: str | None = None
        self.loader: asyncio.Task[None] | None = None
        self.records: deque[tuple[int, BatchRecord]] = deque(maxlen=config.stats_capacity)
        self.next_seq = 0

    @property
    def ready(self) -> bool:
        return not self.not_ready_reasons()

    def not_ready_reasons(self) -> list[str]:
        reasons = []
        if self.load_error is not None:
            reasons.append(f"model load failed: {self.load_error}")
        elif self.runner is None:
            reasons.append("model loading")
        for batcher in self.batchers():
            if not batcher.alive:
                reasons.append(f"batcher {batcher.route} not running")
        reasons += [f"check {name} failing" for name, check in self.readiness_checks.items()
                    if not check()]
        return reasons

    def batchers(self) -> list[_Batcher]:
        return [b for b in (self.rank, self.generate) if b is not None]

    def record(self, rec: BatchRecord) -> None:
        self.records.append((self.next_seq, rec))
        self.next_seq += 1
        self.metrics.batch_size.observe(rec.size + rec.prefill, route=rec.route)
        self.metrics.batch_seconds.observe(rec.cycle_s, route=rec.route)


STATE = web.AppKey("mlfleet_state", ServerState)
T0 = web.RequestKey("mlfleet_t0", float)
"""Loop time at which the outermost middleware saw the request."""


# ----------------------------------------------------------------------------- middleware


def _route_name(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: counts every request by route and final status, and times it."""
    loop = asyncio.get_running_loop()
    t0 = request[T0] = loop.time()
    code = 500
    try:
        response = await handler(request)
        code = response.status
    except web.HTTPException as exc:
        code = exc.status
        raise
    finally:
        metrics = request.app[STATE].metrics
        route = _route_name(request)
        metrics.requests.inc(route=route, code=str(code))
        metrics.latency.observe(loop.time() - t0, route=route, code=str(code))
    return response


def _deadline(request: web.Request, body: dict[str, Any], state: ServerState) -> float | None:
    """The request's absolute deadline (loop time), from its arrival at the middleware."""
    start_s = request.get(T0, asyncio.get_running_loop().time())
    return deadline_s(request, body, start_s=start_s,
                      default_deadline_s=state.config.default_deadline_s)


# ----------------------------------------------------------------------------- model routes


def _ready_state(request: web.Request) -> ServerState:
    state = request.app[STATE]
    if state.runner is None or state.rank is None or state.generate is None:
        raise HttpError(503, "not ready: " + "; ".join(state.not_ready_reasons()),
                        {"Retry-After": "1"})
    return state


def _admit(state: ServerState, batcher: _Batcher, body: dict[str, Any], *, user: int,
           prompt_tokens: int = 1, output_tokens: int = 1) -> AdmissionDecision:
    """Ask the admission policy; 429 with ``Retry-After`` when it sheds."""
    priority = int_field(body, "priority", default=0, lo=0)
    load = LoadView(queued=batcher.queued, running=batcher.running,
                    queue_capacity=batcher.queue_capacity, served_per_s=batcher.served_per_s_ewma,
                    user=user, priority=priority, prompt_tokens=prompt_tokens,
                    output_tokens=output_tokens)
    decision = state.admission.decide(load)
    if not decision.admitted:
        state.metrics.shed.inc(route=batcher.route)
        raise HttpError(429, f"over capacity: {decision.reason}",
                        {"Retry-After": retry_after_header(decision.retry_after_s)})
    return decision


async def _wait_started(state: ServerState, batcher: _Batcher, item: WorkItem) -> None:
    """Wait until the item leaves the queue; 504 if its deadline passes first."""
    if item.deadline_s is not None and not item.started.done():
        timeout_s = item.deadline_s - asyncio.get_running_loop().time()
        await asyncio.wait({item.started}, timeout=max(0.0, timeout_s))
        if not item.started.done() and batcher.cancel(item):
            item.started.cancel()
            item.done.cancel()
            state.metrics.expired.inc(route=batcher.route)
            raise HttpError(504, "deadline exceeded in queue")
    try:
        await item.started
    except DeadlineExceeded:
        state.metrics.expired.inc(route=batcher.route)
        raise


def _server_timing(request: web.Request, item: WorkItem) -> dict[str, str]:
    """Where the time went (ms): before the queue, in it, in service, after, in total."""
    now = asyncio.get_running_loop().time()
    t0 = request[T0]
    parts = {"pre": item.enqueued_s - t0, "queue": item.dispatched_s - item.enqueued_s,
             "service": item.finished_s - item.dispatched_s, "post": now - item.finished_s,
             "app": now - t0}
    return {"Server-Timing": ", ".join(f"{k};dur={v * 1e3:.3f}" for k, v in parts.items())}


async def rank_handler(request: web.Request) -> web.StreamResponse:
    """``POST /v1/rank``: score candidate items for a user (dynamic batching)."""
    state = _ready_state(request)
    assert state.rank is not None and state.runner is not None
    body = await read_json(request, max_body_bytes=state.config.max_body_bytes)
    user, items = rank_input(body, state.config)
    deadline = _deadline(request, body, state)
    decision = _admit(state, state.rank, body, user=user)
    try:
        item = state.rank.submit(RankInput(user=user, items=tuple(items)), deadline_s=deadline)
        await _wait_started(state, state.rank, item)
        scores: list[float] = await item.done
    finally:
        state.admission.on_finish(decision)
    state.metrics.queue_wait.observe(item.dispatched_s - item.enqueued_s, route="rank")
    ranking = [items[i] for i in sorted(range(len(items)), key=lambda i: -scores[i])]
    return web.json_response({"scores": scores, "ranking": ranking, "batch_size": item.batch_size},
                             headers=_server_timing(request, item))


def _parse_prompt(body: dict[str, Any], state: ServerState) -> tuple[tuple[int, ...], int, bool]:
    cfg, vocab = state.config.generate, state.config.gpt.vocab_size
    if "prompt_tokens" in body:
        prompt = int_list(body, "prompt_tokens", lo=0, hi=vocab)
    elif isinstance(body.get("prompt"), str) and body["prompt"]:
        prompt = list(body["prompt"].encode("utf-8"))
    else:
        raise HttpError(400, "give 'prompt' (non-empty string) or 'prompt_tokens' (list of ints)")
    if len(prompt) > cfg.max_prompt_tokens:
        raise HttpError(413, f"prompt has {len(prompt)} tokens; at most {cfg.max_prompt_tokens}")
    max_new = int_field(body, "max_new_tokens", default=16, lo=1)
    if max_new > cfg.max_new_tokens:
        raise HttpError(413, f"'max_new_tokens'(={max_new}) exceeds {cfg.max_new_tokens}")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise HttpError(400, f"'stream' must be true or false, got {stream!r:.40}")
    return tuple(prompt), max_new, stream


def _generation_summary(item: GenerationItem) -> dict[str, Any]:
    n = len(item.generated)
    ttft_s = item.first_token_s - item.enqueued_s
    tpot_s = (item.finished_s - item.first_token_s) / (n - 1) if n > 1 else 0.0
    return {"tokens": list(item.generated),
            "text": bytes(item.generated).decode("utf-8", errors="replace"),
            "ttft_s": ttft_s, "tpot_s": tpot_s, "queue_s": item.dispatched_s - item.enqueued_s,
            "latency_s": item.finished_s - item.enqueued_s}


async def generate_handler(request: web.Request) -> web.StreamResponse:
    """``POST /v1/generate``: greedy generation (continuous batching), optionally streamed."""
    state = _ready_state(request)
    assert state.generate is not None
    body = await read_json(request, max_body_bytes=state.config.max_body_bytes)
    prompt, max_new, stream = _parse_prompt(body, state)
    user = int_field(body, "user", default=0, lo=0)
    deadline = _deadline(request, body, state)
    decision = _admit(state, state.generate, body, user=user, prompt_tokens=len(prompt),
                      output_tokens=max_new)
    item = state.generate.submit(prompt, max_new_tokens=max_new, deadline_s=deadline)
    try:
        await _wait_started(state, state.generate, item)
        if stream:
            return await _stream_tokens(request, item)
        await item.done
    finally:
        if item.state in (ItemState.QUEUED, ItemState.RUNNING):
            state.generate.abandon(item)
        state.admission.on_finish(decision)
    _observe_generation(state, item)
    return web.json_response(_generation_summary(item), headers=_server_timing(request, item))


async def _stream_tokens(request: web.Request, item: GenerationItem) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    while (token := await item.tokens.get()) is not None:
        await response.write(json.dumps({"token": token}).encode() + b"\n")
    if not item.done.done() or item.done.exception() is not None:
        await response.write(json.dumps({"error": "generation failed"}).encode() + b"\n")
    else:
        _observe_generation(request.app[STATE], item)
        summary = _generation_summary(item) | {"done": True}
        await response.write(json.dumps(summary).encode() + b"\n")
    await response.write_eof()
    return response


def _observe_generation(state: ServerState, item: GenerationItem) -> None:
    summary = _generation_summary(item)
    state.metrics.tokens.inc(len(item.generated))
    state.metrics.ttft.observe(summary["ttft_s"])
    state.metrics.tpot.observe(summary["tpot_s"])
    state.metrics.queue_wait.observe(summary["queue_s"], route="generate")


# ----------------------------------------------------------------------------- ops routes


async def healthz_handler(request: web.Request) -> web.StreamResponse:
    """Liveness: the loop answers, and no started batcher has died."""
    state = request.app[STATE]
    dead = [b.route for b in state.batchers() if not b.alive]
    if dead or state.load_error:
        return web.json_response({"alive": False, "dead_batchers": dead,
                                  "load_error": state.load_error}, status=500)
    return web.json_response({"alive": True})


async def readyz_handler(request: web.Request) -> web.StreamResponse:
    """Readiness: models loaded and warm, batchers running, every readiness check passing."""
    reasons = request.app[STATE].not_ready_reasons()
    return web.json_response({"ready": not reasons, "reasons": reasons},
                             status=503 if reasons else 200)


async def metrics_handler(request: web.Request) -> web.StreamResponse:
    """Prometheus text exposition format."""
    state = request.app[STATE]
    state.metrics.ready.set(1.0 if state.ready else 0.0)
    return web.Response(body=state.registry.render().encode(),
                        headers={"Content-Type": CONTENT_TYPE})


async def stats_handler(request: web.Request) -> web.StreamResponse:
    """Executed batches with sequence number > ``since`` (default: all kept)."""
    state = request.app[STATE]
    try:
        since = int(request.query.get("since", "-1"))
    except ValueError:
        raise HttpError(400, f"since(={request.query['since']!r:.40}) must be an integer") from None
    fields = ("route", "dispatched_s", "size", "prefill", "cycle_s", "run_s")
    rows = [[seq, *(getattr(rec, f) for f in fields)] for seq, rec in state.records if seq > since]
    return web.json_response({"fields": ["seq", *fields], "records": rows,
                              "next": state.next_seq - 1})


async def info_handler(request: web.Request) -> web.StreamResponse:
    """Device, model shapes, batching/admission settings, and the server's process id
    (calibration on the same host separates the server's CPU time from other work)."""
    import dataclasses
    import os

    state = request.app[STATE]
    cfg = dataclasses.asdict(state.config)
    device = str(state.runner.device) if state.runner is not None else None
    return web.json_response({"device": device, "config": cfg, "pid": os.getpid()})


# ----------------------------------------------------------------------------- lifecycle


async def _load(app: web.Application) -> None:
    state = app[STATE]
    loop = asyncio.get_running_loop()

    def build() -> ModelRunner:
        runner = ModelRunner(state.config)
        if state.config.warmup:
            runner.warmup()
        return runner

    try:
        runner = await loop.run_in_executor(state.executor, build)
    except Exception as exc:  # reported by /readyz and /healthz, not fatal to the loop
        state.load_error = f"{type(exc).__name__}: {exc}"
        return
    state.rank = DynamicBatcher(config=state.config.rank, runner=runner, executor=state.executor,
                                on_batch=state.record)
    state.generate = ContinuousBatcher(config=state.config.generate, runner=runner,
                                       executor=state.executor, on_batch=state.record)
    for batcher in state.batchers():
        batcher.start()
        state.metrics.queue_depth.set_function(_reader(batcher, "queued"), route=batcher.route)
        state.metrics.running.set_function(_reader(batcher, "running"), route=batcher.route)
    state.runner = runner


def _reader(batcher: _Batcher, attribute: str) -> Callable[[], float]:
    return lambda: float(getattr(batcher, attribute))


async def _on_startup(app: web.Application) -> None:
    state = app[STATE]
    state.loader = asyncio.get_running_loop().create_task(_load(app), name="mlfleet-model-load")


async def _on_cleanup(app: web.Application) -> None:
    state = app[STATE]
    if state.loader is not None:
        state.loader.cancel()
        await asyncio.gather(state.loader, return_exceptions=True)
    for batcher in state.batchers():
        await batcher.stop()
    state.executor.shutdown(wait=True, cancel_futures=True)


async def wait_ready(app: web.Application, *, timeout_s: float = 60.0) -> None:
    """Wait for the model load to finish (tests and the CLI use it); RunError if it failed."""
    state = app[STATE]
    if state.loader is not None:
        await asyncio.wait_for(asyncio.shield(state.loader), timeout_s)
    if state.load_error is not None:
        raise RunError(f"model load failed: {state.load_error}")


def create_app(config: ServerConfig | None = None, *, middlewares: Sequence[Middleware] = (),
               readiness_checks: Mapping[str, ReadinessCheck] | None = None,
               admission: AdmissionPolicy | None = None) -> web.Application:
    """Build the application; models load in the background after startup (see ``/readyz``).

    ``middlewares`` run inside the metrics and error layers, in order (the last is
    innermost): the seam for circuit breakers, fallbacks and other resilience layers.
    """
    config = config or ServerConfig()
    app = web.Application(client_max_size=config.max_body_bytes,
                          middlewares=[metrics_middleware, error_middleware,
                                       rank_resilience_middleware, *middlewares])
    policy = admission or make_policy(config.admission, dict(config.admission_params))
    app[STATE] = ServerState(config, admission=policy,
                             readiness_checks=readiness_checks or {})
    install_rank_fallback(app, config, app[STATE].registry)  # breaker, fallbacks, /admin/fault
    app.router.add_post("/v1/rank", rank_handler)
    app.router.add_post("/v1/generate", generate_handler)
    app.router.add_get("/healthz", healthz_handler)
    app.router.add_get("/readyz", readyz_handler)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/v1/stats", stats_handler)
    app.router.add_get("/v1/info", info_handler)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app
