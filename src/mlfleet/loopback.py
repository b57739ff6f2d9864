"""Loopback ports for the real services a command starts (HAProxy, Redis, replicas)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice). Another
    process may take it before the caller binds it; services started on it report a failed
    bind, and callers give a clear error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
