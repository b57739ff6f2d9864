"""The calibration experiment's view of a running server, behind a Protocol.

:class:`ServerClient` is everything the experiment asks of the server: its batching
settings, the batches it executed, its process id, whether it is alive, and open- and
closed-loop load runs. :class:`HttpServerClient` is the real one (``mlfleet serve`` on
``/v1/info``, ``/v1/stats``, ``/healthz`` and ``/v1/rank``); tests drive the experiment
logic with a small fake that answers from arrays.
"""
from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.errors import RunError
from mlfleet.serving.loadgen import LoadRun, run_closed_loop_async, run_load_async
from mlfleet.serving.loadgen_spec import LoadSpec, RequestRecord

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class BatchingPolicy:
    """The server's rank-path batching and admission settings (from ``/v1/info``)."""

    max_batch_size: int
    max_queue_delay_s: float
    queue_capacity: int
    """Most requests waiting before 429 (:class:`QueueDepthAdmission`'s limit)."""


@dataclass(frozen=True, kw_only=True)
class BatchSamples:
    """Executed rank batches: size, busy time and dispatch time (server clock) per batch."""

    size: npt.NDArray[np.int64]
    cycle_s: FloatArray
    """Dispatch to results back on the event loop, seconds."""
    dispatched_s: FloatArray
    """``time.monotonic()`` of the dispatch (the load generator's clock too, on one host)."""
    last_seq: int
    """The server's sequence number after the last batch (``since`` for the next fetch)."""


class ServerClient(Protocol):
    """What the calibration experiment needs from a running server."""

    @property
    def rank_url(self) -> str:
        """The ranker endpoint the load runs target."""
        ...

    def policy(self) -> BatchingPolicy:
        """The rank path's batching and admission settings."""
        ...

    def batches(self, *, since: int = -1) -> BatchSamples:
        """Rank batches executed after sequence number ``since``."""
        ...

    def server_pid(self) -> int | None:
        """The server's process id, when it reports one (for the other-CPU meter)."""
        ...

    def alive(self) -> bool:
        """Whether the server reports itself alive."""
        ...

    async def open_loop(self, spec: LoadSpec) -> LoadRun:
        """An open-loop run of ``spec`` (one record per scheduled arrival)."""
        ...

    async def closed_loop(self, spec: LoadSpec, *, concurrency: int) -> list[RequestRecord]:
        """``concurrency`` closed-loop clients for ``spec.duration_s``."""
        ...


def get_json(url: str, *, timeout_s: float = 10.0) -> dict[str, Any]:
    """GET a JSON object (stdlib only: used between load runs, never during one).

    Raises :class:`~mlfleet.errors.RunError` when the server cannot be reached or does not
    answer an object.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            data = json.loads(resp.read())
    except OSError as exc:
        raise RunError(f"cannot GET {url}: {exc}") from None
    if not isinstance(data, dict):
        raise RunError(f"GET {url} answered {type(data).__name__}, expected a JSON object")
    return data


class HttpServerClient:
    """A running ``mlfleet serve`` at ``base_url`` (``http://HOST:PORT``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    @property
    def rank_url(self) -> str:
        return self.base_url + "/v1/rank"

    def policy(self) -> BatchingPolicy:
        rank = get_json(self.base_url + "/v1/info")["config"]["rank"]
        return BatchingPolicy(max_batch_size=int(rank["max_batch_size"]),
                              max_queue_delay_s=float(rank["max_queue_delay_s"]),
                              queue_capacity=int(rank["queue_capacity"]))

    def batches(self, *, since: int = -1) -> BatchSamples:
        doc = get_json(f"{self.base_url}/v1/stats?since={since}")
        col = {name: i for i, name in enumerate(doc["fields"])}
        rows = [r for r in doc["records"] if r[col["route"]] == "rank"]

        def column(name: str) -> FloatArray:
            return np.array([r[col[name]] for r in rows], dtype=np.float64)

        return BatchSamples(size=column("size").astype(np.int64), cycle_s=column("cycle_s"),
                            dispatched_s=column("dispatched_s"), last_seq=int(doc["next"]))

    def server_pid(self) -> int | None:
        pid = get_json(self.base_url + "/v1/info").get("pid")
        return pid if isinstance(pid, int) else None

    def alive(self) -> bool:
        return get_json(self.base_url + "/healthz").get("alive") is True

    async def open_loop(self, spec: LoadSpec) -> LoadRun:
        return await run_load_async(spec)

    async def closed_loop(self, spec: LoadSpec, *, concurrency: int) -> list[RequestRecord]:
        return await run_closed_loop_async(spec, concurrency=concurrency)
