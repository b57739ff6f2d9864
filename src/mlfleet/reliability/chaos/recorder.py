"""The chaos client: open-loop load that records what happened to every request.

Arrivals and request bodies are the load generator's (:mod:`mlfleet.serving.loadgen`,
the same seeded trace, so the simulator can replay it). Each request carries a unique
``X-Request-Id`` (``<run>-<index>``); per request the recorder keeps, in columnar
arrays sized once from the trace (memory bounded by the run, no per-request objects):
scheduled, send and end times, final status, attempts, the replica that answered (from
the ``X-Served-By`` response header the fleet's HAProxy adds) and the error kind.

Status codes are HTTP statuses, or negative for what never got one (:data:`TRANSPORT`,
:data:`CLIENT_TIMEOUT`, :data:`NOT_SENT`). A failed attempt is retried when the
client's :class:`RetryGate` allows it (a retry budget,
:class:`mlfleet.reliability.resilience.retry_budget.RetryBudget`, or none), after a
fully jittered exponential backoff.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.reliability.resilience.backoff import BackoffConfig, full_jitter_s
from mlfleet.serving.loadgen import arrival_trace, arrivals, client_session, fetch_limits
from mlfleet.serving.loadgen_spec import LoadSpec

TRANSPORT, CLIENT_TIMEOUT, NOT_SENT = -1, -2, -3
"""Statuses of attempts without an HTTP reply: connection refused/reset, the client's
own timeout, and an arrival the client never sent (over its in-flight cap)."""
RETRYABLE = frozenset({TRANSPORT, CLIENT_TIMEOUT, 429, 502, 503, 504})
"""Outcomes a client may act on by retrying (the request id stays the same)."""
REQUEST_ID = "X-Request-Id"
SERVED_BY = "X-Served-By"
_DIGITS = re.compile(r"(\d+)$")
_APP = re.compile(r"(?:^|,)\s*app;dur=([0-9.]+)")


class RetryGate(Protocol):
    """Decides whether a failed attempt may be retried (a retry budget)."""

    def record_request(self) -> None:
        """A first attempt was sent."""

    def try_retry(self) -> bool:
        """May one more attempt go out now? True spends the allowance."""


@dataclass
class NoRetries:
    """Never retry: the client reports every failure."""

    def record_request(self) -> None:
        return None

    def try_retry(self) -> bool:
        return False


@dataclass
class EveryRetry:
    """No budget: every retryable failure is retried (up to the attempt limit): the
    client that makes a retry storm."""

    def record_request(self) -> None:
        return None

    def try_retry(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class ClientRecords:
    """One row per scheduled arrival, in arrival order; times in run seconds."""

    run_id: str
    intended_s: npt.NDArray[np.float64]
    sent_s: npt.NDArray[np.float64]
    end_s: npt.NDArray[np.float64]
    """When the final attempt ended (nan: never sent)."""
    status: npt.NDArray[np.int16]
    """Final status: HTTP code, or TRANSPORT / CLIENT_TIMEOUT / NOT_SENT."""
    attempts: npt.NDArray[np.int16]
    replica: npt.NDArray[np.int16]
    """Index of the replica that gave the final reply (-1: none named)."""
    ok_replies: npt.NDArray[np.int16]
    """Successful (2xx) HTTP replies received for this id over all its attempts."""
    server_s: npt.NDArray[np.float64]
    """The replica's own time for the final reply (``app`` in its ``Server-Timing``
    header, request in to reply out; nan: no such header)."""

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        return (self.status >= 200) & (self.status < 300)

    @property
    def latency_s(self) -> npt.NDArray[np.float64]:
        """From the scheduled arrival to the end of the final attempt."""
        out: npt.NDArray[np.float64] = self.end_s - self.intended_s
        return out


def app_time_s(server_timing: str | None) -> float:
    """``"pre;dur=0.1, ..., app;dur=12.5"`` -> 0.0125 (the server's ``app`` part); nan
    when absent."""
    match = _APP.search(server_timing or "")
    return float(match.group(1)) / 1e3 if match else float("nan")


def replica_index(server_name: str | None) -> int:
    """``"r2"`` -> 2 (the trailing number of HAProxy's server name); -1 when absent."""
    match = _DIGITS.search(server_name or "")
    return int(match.group(1)) if match else -1


class Recorder:
    """Runs ``spec`` against the fleet's front end, filling :class:`ClientRecords`."""

    def __init__(self, spec: LoadSpec, *, run_id: str, gate: RetryGate | None = None,
                 max_attempts: int = 4, backoff: BackoffConfig | None = None) -> None:
        self.spec = spec
        self.gate: RetryGate = gate if gate is not None else NoRetries()
        self.max_attempts = max_attempts
        self.backoff = backoff or BackoffConfig()
        self._jitter = np.random.default_rng([spec.seed, 3])
        n = len(arrival_trace(spec))
        self.records = ClientRecords(
            run_id=run_id, intended_s=np.full(n, np.nan), sent_s=np.full(n, np.nan),
            end_s=np.full(n, np.nan), status=np.full(n, NOT_SENT, dtype=np.int16),
            attempts=np.zeros(n, dtype=np.int16), replica=np.full(n, -1, dtype=np.int16),
            ok_replies=np.zeros(n, dtype=np.int16), server_s=np.full(n, np.nan))
        self.t0_s = float("nan")
        """``time.monotonic()`` at run time 0 (fault times count from it)."""

    async def run(self, *, started: asyncio.Event | None = None) -> ClientRecords:
        """Drive the whole trace; cancelling it cancels the requests in flight."""
        spec, rec = self.spec, self.records
        async with client_session(spec) as session:
            limits = await fetch_limits(session, spec)
            self.t0_s = time.monotonic() + 0.05
            if started is not None:
                started.set()
            tasks: set[asyncio.Task[None]] = set()
            try:
                for i, (intended_s, payload) in enumerate(arrivals(spec, limits)):
                    rec.intended_s[i] = intended_s
                    await asyncio.sleep(max(0.0, self.t0_s + intended_s - time.monotonic()))
                    if len(tasks) >= spec.max_in_flight:
                        continue  # stays NOT_SENT: counted, never queued
                    task = asyncio.create_task(self._request(session, i, payload))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        return rec

    async def _request(self, session: Any, i: int, payload: dict[str, Any]) -> None:
        rec = self.records
        rec.sent_s[i] = time.monotonic() - self.t0_s
        self.gate.record_request()
        headers = {REQUEST_ID: f"{rec.run_id}-{i}"}
        while True:
            rec.attempts[i] += 1
            status, server, app_s = await self._attempt(session, payload, headers)
            rec.status[i], rec.end_s[i] = status, time.monotonic() - self.t0_s
            rec.server_s[i] = app_s
            if status > 0:
                rec.replica[i] = replica_index(server)
                rec.ok_replies[i] += 200 <= status < 300
            if status not in RETRYABLE or rec.attempts[i] >= self.max_attempts \
                    or not self.gate.try_retry():
                return
            await asyncio.sleep(full_jitter_s(int(rec.attempts[i]) - 1, config=self.backoff,
                                              rng=self._jitter))

    async def _attempt(self, session: Any, payload: dict[str, Any],
                       headers: dict[str, str]) -> tuple[int, str | None, float]:
        import aiohttp

        try:
            async with session.post(self.spec.url, json=payload, headers=headers) as resp:
                await resp.read()
                return (resp.status, resp.headers.get(SERVED_BY),
                        app_time_s(resp.headers.get("Server-Timing")))
        except TimeoutError:
            return CLIENT_TIMEOUT, None, np.nan
        except (aiohttp.ClientError, ValueError):
            return TRANSPORT, None, np.nan
