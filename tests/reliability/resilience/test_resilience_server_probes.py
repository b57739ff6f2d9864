"""The real server's ``/healthz`` and ``/readyz`` follow the probes table
(``reliability/resilience/probes.py``): live but not ready while the model loads (a cold
start), ready once loaded and warm, not ready (still live) while a dependency check
fails, neither live nor ready once loading failed."""

from __future__ import annotations

import asyncio
from typing import Any

from mlfleet.reliability.resilience.probes import Probes
from mlfleet.serving.server.app import STATE, create_app, wait_ready
from mlfleet.serving.server.testing import blocked_worker, running_app, small_config


async def probe(client: Any) -> tuple[bool, bool]:
    live = (await client.get("/healthz")).status == 200
    ready = (await client.get("/readyz")).status == 200
    return live, ready


def test_cold_start_then_ready_then_a_failing_dependency() -> None:
    healthy = [True]
    app = create_app(small_config(), readiness_checks={"features": lambda: healthy[0]})
    reference = Probes({"features": lambda: healthy[0]})

    async def main() -> None:
        with blocked_worker(app) as release:  # the load waits behind the parked worker
            async with running_app(app=app, wait=False) as client:
                assert await probe(client) == (True, False)  # cold: live, not ready
                assert (reference.liveness().ok, reference.readiness().ok) == (True, False)
                release.set()
                await wait_ready(app)
                reference.loaded()
                reference.warmed()
                assert await probe(client) == (True, True)
                assert reference.readiness().ok
                healthy[0] = False
                assert await probe(client) == (True, False)  # out of the balancer only
                assert (reference.liveness().ok, reference.readiness().ok) == (True, False)

    asyncio.run(main())


def test_failed_load_is_neither_live_nor_ready() -> None:
    app = create_app(small_config(device="cuda:99"))  # no such GPU: the load fails
    reference = Probes()
    reference.fail("model load failed")

    async def main() -> None:
        async with running_app(app=app, wait=False) as client:
            loader = app[STATE].loader
            assert loader is not None
            await asyncio.wait_for(asyncio.shield(loader), 60)
            assert await probe(client) == (False, False)
            assert (reference.liveness().ok, reference.readiness().ok) == (False, False)

    asyncio.run(main())
