"""The rank path's resilience: a circuit breaker and a bulkhead in front of the primary
ranker, and a fallback chain behind it (a popularity scorer → a cached reply → a default
ranking), as one aiohttp middleware on ``POST /v1/rank``.

The primary is skipped when its breaker is open (reason ``breaker_open``) or its
bulkhead is full (``overload``); it is tried otherwise, and its answer replaced when it
raises or answers 5xx (``error``), sheds with 429 (``overload``) or misses the deadline
with 504 (``deadline``). Client errors (400, 413) pass through untouched, and a server
that is not ready still answers 503 (a load balancer must take it out, not be fooled by
fallbacks). Every rank reply carries ``X-Served-By`` (``primary``, ``popularity``,
``cache`` or ``default``); with fallback enabled its body says so too (``served_by``,
``fallback_reason``). ``/metrics`` gains the breaker state and fallback counts per tier
and reason. With fallback disabled only the injected fault acts (:mod:`.faults`).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from mlfleet.reliability.resilience.breaker import BreakerState, CircuitBreaker
from mlfleet.reliability.resilience.bulkhead import AsyncBulkhead, BulkheadConfig
from mlfleet.reliability.resilience.fallback import (
    PRIMARY,
    REASON_HEADER,
    SERVED_BY_HEADER,
    FallbackChain,
    FallbackReason,
    ResponseCache,
)
from mlfleet.serving.server.batcher import DeadlineExceeded, ShuttingDown
from mlfleet.serving.server.config import ServerConfig
from mlfleet.serving.server.faults import FaultInjector, InjectedFault, fault_handlers
from mlfleet.serving.server.http_io import HttpError, rank_input, read_json
from mlfleet.serving.server.metrics import Registry

RankKey = tuple[int, tuple[int, ...]]
Reply = dict[str, Any]
_REASON_OF_STATUS = {429: FallbackReason.OVERLOAD, 504: FallbackReason.DEADLINE}


def popularity_scores(items: tuple[int, ...]) -> list[float]:
    """The cheap model: a popularity prior, ``-log(1 + item id)`` (ids are assigned in
    order of popularity, as a Zipf catalogue is): no embedding, no MLP, O(items)."""
    return [-math.log1p(item) for item in items]


def ranked(items: tuple[int, ...], scores: list[float]) -> Reply:
    order = sorted(range(len(items)), key=lambda i: -scores[i])
    return {"scores": scores, "ranking": [items[i] for i in order], "batch_size": 0}


@dataclass
class RankResilience:
    """One server's breaker, bulkhead, cache, chain and fault, and their metrics."""

    config: ServerConfig
    breaker: CircuitBreaker
    bulkhead: AsyncBulkhead
    cache: ResponseCache[RankKey, Reply]
    chain: FallbackChain[RankKey, Reply]
    faults: FaultInjector
    registry: Registry

    @classmethod
    def build(cls, config: ServerConfig, registry: Registry) -> RankResilience:
        spec = config.rank_fallback
        cache: ResponseCache[RankKey, Reply] = ResponseCache(spec.cache_entries)
        faults = FaultInjector(spec.fault)

        def popularity(key: RankKey) -> Reply | None:
            faults.apply_sync("popularity")
            return ranked(key[1], popularity_scores(key[1]))

        chain: FallbackChain[RankKey, Reply] = FallbackChain([
            ("popularity", popularity), ("cache", cache.get),
            ("default", lambda key: ranked(key[1], [0.0] * len(key[1])))])
        self = cls(config=config, breaker=CircuitBreaker(spec.breaker),
                   bulkhead=AsyncBulkhead(BulkheadConfig(max_concurrent=spec.max_concurrent)),
                   cache=cache, chain=chain, faults=faults, registry=registry)
        self._register_metrics()
        return self

    def _register_metrics(self) -> None:
        state = self.registry.gauge("mlfleet_circuit_breaker_state",
                                    "1 for the breaker's current state, else 0.",
                                    ["breaker", "state"])
        for s in BreakerState:
            state.set_function(self._is_state(s), breaker="ranker", state=s.value)
        self.fallbacks = self.registry.counter(
            "mlfleet_fallback_total", "Rank replies not served by the primary ranker.",
            ["route", "served_by", "reason"])
        self.injected = self.registry.gauge("mlfleet_injected_faults",
                                            "Calls hit by an injected fault (admin endpoint).")
        self.injected.set_function(lambda: float(self.faults.injected_total))

    def _is_state(self, state: BreakerState) -> Callable[[], float]:
        return lambda: float(self.breaker.state is state)


RESILIENCE = web.AppKey("mlfleet_rank_resilience", RankResilience)


def install(app: web.Application, config: ServerConfig, registry: Registry) -> None:
    """Attach the rank path's resilience state and the ``/admin/fault`` endpoint."""
    resilience = app[RESILIENCE] = RankResilience.build(config, registry)
    get, post = fault_handlers(resilience.faults)
    app.router.add_get("/admin/fault", get)
    app.router.add_post("/admin/fault", post)


@web.middleware
async def rank_resilience_middleware(request: web.Request,
                                     handler: Handler) -> web.StreamResponse:
    """Guards ``POST /v1/rank`` (see the module docstring); other routes pass through."""
    if request.path != "/v1/rank" or request.method != "POST":
        return await handler(request)
    res = request.app[RESILIENCE]
    if not res.config.rank_fallback.enabled:
        try:
            await res.faults.apply(PRIMARY)
        except InjectedFault as exc:
            raise HttpError(500, str(exc)) from None
        return _tagged(await handler(request), PRIMARY)
    return await _guarded(request, handler, res)


async def _guarded(request: web.Request, handler: Handler,
                   res: RankResilience) -> web.StreamResponse:
    ticket = res.breaker.try_acquire()
    if ticket is None:
        return await _fallback(request, res, FallbackReason.BREAKER_OPEN)
    if not await res.bulkhead.acquire():
        res.breaker.on_ignored(ticket)
        return await _fallback(request, res, FallbackReason.OVERLOAD)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        response, status = await _call_primary(request, handler, res)
    except BaseException:  # not ready, the client's mistake, the client gone: no verdict
        res.breaker.on_ignored(ticket)  # (a lost probe would hold half-open forever)
        raise
    finally:
        res.bulkhead.release()
    return await _settle(request, res, ticket, response, status, loop.time() - t0)


async def _call_primary(request: web.Request, handler: Handler,
                        res: RankResilience) -> tuple[web.StreamResponse | None, int]:
    """The primary's reply and status, or ``None`` and the status it failed with; raises
    what the client must see unchanged (503 not ready or stopping, 400, 413)."""
    try:
        await res.faults.apply(PRIMARY)
        response = await handler(request)
    except HttpError as exc:
        if exc.status == 503 or exc.status < 500 and exc.status not in _REASON_OF_STATUS:
            raise
        return None, exc.status
    except DeadlineExceeded:
        return None, 504
    except ShuttingDown:
        raise
    except Exception:  # the primary crashed (or an injected fault): fall back
        return None, 500
    return response, response.status


async def _settle(request: web.Request, res: RankResilience, ticket: int,
                  response: web.StreamResponse | None, status: int,
                  duration_s: float) -> web.StreamResponse:
    """Report the primary's outcome to the breaker; its reply or a fallback."""
    if status == 429:
        res.breaker.on_ignored(ticket)  # shed before it ran: says nothing of its health
    elif status >= 500 or response is None:
        res.breaker.on_failure(ticket, duration_s=duration_s)
    else:
        res.breaker.on_success(ticket, duration_s=duration_s)
    if response is None or status >= 500 or status == 429:
        return await _fallback(request, res, _REASON_OF_STATUS.get(status, FallbackReason.ERROR))
    if status != 200 or not isinstance(response, web.Response) or response.body is None:
        return response
    reply = json.loads(bytes(response.body))  # type: ignore[arg-type]
    key = await _key(request, res.config)
    res.cache.put(key, reply)
    return _reply(reply | {"served_by": PRIMARY}, PRIMARY, None, response.headers)


async def _fallback(request: web.Request, res: RankResilience,
                    reason: FallbackReason) -> web.StreamResponse:
    served = res.chain.serve(await _key(request, res.config), reason)
    res.fallbacks.inc(route="rank", served_by=served.served_by, reason=reason.value)
    body = served.value | {"served_by": served.served_by, "fallback_reason": reason.value}
    return _reply(body, served.served_by, reason, {})


async def _key(request: web.Request, config: ServerConfig) -> RankKey:
    body = await read_json(request, max_body_bytes=config.max_body_bytes)
    user, items = rank_input(body, config)
    return user, tuple(items)


def _reply(body: Reply, served_by: str, reason: FallbackReason | None,
           headers: Any) -> web.Response:
    out = {k: v for k, v in dict(headers).items() if k.lower() in ("server-timing",)}
    out[SERVED_BY_HEADER] = served_by
    if reason is not None:
        out[REASON_HEADER] = reason.value
    return web.json_response(body, headers=out)


def _tagged(response: web.StreamResponse, served_by: str) -> web.StreamResponse:
    response.headers[SERVED_BY_HEADER] = served_by
    return response
