"""How a server stops: SIGTERM drains, SIGINT (Ctrl-C) stops at once.

Draining, as a load balancer needs it (Kubernetes' pod termination, Envoy's drain):

1. the first SIGTERM turns readiness to 503 at once (the ``draining`` readiness check
   fails), while the server keeps answering in-flight *and new* requests, so the load
   balancer's health checks mark it down and it stops sending, losing nothing;
2. after ``drain_s`` the server stops accepting connections, finishes the requests it
   holds (aiohttp's graceful shutdown) and the process exits 0.

A second SIGTERM, or SIGINT, ends the drain at once (step 2 right away). ``drain_s = 0``
makes SIGTERM stop at once as well. ``drain_s`` should cover the balancer's detection,
``fall`` failed probes ``inter`` apart: at most ``fall × inter`` (1 s for HAProxy's inter
0.5 s, fall 2), hence the default 2 s.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field

DEFAULT_DRAIN_S = 2.0
READINESS_CHECK = "draining"
"""The readiness check's name: ``/readyz`` then says ``check draining failing``."""


@dataclass
class StopSignals:
    """The stop sequence's state: ``draining`` once SIGTERM came, ``stop`` set when the
    server must stop taking connections (then it finishes what it holds)."""

    drain_s: float = DEFAULT_DRAIN_S
    draining: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Handle SIGTERM (drain) and SIGINT (stop) on ``loop``."""
        loop.add_signal_handler(signal.SIGTERM, self.on_term, loop)
        loop.add_signal_handler(signal.SIGINT, self.stop.set)

    def on_term(self, loop: asyncio.AbstractEventLoop) -> None:
        """First SIGTERM: drain for ``drain_s``, then stop; a second one: stop now."""
        if self.draining or self.drain_s <= 0:
            self.stop.set()
            return
        self.draining = True
        loop.call_later(self.drain_s, self.stop.set)

    def ready(self) -> bool:
        """The readiness check: False while draining."""
        return not self.draining
