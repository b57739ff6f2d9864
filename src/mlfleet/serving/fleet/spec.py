"""What a fleet is: how many replicas, how HAProxy balances them, how it checks and retries."""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import one_of, positive, positive_int
from mlfleet.errors import ServingInputError

BALANCES: dict[str, str] = {
    "random2": "random(2)",
    "leastconn": "leastconn",
    "roundrobin": "roundrobin",
    "hash": "hash req.body,json_query('$.user')",
}
"""Our policy names and the HAProxy ``balance`` algorithm each one writes. ``random2`` is
power of two choices (HAProxy draws two servers at random and keeps the one with fewer
requests in flight); ``hash`` is consistent hashing on the session key, the ``user`` of a
``/v1/rank`` body (HAProxy 2.6 ``balance hash`` on a sample expression; the body must be
buffered first, ``option http-buffer-request``)."""

SESSION_KEY = "user"
"""The JSON body field ``balance hash`` keys on (the simulator's ``hash_by``)."""


@dataclass(frozen=True, kw_only=True)
class FleetSpec:
    """N ``mlfleet serve`` replicas behind one HAProxy, validated on construction."""

    replicas: int = 3
    """How many ``mlfleet serve`` processes."""
    balance: str = "random2"
    """One of :data:`BALANCES`."""
    server_args: tuple[str, ...] = ()
    """Extra ``mlfleet serve`` arguments for every replica (``--host``/``--port`` are ours)."""
    haproxy_extra: tuple[str, ...] = ()
    """Extra lines appended to the HAProxy backend section (e.g. ``"timeout queue 2s"``)."""
    check_interval_s: float = 0.5
    """Readiness probe period (``inter``): a dead replica leaves within ``fall`` of these."""
    fall: int = 2
    """Failed probes in a row that mark a replica DOWN."""
    rise: int = 2
    """Passed probes in a row that bring it back UP."""
    retries: int = 2
    """Extra attempts HAProxy makes for a request that failed in a retryable way."""
    connect_timeout_s: float = 1.0
    """``timeout connect``: a replica that does not accept within this has failed."""
    server_timeout_s: float = 30.0
    """``timeout server`` (and client): longest a reply may take."""
    frontend_port: int = 0
    """HAProxy's loopback port (0: any free port, picked at start)."""
    ready_timeout_s: float = 180.0
    """Longest a replica (or HAProxy) may take to become ready before the start fails."""

    def __post_init__(self) -> None:
        positive_int("replicas", self.replicas, error=ServingInputError)
        one_of("balance", self.balance, BALANCES, error=ServingInputError)
        for name in ("check_interval_s", "connect_timeout_s", "server_timeout_s",
                     "ready_timeout_s"):
            positive(name, getattr(self, name), error=ServingInputError)
        positive_int("fall", self.fall, error=ServingInputError)
        positive_int("rise", self.rise, error=ServingInputError)
        positive_int("retries", self.retries, minimum=0, error=ServingInputError)
        positive_int("frontend_port", self.frontend_port, minimum=0, error=ServingInputError)
        if self.frontend_port > 65535:
            raise ServingInputError(f"frontend_port(={self.frontend_port}) must be <= 65535")
        if any(arg in ("--port", "--host") for arg in self.server_args):
            raise ServingInputError(
                f"server_args(={list(self.server_args)!r}) must not set --port or --host: "
                "the fleet picks loopback ports")
