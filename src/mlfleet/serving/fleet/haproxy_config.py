"""The HAProxy configuration for a fleet, as a pure function of its spec and ports.

Each line is explained in docs/serving-fleet.md. The choices that matter:

* health checks probe ``GET /readyz`` (not ``/healthz``): a replica still loading its
  models is alive but must not take traffic;
* ``retry-on conn-failure empty-response 503`` with ``option redispatch 1``: retry only
  when the replica never took the request (refused connection), died holding it (closed
  without a reply) or said it is not ready (503), and send the retry to *another*
  replica (without redispatch HAProxy retries the same dead server, REAL-COMPONENTS.md).
  Not ``response-timeout`` nor 429/504: a slow or saturated replica would then do the
  work twice and the retries would add load exactly when there is none to spare.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlfleet.serving.fleet.spec import BALANCES, FleetSpec

BACKEND = "replicas"
"""The backend's name in the config and in the stats (``pxname``)."""


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1e3))}ms"


def server_name(index: int) -> str:
    """The name replica ``index`` has in the config and the stats (``r0``, ``r1``...)."""
    return f"r{index}"


def server_id(index: int) -> int:
    """The numeric ``id`` replica ``index`` has in the config (1, 2...): HAProxy places
    a server's points on its consistent-hash ring from its id and weight, so both are
    written out (:mod:`mlfleet.serving.lb.haproxy_chash` builds the same ring)."""
    return index + 1


def _balance_lines(balance: str) -> list[str]:
    lines = [f"    balance {BALANCES[balance]}"]
    if balance == "hash":
        lines += ["    hash-type consistent", "    option http-buffer-request"]
    return lines


def render_config(spec: FleetSpec, *, frontend_port: int, replica_ports: Sequence[int],
                  stats_socket: Path) -> str:
    """The ``haproxy.cfg`` text: one loopback frontend, one backend of ``replica_ports``."""
    servers = [f"    server {server_name(i)} 127.0.0.1:{port} check id {server_id(i)} weight 1"
               for i, port in enumerate(replica_ports)]
    lines = [
        "global",
        f"    stats socket {stats_socket} mode 600 level admin",
        "    maxconn 4096",
        "",
        "defaults",
        "    mode http",
        f"    timeout connect {_ms(spec.connect_timeout_s)}",
        f"    timeout client {_ms(spec.server_timeout_s)}",
        f"    timeout server {_ms(spec.server_timeout_s)}",
        f"    timeout check {_ms(spec.connect_timeout_s)}",
        f"    retries {spec.retries}",
        "    retry-on conn-failure empty-response 503",
        "    option redispatch 1",
        "",
        "frontend fleet",
        f"    bind 127.0.0.1:{frontend_port}",
        f"    default_backend {BACKEND}",
        "",
        f"backend {BACKEND}",
        *_balance_lines(spec.balance),
        "    option httpchk GET /readyz",
        "    http-check expect status 200",
        f"    default-server inter {_ms(spec.check_interval_s)} fall {spec.fall} "
        f"rise {spec.rise}",
        *servers,
        *(f"    {line}" for line in spec.haproxy_extra),
    ]
    return "\n".join(lines) + "\n"
