"""HTTP in and out: reading a request (the JSON body, integer fields, the deadline), each
refused with an :class:`HttpError` (400 or 413) whose message names the field and what is
allowed, and :func:`error_middleware`, which renders every error as a JSON body. The
handlers in :mod:`.app` call these; none of them touches server state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from mlfleet.serving.server.batcher import DeadlineExceeded, ShuttingDown
from mlfleet.serving.server.config import ServerConfig


class HttpError(Exception):
    """Raised by handlers; rendered as ``{"error": message}`` with the status and headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


async def read_json(request: web.Request, *, max_body_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; 413 when over ``max_body_bytes``, 400 when malformed."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise HttpError(413, f"body larger than the limit of {max_body_bytes} bytes") from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise HttpError(400, f"body must be a JSON object, got {type(body).__name__}")
    return body


def int_list(body: dict[str, Any], key: str, *, lo: int, hi: int) -> list[int]:
    """``body[key]`` as a non-empty list of integers in [lo, hi); 400 otherwise."""
    value = body.get(key)
    if not isinstance(value, list) or not value:
        raise HttpError(400, f"{key!r} must be a non-empty list of integers, got {value!r:.80}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v < hi:
            raise HttpError(400, f"{key!r} entries must be integers in [{lo}, {hi}), got {v!r:.40}")
    return value


def int_field(body: dict[str, Any], key: str, *, default: int, lo: int) -> int:
    """``body[key]`` (``default`` when absent) as an integer >= lo; 400 otherwise."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise HttpError(400, f"{key!r} must be an integer >= {lo}, got {value!r:.40}")
    return value


def rank_input(body: dict[str, Any], config: ServerConfig) -> tuple[int, list[int]]:
    """A rank request's ``(user, items)``: 400 for ids out of range, 413 for too many items."""
    spec, limit = config.ranker, config.rank.max_items_per_request
    user = int_field(body, "user", default=0, lo=0)
    if user >= spec.n_users:
        raise HttpError(400, f"'user'(={user}) must be < {spec.n_users}")
    items = int_list(body, "items", lo=0, hi=spec.n_items)
    if len(items) > limit:
        raise HttpError(413, f"'items' has {len(items)} entries; at most {limit} allowed")
    return user, items


def deadline_s(request: web.Request, body: dict[str, Any], *, start_s: float,
               default_deadline_s: float | None) -> float | None:
    """Absolute deadline (loop time): ``start_s`` plus ``X-Deadline-Ms`` /
    ``deadline_ms`` / the server's default; None without any."""
    raw: Any = request.headers.get("X-Deadline-Ms", body.get("deadline_ms"))
    if raw is None:
        return None if default_deadline_s is None else start_s + default_deadline_s
    try:
        ms = float(raw)
    except (TypeError, ValueError):
        raise HttpError(400, f"deadline must be a number of milliseconds, got {raw!r:.40}") from None
    if not math.isfinite(ms) or ms <= 0:
        raise HttpError(400, f"deadline(={raw!r:.40}) must be a positive number of milliseconds")
    return start_s + ms / 1000.0


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns :class:`HttpError`, aiohttp's HTTP errors and crashes into JSON error bodies."""
    try:
        return await handler(request)
    except HttpError as exc:
        return web.json_response({"error": str(exc)}, status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response({"error": exc.reason}, status=exc.status)
    except (DeadlineExceeded, ShuttingDown) as exc:
        status = 504 if isinstance(exc, DeadlineExceeded) else 503
        return web.json_response({"error": str(exc)}, status=status)
