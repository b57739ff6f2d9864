"""Per-server counters read from HAProxy's stats socket (``show stat``, CSV)."""

from __future__ import annotations

import csv
import io
import socket
from dataclasses import dataclass
from pathlib import Path

from mlfleet.errors import RunError


@dataclass(frozen=True, kw_only=True)
class ServerStats:
    """One backend server as HAProxy counts it."""

    name: str
    """Server name in the config (``r0``...)."""
    status: str
    """``UP``, ``DOWN``, ``MAINT``, ``no check``... (HAProxy's words)."""
    sessions_total: int
    """Connections/requests HAProxy sent to it since start (``stot``)."""
    sessions_current: int
    """Requests in flight on it now (``scur``)."""
    responses_2xx: int
    """Replies with a 2xx status it returned (``hrsp_2xx``)."""
    responses_5xx: int
    """Replies with a 5xx status it returned (``hrsp_5xx``)."""
    retries: int
    """Requests retried after failing on it (``wretr``)."""
    redispatches: int
    """Requests sent elsewhere after failing on it (``wredis``)."""


def query(stats_socket: Path, command: str, *, timeout_s: float = 2.0) -> str:
    """Send one command to the admin socket and return its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(stats_socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError as exc:
            raise RunError(f"HAProxy stats socket {stats_socket}: {exc}") from None
    return b"".join(chunks).decode()


def _int(row: dict[str, str], key: str) -> int:
    return int(row.get(key) or 0)


def parse_servers(csv_text: str, backend: str) -> tuple[ServerStats, ...]:
    """The servers of ``backend`` in a ``show stat`` CSV answer, in config order."""
    rows = csv.DictReader(io.StringIO(csv_text.lstrip("# ")))
    return tuple(
        ServerStats(name=row["svname"], status=row["status"],
                    sessions_total=_int(row, "stot"), sessions_current=_int(row, "scur"),
                    responses_2xx=_int(row, "hrsp_2xx"), responses_5xx=_int(row, "hrsp_5xx"),
                    retries=_int(row, "wretr"), redispatches=_int(row, "wredis"))
        for row in rows
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND"))


def read_servers(stats_socket: Path, backend: str) -> tuple[ServerStats, ...]:
    """Live per-server counters of ``backend``."""
    return parse_servers(query(stats_socket, "show stat"), backend)
