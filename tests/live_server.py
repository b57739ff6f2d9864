"""A real mlfleet server (tiny models) on a background thread, for commands that need one."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def live_server() -> Iterator[dict[str, str]]:
    """Serve the app on 127.0.0.1 in its own event loop; yields {"rank": url, "generate": url}."""
    from mlfleet.serving.server.testing import running_app

    urls: dict[str, str] = {}
    started, stop = threading.Event(), threading.Event()

    async def serve() -> None:
        async with running_app() as client:
            urls["rank"] = str(client.make_url("/v1/rank"))
            urls["generate"] = str(client.make_url("/v1/generate"))
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.02)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    try:
        assert started.wait(60.0), "the server did not start"
        yield urls
    finally:
        stop.set()
        thread.join(30.0)
