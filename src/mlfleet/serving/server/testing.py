"""Helpers to run the server in-process, small and fast (for tests and examples).

``small_config()`` shrinks both models so a CPU test starts in well under a second;
``running_app()`` serves an application on a free loopback port inside the caller's
event loop and yields an aiohttp test client once the models are loaded;
``blocked_worker()`` parks the model thread so tests can fill queues deterministically.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from aiohttp.typedefs import Middleware
from aiohttp.web import Application

from mlfleet.serving.server.app import STATE, ReadinessCheck, create_app, wait_ready
from mlfleet.serving.server.config import (
    ContinuousBatchingConfig,
    DynamicBatchingConfig,
    ServerConfig,
)
from mlfleet.serving.server.models import GPTSpec, RankerSpec


def small_config(**overrides: Any) -> ServerConfig:
    """A :class:`ServerConfig` with tiny models; keyword overrides replace fields."""
    base = ServerConfig(
        port=0, device="cpu",
        ranker=RankerSpec(n_users=100, n_items=1000, embed_dim=16, user_tower_width=32,
                          user_tower_layers=1, score_hidden=(32,)),
        gpt=GPTSpec(n_layer=2, n_head=2, d_model=32, max_seq_len=96),
        rank=DynamicBatchingConfig(max_batch_size=4, max_queue_delay_s=0.002, queue_capacity=16),
        generate=ContinuousBatchingConfig(max_running=4, queue_capacity=8, max_prompt_tokens=32,
                                          max_new_tokens=48))
    return replace(base, **overrides)


@contextlib.asynccontextmanager
async def running_app(config: ServerConfig | None = None, *,
                      middlewares: Sequence[Middleware] = (),
                      readiness_checks: Mapping[str, ReadinessCheck] | None = None,
                      wait: bool = True, app: Application | None = None,
                      ) -> AsyncIterator[TestClient[Any, Application]]:
    """Serve ``create_app(config, ...)`` (or ``app``) on 127.0.0.1 and yield a client,
    once the models are loaded unless ``wait`` is False."""
    if app is None:
        app = create_app(config or small_config(), middlewares=middlewares,
                         readiness_checks=readiness_checks)
    client: TestClient[Any, Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        if wait:
            await wait_ready(app)
        yield client
    finally:
        await client.close()


@contextlib.contextmanager
def blocked_worker(app: Application) -> Iterator[threading.Event]:
    """Occupy the model thread until the block exits (or the yielded event is set)."""
    release = threading.Event()
    app[STATE].executor.submit(release.wait, 30.0)
    try:
        yield release
    finally:
        release.set()
