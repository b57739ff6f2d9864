"""The engine on request-level (non-batched) service against bare heapq loops.

Run: ``.venv/bin/python benchmarks/bench_mmc_vs_heapq.py [requests] [--repeats 5]
[--general]``. Not a test. Each system is run by the engine and by a bare loop on the
same requests (same seed):

* M/M/c: c = 8 servers sharing one FIFO queue at ρ = 0.9 (the engine: one
  :class:`RequestLevelReplica` with 8 servers), against two baselines: the textbook
  loop below and the minimal loop of ``mmc_minimal.py`` (one heap of the c servers'
  free times, one ``heapreplace`` per request, 3.5x faster than the textbook loop here);
* c × M/M/1 behind a load balancer: 8 single-server replicas, each arrival routed by
  ``random``, ``round_robin``, ``least_outstanding`` or ``power_of_two`` from
  ``serving/lb``. Each bare loop makes the policy's choices itself, drawing the same
  doubles from an identically seeded generator, so the two must agree request by
  request (replica, start and finish).

The bare loops are the textbook discrete-event simulation: one heap holding the next
arrival and every departure, ``(time, seq, kind, request)`` tuples, the policy inlined
(a load-blind policy's choices computed before the loop). They draw the same doubles
as the engine and turn them into indices the same way, ``floor(u * n)`` (which is
about 3x cheaper than ``int(u * n)`` on a float, so an ``int`` loop would flatter the
engine), but take them the cheapest way, all drawn in one vectorised call before the
loop. The row "random, bare draws per call" is the comparison this benchmark made
before the engine routed through the balancer's router: the bare loop calls
``rng.random()`` once per arrival. The script checks that results are identical and
prints the speed ratio (bare time / engine time; the goal is >= 0.7 on the lane, >= 0.5
on the general loop and against the minimal loop): the median over the repeats of the
ratio of a bare run and the engine run right after it, which a shared machine's
changing speed disturbs least. Times are CPU seconds (medians);
engine construction and result arrays included.

Every row's configuration takes the engine's request-level lane
(``serving/sim/request_lane.py``); ``--general`` times the engine's general loop instead
(``Engine._request_lane = False``), which gives the same records.
"""

from __future__ import annotations

import argparse
import heapq
import time
from collections import deque
from collections.abc import Callable
from math import floor
from typing import Any

import numpy as np

from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, RequestStream, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mmc_minimal import minimal_mmc

SERVERS, UTILIZATION = 8, 0.9
LB_SEED = 7
WARMUP_CALLS = 10
Times = tuple[list[float], list[float], list[int]]
"""Per request: start, finish, replica."""


def bare_mmc(arrival: list[float], service: list[float], c: int) -> Times:
    """M/M/c FIFO: the classic heapq event loop (arrivals and departures on one heap)."""
    n = len(arrival)
    start, finish = [0.0] * n, [0.0] * n
    heap: list[tuple[float, int, int, int]] = [(arrival[0], 0, 0, 0)]
    seq, busy, queue = 1, 0, deque[int]()
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        t, _, kind, i = pop(heap)
        if kind == 0:  # arrival: schedule the next one, start service if a server is free
            if i + 1 < n:
                push(heap, (arrival[i + 1], seq, 0, i + 1))
                seq += 1
            if busy < c:
                busy += 1
                start[i] = t
                push(heap, (t + service[i], seq, 1, i))
                seq += 1
            else:
                queue.append(i)
        else:  # departure: the next queued request takes the server
            finish[i] = t
            if queue:
                j = queue.popleft()
                start[j] = t
                push(heap, (t + service[j], seq, 1, j))
                seq += 1
            else:
                busy -= 1
    return start, finish, [0] * n


def bare_routed(arrival: list[float], service: list[float], c: int,
                where: list[int]) -> Times:
    """c single-server FIFO queues; arrival i joins queue ``where[i]`` (a load-blind
    policy's choices, computed before the loop)."""
    n = len(arrival)
    start, finish = [0.0] * n, [0.0] * n
    heap: list[tuple[float, int, int, int]] = [(arrival[0], 0, 0, 0)]
    seq = 1
    busy = [False] * c
    queues = [deque[int]() for _ in range(c)]
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        t, _, kind, i = pop(heap)
        if kind == 0:
            if i + 1 < n:
                push(heap, (arrival[i + 1], seq, 0, i + 1))
                seq += 1
            r = where[i]
            if not busy[r]:
                busy[r] = True
                start[i] = t
                push(heap, (t + service[i], seq, 1, i))
                seq += 1
            else:
                queues[r].append(i)
        else:
            finish[i] = t
            r = where[i]
            if queues[r]:
                j = queues[r].popleft()
                start[j] = t
                push(heap, (t + service[j], seq, 1, j))
                seq += 1
            else:
                busy[r] = False
    return start, finish, where


def bare_random(arrival: list[float], service: list[float], c: int) -> Times:
    """Uniform random routing: ``floor(u * c)`` for each of the generator's first n
    doubles."""
    us = np.random.default_rng(LB_SEED).random(len(arrival))
    return bare_routed(arrival, service, c, np.floor(us * c).astype(np.int64).tolist())


def bare_round_robin(arrival: list[float], service: list[float], c: int) -> Times:
    """Replicas in turn from replica 0."""
    return bare_routed(arrival, service, c, [i % c for i in range(len(arrival))])


def bare_least_outstanding(arrival: list[float], service: list[float], c: int) -> Times:
    """c single-server FIFO queues; each arrival joins one with the fewest outstanding
    (queued + in service), ties broken by ``floor(u * ties)``."""
    n = len(arrival)
    start, finish = [0.0] * n, [0.0] * n
    heap: list[tuple[float, int, int, int]] = [(arrival[0], 0, 0, 0)]
    seq = 1
    out = [0] * c
    queues = [deque[int]() for _ in range(c)]
    where = [0] * n
    us, u = np.random.default_rng(LB_SEED).random(n).tolist(), 0  # at most one per arrival
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        t, _, kind, i = pop(heap)
        if kind == 0:
            if i + 1 < n:
                push(heap, (arrival[i + 1], seq, 0, i + 1))
                seq += 1
            low = min(out)
            if out.count(low) == 1:
                r = out.index(low)
            else:
                tied = [k for k in range(c) if out[k] == low]
                r = tied[floor(us[u] * len(tied))]
                u += 1
            where[i] = r
            out[r] += 1
            if out[r] == 1:
                start[i] = t
                push(heap, (t + service[i], seq, 1, i))
                seq += 1
            else:
                queues[r].append(i)
        else:
            finish[i] = t
            r = where[i]
            out[r] -= 1
            if queues[r]:
                j = queues[r].popleft()
                start[j] = t
                push(heap, (t + service[j], seq, 1, j))
                seq += 1
    return start, finish, where


def bare_power_of_two(arrival: list[float], service: list[float], c: int) -> Times:
    """c single-server FIFO queues; each arrival samples two distinct queues
    (``a = floor(u₁c)``, ``b = floor(u₂(c − 1))``, skipping a) and joins the one with
    fewer outstanding, ties broken by ``u₃ >= 0.5`` (b) or not (a)."""
    n = len(arrival)
    start, finish = [0.0] * n, [0.0] * n
    heap: list[tuple[float, int, int, int]] = [(arrival[0], 0, 0, 0)]
    seq = 1
    out = [0] * c
    queues = [deque[int]() for _ in range(c)]
    where = [0] * n
    us, u = np.random.default_rng(LB_SEED).random(3 * n).tolist(), 0  # at most three each
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        t, _, kind, i = pop(heap)
        if kind == 0:
            if i + 1 < n:
                push(heap, (arrival[i + 1], seq, 0, i + 1))
                seq += 1
            a, b = floor(us[u] * c), floor(us[u + 1] * (c - 1))
            u += 2
            b += b >= a
            if out[a] == out[b]:
                r = b if us[u] >= 0.5 else a
                u += 1
            else:
                r = a if out[a] < out[b] else b
            where[i] = r
            out[r] += 1
            if out[r] == 1:
                start[i] = t
                push(heap, (t + service[i], seq, 1, i))
                seq += 1
            else:
                queues[r].append(i)
        else:
            finish[i] = t
            r = where[i]
            out[r] -= 1
            if queues[r]:
                j = queues[r].popleft()
                start[j] = t
                push(heap, (t + service[j], seq, 1, j))
                seq += 1
    return start, finish, where


def bare_random_per_call(arrival: list[float], service: list[float], c: int,
                         rng: np.random.Generator) -> Times:
    """:func:`bare_random` with one ``rng.random()`` call per arrival inside the loop."""
    n = len(arrival)
    start, finish = [0.0] * n, [0.0] * n
    heap: list[tuple[float, int, int, int]] = [(arrival[0], 0, 0, 0)]
    seq = 1
    busy = [False] * c
    queues = [deque[int]() for _ in range(c)]
    where = [0] * n
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        t, _, kind, i = pop(heap)
        if kind == 0:
            if i + 1 < n:
                push(heap, (arrival[i + 1], seq, 0, i + 1))
                seq += 1
            r = where[i] = floor(rng.random() * c)
            if not busy[r]:
                busy[r] = True
                start[i] = t
                push(heap, (t + service[i], seq, 1, i))
                seq += 1
            else:
                queues[r].append(i)
        else:
            finish[i] = t
            r = where[i]
            if queues[r]:
                j = queues[r].popleft()
                start[j] = t
                push(heap, (t + service[j], seq, 1, j))
                seq += 1
            else:
                busy[r] = False
    return start, finish, where


BARE: dict[str, Callable[[list[float], list[float], int], Times]] = {
    "random": bare_random, "round_robin": bare_round_robin,
    "least_outstanding": bare_least_outstanding, "power_of_two": bare_power_of_two}
"""The bare loop of each load balancer."""


def requests(n: int, seed: int) -> RequestStream:
    return make_requests(n, arrivals=PoissonArrivals(rate_per_s=UTILIZATION * SERVERS),
                         rng=np.random.default_rng(seed), service=Exponential(mean_s=1.0))


def run_engine(engine: Engine, *, general: bool) -> Any:
    """``engine.run()``, on the general loop rather than the request-level lane if asked."""
    engine._request_lane = not general
    return engine.run()


def engine_mmc(stream: RequestStream, *, general: bool) -> Callable[[], Any]:
    return lambda: run_engine(Engine(requests=stream,
                                     replicas=[RequestLevelReplica(servers=SERVERS)],
                                     rng=np.random.default_rng(0)), general=general)


def engine_lb(stream: RequestStream, policy: str, *, general: bool) -> Callable[[], Any]:
    return lambda: run_engine(Engine(requests=stream, replicas=[RequestLevelReplica()
                                                                for _ in range(SERVERS)],
                                     rng=np.random.default_rng(LB_SEED),
                                     lb=make_load_balancer(policy)), general=general)


def compare(name: str, bare: Callable[[], Times], engine: Callable[[], Any],
            repeats: int, n: int) -> None:
    """Time both, back to back, ``repeats`` times; print the medians, the median of the
    paired ratios, and whether the results are identical."""
    t_bare, t_engine = [], []
    for _ in range(repeats):
        t = time.process_time()
        b_start, b_finish, b_where = bare()
        t_bare.append(time.process_time() - t)
        t = time.process_time()
        res = engine()
        t_engine.append(time.process_time() - t)
    same = (np.array_equal(res.start_s, b_start) and np.array_equal(res.finish_s, b_finish)
            and np.array_equal(res.replica, b_where))
    ratio = float(np.median(np.array(t_bare) / np.array(t_engine)))
    print(f"| {name} | {np.median(t_bare) / n * 1e6:.2f} | {np.median(t_engine) / n * 1e6:.2f} "
          f"| {ratio:.2f}x | {same} |", flush=True)


def cases(stream: RequestStream, *,
          general: bool) -> list[tuple[str, Callable[[], Times], Callable[[], Any]]]:
    """(row name, bare run, engine run) of every comparison, on ``stream``; ``general``:
    the engine on its general loop."""
    arrival, service = stream.arrival_s.tolist(), stream.service_s.tolist()
    rows: list[tuple[str, Callable[[], Times], Callable[[], Any]]] = [(
        f"M/M/{SERVERS}, one replica", lambda: bare_mmc(arrival, service, SERVERS),
        engine_mmc(stream, general=general)), (
        f"M/M/{SERVERS}, one replica, vs the minimal loop",
        lambda: (*minimal_mmc(arrival, service, SERVERS), [0] * len(arrival)),
        engine_mmc(stream, general=general))]
    for policy, bare in BARE.items():
        rows.append((f"{SERVERS} × M/M/1, `{policy}`",
                     lambda b=bare: b(arrival, service, SERVERS),  # type: ignore[misc]
                     engine_lb(stream, policy, general=general)))
    rows.append((f"{SERVERS} × M/M/1, `random`, bare draws per call",
                 lambda: bare_random_per_call(arrival, service, SERVERS,
                                              np.random.default_rng(LB_SEED)),
                 engine_lb(stream, "random", general=general)))
    return rows


def warm_up(seed: int, *, general: bool) -> None:
    """Run every bare loop and engine WARMUP_CALLS times on a small stream.

    CPython 3.11 specialises a function's bytecode only once it has been entered 8
    times; each bare loop is one call per run, so without this its first seven timed
    runs execute unspecialised, about 1.8x slower (the engine's many small methods are
    specialised within its first run).
    """
    for _, bare, engine in cases(requests(2000, seed), general=general):
        for _ in range(WARMUP_CALLS):
            bare()
            engine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requests", nargs="?", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--general", action="store_true",
                        help="time the engine's general loop, not the request-level lane")
    args = parser.parse_args()
    n = args.requests
    print(f"{n:,} requests, Poisson at rho = {UTILIZATION} over {SERVERS} servers, "
          f"exponential service of mean 1 s, seed {args.seed}; medians of {args.repeats} "
          f"paired runs after a warm-up; engine: {'general loop' if args.general else 'lane'}\n")
    warm_up(args.seed + 1, general=args.general)
    goal = ">= 0.5x" if args.general else ">= 0.7x; >= 0.5x vs the minimal loop"
    print(f"| system | bare µs/request | engine µs/request | engine speed (goal {goal}) "
          "| identical |\n|---|---|---|---|---|")
    for name, bare, engine in cases(requests(n, args.seed), general=args.general):
        compare(name, bare, engine, args.repeats, n)


if __name__ == "__main__":
    main()
