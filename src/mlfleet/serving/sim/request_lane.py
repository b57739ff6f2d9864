"""The request-level lane: the engine's loop specialised for a plain request-level fleet.

A run whose every replica is a fresh :class:`RequestLevelReplica` serving stream demands
(``service_s`` on every request), and in which nothing but the balancer decides — no
admission, split, mirror, sessions, scheduled callback or failure, no ``until_s`` — is
an M/M/c-like network: each arrival is routed, then served FIFO (or in the replica's
:class:`~mlfleet.serving.policy.QueueDiscipline` order) by one of its replica's servers. For it the
engine calls :func:`serve_request_level` instead of its general loop, which keeps
every replica's load, queue and busy time in local lists, and handles a completion and
the start of the next service inline, where the general loop makes four Python calls
per request (``enqueue``, ``_start``, ``on_timer``, ``complete``).

The lane is an acceleration behind the kernel's interface: it keeps a private heap of
``(time_s, seq, rid)`` (``heapq``, the only event heap in ``serving/`` outside
:mod:`mlfleet.sim`), because dispatching each completion through the kernel costs a
Python call per request. It starts only when the kernel has nothing scheduled, and
returns the time of its last event, to which the engine then moves the kernel's clock
(:meth:`~mlfleet.sim.Simulation.advance`), adding the lane's events to the kernel's
counters (:meth:`~mlfleet.sim.Simulation.tally`).

The lane makes exactly the general loop's decisions in the same order, so the records
agree bit for bit (``tests/serving/test_sim_request_lane.py`` checks it against the
general loop, forced on with ``Engine._request_lane = False``):

* events are ``(time_s, seq, rid)`` with ``seq`` counted in the order services start,
  as the kernel counts the replicas' schedules; an arrival goes before a
  completion at the same instant, as in the general loop;
* with more than one replica each arrival calls the balancer's router
  (:class:`~mlfleet.serving.policy.RoutesBlind`), which draws the engine's uniforms in the same
  order and reads ``replica.outstanding``, kept up to date on the replica objects;
  one replica takes every arrival without a draw, as the general loop's fast path;
* one FIFO replica (no queue discipline) needs no event list at all: FIFO starts
  services in arrival order, so request i starts at the later of its arrival and the
  earliest time one of the c servers is free (one ``heapreplace`` on a heap of the
  servers' free times; Kiefer & Wolfowitz 1955), which gives the same floats in the
  same order (:func:`_serve_fifo`);
* busy time is summed per replica in the order services start, from ``busy_s``;
* every request ends ``done`` after one attempt: no replica fails or rejects.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from heapq import heappop, heappush, heapreplace

import numpy as np

from mlfleet.serving.policy import Router
from mlfleet.serving.sim.columns import Columns
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import STATUS

DONE = STATUS.index("done")
PROGRESS_EVERY = 0x10000
"""Arrivals between progress reports, as in the engine's loop (``not i & 0xFFFF``)."""
Progress = Callable[[int, int], None]


def fits_lane(replicas: Sequence[Replica], service_s: np.ndarray) -> bool:
    """Whether the lane can serve this fleet and stream: every replica exactly a
    :class:`RequestLevelReplica` (a subclass may change its behaviour), alive and
    holding nothing, and every request carrying its service demand (NaN: the
    replica's service-time or step-time model decides, which only the general loop
    runs)."""
    return all(type(r) is RequestLevelReplica and r.alive and r.outstanding == 0
               and r.queued == 0 for r in replicas) and not np.isnan(service_s).any()


def serve_request_level(columns: Columns, replicas: Sequence[Replica], *,
                        router: Router | None, progress: Progress | None,
                        now_s: float) -> float:
    """Serve every request of ``columns`` on ``replicas`` (:func:`fits_lane`) from
    ``now_s``, writing the start, finish, replica, status and attempts columns and each
    replica's ``busy_s``; returns the time of the last event (s).

    ``router``: the balancer's router for a fleet of more than one replica, None for
    one replica. ``progress(i, n)`` is called as the engine's loop calls it.
    """
    n = len(columns.arrival_s)
    if len(replicas) == 1:
        replica = replicas[0]
        assert isinstance(replica, RequestLevelReplica) and router is None
        now_s = _serve_alone(columns, replica, progress, now_s)
        columns.replica[:] = [replica.index] * n
    else:
        assert router is not None, "a fleet of several replicas needs the balancer's router"
        fleet = [r for r in replicas if isinstance(r, RequestLevelReplica)]
        assert len(fleet) == len(replicas)
        now_s = _serve_routed(columns, fleet, router, progress, now_s)
    columns.status[:] = [DONE] * n
    columns.attempts[:] = [1] * n
    if progress is not None and n and not n % PROGRESS_EVERY:
        progress(n, n)  # the engine's loop reports the last arrival, then the end
    return now_s


def _serve_alone(columns: Columns, replica: RequestLevelReplica,
                 progress: Progress | None, now_s: float) -> float:
    """One replica of ``servers`` servers: the general loop's fast path, inlined."""
    if replica.discipline is None:
        return _serve_fifo(columns, replica, progress, now_s)
    arrival, demand, priority = columns.arrival_s, columns.service_s, columns.priority
    start, finish = columns.start_s, columns.finish_s
    servers, speed, busy_s = replica.servers, replica.speed, replica.busy_s
    discipline = replica.discipline
    fifo: deque[int] = deque()
    take = fifo.popleft if discipline is None else discipline.pop
    heap: list[tuple[float, int, int]] = []
    inf, n, i, seq, load = math.inf, len(arrival), 0, 0, 0
    stop = n if progress is None else min(n, PROGRESS_EVERY)
    t_arr = arrival[0] if n else inf
    while True:
        if heap and heap[0][0] < t_arr:  # a completion; arrivals first on ties
            now_s, _, rid = heappop(heap)
            finish[rid] = now_s
            if load > servers:  # someone waits: the freed server takes it
                rid = take()
                start[rid] = now_s
                svc = demand[rid] / speed
                busy_s += svc
                heappush(heap, (now_s + svc, seq, rid))
                seq += 1
            load -= 1
        elif i < stop:  # an arrival
            load += 1
            if load <= servers:  # a server is free (nobody waits while one is)
                start[i] = t_arr
                svc = demand[i] / speed
                busy_s += svc
                heappush(heap, (t_arr + svc, seq, i))
                seq += 1
            elif discipline is None:
                fifo.append(i)
            else:
                discipline.push(i, priority[i], t_arr)
            i += 1
            t_arr = arrival[i] if i < n else inf
        elif i < n:  # a progress boundary (only with ``progress``)
            assert progress is not None
            progress(i, n)
            stop = min(n, i + PROGRESS_EVERY)
        else:
            break
    replica.busy_s = busy_s
    return now_s


def _serve_fifo(columns: Columns, replica: RequestLevelReplica,
                progress: Progress | None, now_s: float) -> float:
    """FIFO over identical servers, the minimal recursion: request i starts at the later
    of its arrival and the earliest time a server is free (one ``heapreplace`` each).

    The same records as the event loop, bit for bit: FIFO starts services in arrival
    order, so starts, finishes and the busy-time sum see the same floats in the same
    order; arrivals before completions on ties gives ``max(arrival, free)``. Returns
    the last completion (s), ``now_s`` if there is no request.
    """
    arrival, demand = columns.arrival_s, columns.service_s
    start, finish = columns.start_s, columns.finish_s
    speed, busy_s = replica.speed, replica.busy_s
    free_s = [-math.inf] * replica.servers  # a heap: when each server is next free
    n = len(arrival)
    step = n if progress is None else PROGRESS_EVERY
    for low in range(0, n, max(step, 1)):
        for i in range(low, min(n, low + step)):
            t, earliest = arrival[i], free_s[0]
            begin = t if t > earliest else earliest
            svc = demand[i] / speed
            busy_s += svc
            start[i] = begin
            finish[i] = end = begin + svc
            heapreplace(free_s, end)
        if progress is not None and low + step < n:
            progress(low + step, n)
    replica.busy_s = busy_s
    return max(free_s) if n else now_s


def _serve_routed(columns: Columns, fleet: list[RequestLevelReplica], route: Router,
                  progress: Progress | None, now_s: float) -> float:
    """Several replicas, each arrival placed by ``route()``; as :func:`_serve_alone`
    with per-replica lists, and loads kept on the replicas, where routers read them."""
    disciplines = [r.discipline for r in fleet]
    arrival, demand = columns.arrival_s, columns.service_s
    priority = columns.priority if any(d is not None for d in disciplines) else []
    start, finish, where = columns.start_s, columns.finish_s, columns.replica
    servers = [r.servers for r in fleet]
    speed = [r.speed for r in fleet]
    busy_s = [r.busy_s for r in fleet]
    fifos: list[deque[int]] = [deque() for _ in fleet]
    takes = [q.popleft if d is None else d.pop for q, d in zip(fifos, disciplines, strict=True)]
    heap: list[tuple[float, int, int]] = []
    inf, n, i, seq = math.inf, len(arrival), 0, 0
    stop = n if progress is None else min(n, PROGRESS_EVERY)
    t_arr = arrival[0] if n else inf
    while True:
        if heap and heap[0][0] < t_arr:  # a completion; arrivals first on ties
            now_s, _, rid = heappop(heap)
            finish[rid] = now_s
            r = where[rid]
            replica = fleet[r]
            load = replica.outstanding = replica.outstanding - 1
            if load >= servers[r]:  # someone waits: the freed server takes it
                rid = takes[r]()
                start[rid] = now_s
                svc = demand[rid] / speed[r]
                busy_s[r] += svc
                heappush(heap, (now_s + svc, seq, rid))
                seq += 1
        elif i < stop:  # an arrival
            where[i] = r = route()
            replica = fleet[r]
            load = replica.outstanding = replica.outstanding + 1
            if load <= servers[r]:  # a server is free (nobody waits while one is)
                start[i] = t_arr
                svc = demand[i] / speed[r]
                busy_s[r] += svc
                heappush(heap, (t_arr + svc, seq, i))
                seq += 1
            elif (discipline := disciplines[r]) is None:
                fifos[r].append(i)
            else:
                discipline.push(i, priority[i], t_arr)
            i += 1
            t_arr = arrival[i] if i < n else inf
        elif i < n:  # a progress boundary (only with ``progress``)
            assert progress is not None
            progress(i, n)
            stop = min(n, i + PROGRESS_EVERY)
        else:
            break
    for replica, total_s in zip(fleet, busy_s, strict=True):
        replica.busy_s = total_s
    return now_s
