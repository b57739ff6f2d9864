"""Injected faults on the rank path and the loopback-only admin endpoint that sets them.

``POST /admin/fault`` with ``{"mode": "fail" | "slow" | "none", "delay_ms"?: float,
"fraction"?: float, "target"?: "primary" | "models", "seed"?: int}`` replaces the fault;
``GET /admin/fault`` shows it. Requests from anywhere but 127.0.0.1 / ::1 get 403: a
fault switch must never be reachable from outside the host.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import numpy as np
from aiohttp import web

from mlfleet.errors import InputError
from mlfleet.serving.server.http_io import HttpError, read_json
from mlfleet.serving.server.resilience_config import FaultSpec

LOOPBACK = ("127.0.0.1", "::1")


class InjectedFault(Exception):
    """Raised in place of a model's answer while a ``fail`` fault is on."""


class FaultInjector:
    """The current fault and its seeded coin."""

    def __init__(self, spec: FaultSpec) -> None:
        self.set(spec)
        self.injected_total = 0

    def set(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._rng = np.random.default_rng(spec.seed)

    def hits(self, model: str) -> bool:
        """Whether this call of ``model`` (``primary`` or a fallback model) is hit."""
        spec = self.spec
        if spec.mode == "none" or (model != "primary" and spec.target == "primary"):
            return False
        return spec.fraction >= 1.0 or bool(self._rng.random() < spec.fraction)

    async def apply(self, model: str) -> None:
        """Delay or fail this call of ``model`` as the fault says (no-op without one)."""
        if not self.hits(model):
            return
        self.injected_total += 1
        if self.spec.mode == "slow":
            await asyncio.sleep(self.spec.delay_s)
        else:
            raise InjectedFault(f"injected fault: {model} model failed")

    def apply_sync(self, model: str) -> None:
        """:meth:`apply` for a synchronous model: ``slow`` cannot sleep there and is skipped."""
        if self.spec.mode == "fail" and self.hits(model):
            self.injected_total += 1
            raise InjectedFault(f"injected fault: {model} model failed")


def _spec_from_body(body: dict[str, Any]) -> FaultSpec:
    known = {"mode", "delay_ms", "fraction", "target", "seed"}
    if unknown := sorted(set(body) - known):
        raise HttpError(400, f"unknown fault fields {unknown}; known: {sorted(known)}")
    fields = {k: v for k, v in body.items() if k != "delay_ms"}
    if "delay_ms" in body:
        if not isinstance(body["delay_ms"], int | float) or isinstance(body["delay_ms"], bool):
            raise HttpError(400, f"'delay_ms' must be a number, got {body['delay_ms']!r:.40}")
        fields["delay_s"] = body["delay_ms"] / 1e3
    try:
        return FaultSpec(**fields)
    except (InputError, TypeError) as exc:
        raise HttpError(400, str(exc)) from None


def fault_handlers(injector: FaultInjector) -> tuple[Any, Any]:
    """``(GET handler, POST handler)`` of ``/admin/fault`` for ``injector``."""

    def guard(request: web.Request) -> None:
        if request.remote not in LOOPBACK:
            raise HttpError(403, "the admin endpoint answers loopback clients only")

    async def get(request: web.Request) -> web.StreamResponse:
        guard(request)
        return web.json_response(dataclasses.asdict(injector.spec)
                                 | {"injected_total": injector.injected_total})

    async def post(request: web.Request) -> web.StreamResponse:
        guard(request)
        injector.set(_spec_from_body(await read_json(request, max_body_bytes=4096)))
        return web.json_response(dataclasses.asdict(injector.spec))

    return get, post
