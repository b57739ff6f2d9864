"""Progress messages from a launched rank to the launcher's ``on_progress`` callback.

A rank started by :func:`mlfleet.comm.launch.launch` talks to its parent in JSON
lines on a stream the worker entry point (:mod:`mlfleet.comm.worker`) attaches
here. Job code calls :func:`report_progress`; outside a launch nothing is
attached and the call does nothing. This module depends on nothing else in
mlfleet, so job code and the worker both depend on it and not on each other.
"""

from __future__ import annotations

import json
import threading
from typing import IO, Any

_protocol: IO[str] | None = None
_protocol_lock = threading.Lock()


def attach(stream: IO[str]) -> None:
    """Send every later message (progress and the worker's own events) to ``stream``."""
    global _protocol
    _protocol = stream


def emit(message: dict[str, Any]) -> None:
    """Write one JSON line to the attached stream (nothing when none is attached)."""
    if _protocol is None:
        return
    with _protocol_lock:
        _protocol.write(json.dumps(message) + "\n")
        _protocol.flush()


def report_progress(**payload: Any) -> None:
    """Tell the launcher's ``on_progress`` callback something (no-op outside a launch)."""
    emit({"event": "progress", "payload": payload})
