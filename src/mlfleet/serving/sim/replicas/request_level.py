"""Request-level service: c servers share one queue, one request per server.

With Poisson arrivals and exponential service demands this is exactly M/M/c, which
:mod:`mlfleet.serving.sim.mmc` checks against Erlang C. A request's service time is
its own demand (``service_s`` of the stream) divided by ``speed``; without one, the
replica's model decides: an LLM request served alone (prefill, then decode at batch
one) under ``step_time``, or ``service(1)`` for a non-LLM request.

The queue is FIFO unless a :class:`~mlfleet.serving.policy.QueueDiscipline`
is given (e.g. ``serving/admission/priority.py``'s aging priority queue), which then
chooses the request a freed server takes next; service is never preempted.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from mlfleet.errors import InputError
from mlfleet.serving.policy import QueueDiscipline
from mlfleet.serving.sim.host import ReplicaHost
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.step_contract import StepTime
from mlfleet.serving.sim.steptime import BatchServiceTime, request_service_s


class RequestLevelReplica(Replica):
    """``servers`` parallel servers and a queue, FIFO or in ``discipline``'s order."""

    kind = "none"
    outstanding = 0
    """Requests queued plus in service here: a counter, as load balancers read it for
    every request. Nobody waits while a server is free, so a server is free exactly
    when ``outstanding < servers``."""

    def __init__(self, *, servers: int = 1, speed: float = 1.0,
                 service: BatchServiceTime | None = None, step_time: StepTime | None = None,
                 discipline: QueueDiscipline | None = None, group: str = "stable",
                 weight: float = 1.0) -> None:
        super().__init__(group=group, weight=weight)
        if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
            raise InputError(f"servers(={servers!r}) must be an integer >= 1")
        if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
            raise InputError(f"speed(={speed!r}) must be a finite number > 0")
        self.servers = self.capacity = servers
        self.speed = float(speed)
        """Service-rate multiplier applied to request demands (a slower canary: < 1)."""
        self.service = service
        self.step_time = step_time
        self.discipline = discipline
        """Who waits here, in the order served; None: ``_queue``, FIFO (the fast path)."""
        self._queue: deque[int] = deque()
        self.outstanding = 0

    def _on_attach(self, engine: ReplicaHost) -> None:
        self._schedule = engine.sim.schedule  # bound once: called once per request
        self._complete = engine.complete
        demands = engine.columns.requests.service_s
        if self.service is None and self.step_time is None \
                and demands.size and np.isnan(demands).any():
            raise InputError("a request-level replica needs service_s demands on every "
                             "request, a service-time model or a step-time model")

    @property
    def queued(self) -> int:
        return len(self._queue) if self.discipline is None else len(self.discipline)

    def enqueue(self, rid: int, now_s: float) -> None:
        load = self.outstanding = self.outstanding + 1
        if load > self.servers:
            if self.discipline is None:
                self._queue.append(rid)
            else:
                self.discipline.push(rid, self.columns.priority[rid], now_s)
            return
        # a free server takes it: _start's demand path inlined, as in on_timer
        cols = self.columns
        demand = cols.service_s[rid]
        if demand != demand:  # NaN: the replica's model decides
            self._start(rid, now_s)
            return
        svc = demand / self.speed
        cols.start_s[rid] = now_s
        self.busy_s += svc
        self._schedule(now_s + svc, self._timer, rid)  # the completion of rid

    def _start(self, rid: int, now_s: float) -> None:
        """Serve ``rid`` on a free server (already counted in ``outstanding``)."""
        cols = self.columns
        demand = cols.service_s[rid]
        if demand == demand:  # not NaN
            svc = demand / self.speed
        elif self.step_time is not None:
            ttft, svc = request_service_s(self.step_time, cols.prompt[rid], cols.output[rid])
            cols.first_token_s[rid] = now_s + ttft
        else:
            assert self.service is not None
            svc = self.service(1)
        cols.start_s[rid] = now_s
        self.busy_s += svc
        self._schedule(now_s + svc, self._timer, rid)  # the completion of rid

    def on_timer(self, now_s: float, seq: int, payload: Any) -> None:
        """The service of request ``payload`` (an int: every timer is one request's) ends."""
        rid = payload
        load = self.outstanding = self.outstanding - 1
        self._complete(rid, now_s)
        if load < self.servers:
            return
        # someone waits: the freed server takes it (_start's demand path inlined, a
        # Python call fewer for most requests on the general loop)
        discipline = self.discipline
        rid = self._queue.popleft() if discipline is None else discipline.pop()
        cols = self.columns
        demand = cols.service_s[rid]
        if demand != demand:  # NaN: the replica's model decides
            self._start(rid, now_s)
            return
        svc = demand / self.speed
        cols.start_s[rid] = now_s
        self.busy_s += svc
        self._schedule(now_s + svc, self._timer, rid)  # the completion of rid

    def evict(self, now_s: float) -> list[int]:
        start_s, cancel = self.columns.start_s, self._sim.cancel
        inflight = self._sim.pending_of(self._timer)  # (seq, rid) of each service
        for seq, rid in inflight:  # give back the unserved busy time
            self.busy_s -= max(0.0, start_s[rid] + self._service_of(rid) - now_s)
            cancel(seq)
        waiting = list(self._queue) if self.discipline is None else self.discipline.drain()
        rids = sorted([*(rid for _, rid in inflight), *waiting])
        self._queue.clear()
        self.outstanding = 0
        return rids

    def _service_of(self, rid: int) -> float:
        cols = self.columns
        demand = cols.service_s[rid]
        if demand == demand:
            return demand / self.speed
        if self.step_time is not None:
            return request_service_s(self.step_time, cols.prompt[rid], cols.output[rid])[1]
        assert self.service is not None
        return self.service(1)
