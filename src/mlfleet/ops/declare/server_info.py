"""Ask a running ``mlfleet serve`` for its configuration: ``GET URL/v1/info`` over real HTTP.

Errors, each one line: a URL that is not ``http(s)://host[:port][/prefix]`` and a server
that answers but is not an mlfleet server are bad input (:class:`InputError`, exit 2);
a server that cannot be reached (refused, timed out, reset) is a failed run
(:class:`RunError`, exit 1), since the same command may succeed once it is up.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from mlfleet.errors import InputError, RunError

MAX_INFO_BYTES = 1 << 20
"""Largest ``/v1/info`` answer read (a real one is about 1 kB)."""


class NotAnMlfleetServer(InputError):
    """The URL answers, but not as an mlfleet server's ``/v1/info``."""


class ServerUnreachable(RunError):
    """Nothing answers at the URL (refused, timed out, reset)."""


def base_url(url: str) -> str:
    """``url`` without a trailing slash; :class:`InputError` unless it is an absolute
    http(s) URL with a host and no query or fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or parts.query or parts.fragment or any(c.isspace() for c in url)):
        raise InputError(f"--against(={url!r}) must be an http:// or https:// URL of a "
                         "running mlfleet serve, e.g. http://127.0.0.1:8000")
    return url.rstrip("/")


def fetch_config(url: str, *, timeout_s: float = 5.0) -> Mapping[str, Any]:
    """The ``config`` mapping ``URL/v1/info`` reports (``dataclasses.asdict`` of the
    server's ``ServerConfig``)."""
    info_url = base_url(url) + "/v1/info"
    try:
        with urllib.request.urlopen(info_url, timeout=timeout_s) as resp:  # noqa: S310 - http(s) checked
            body = resp.read(MAX_INFO_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise NotAnMlfleetServer(f"GET {info_url} answered HTTP {exc.code}; {url} is not a "
                                 "running mlfleet serve") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerUnreachable(f"cannot reach {info_url}: {_reason(exc)}") from None
    return _config_of(body, info_url)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.timeout | TimeoutError):
        return "no answer before the timeout"
    return getattr(reason, "strerror", None) or str(reason) or type(reason).__name__


def _config_of(body: bytes, info_url: str) -> Mapping[str, Any]:
    if len(body) > MAX_INFO_BYTES:
        raise NotAnMlfleetServer(f"GET {info_url} answered more than {MAX_INFO_BYTES:,} bytes; "
                                 "not an mlfleet serve")
    try:
        info = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise NotAnMlfleetServer(f"GET {info_url} did not answer JSON; not an mlfleet "
                                 "serve") from None
    config = info.get("config") if isinstance(info, dict) else None
    if not isinstance(config, dict) or not isinstance(config.get("rank"), dict):
        raise NotAnMlfleetServer(f"GET {info_url} answered JSON without a server "
                                 "configuration; not an mlfleet serve")
    return config
