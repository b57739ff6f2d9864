"""The engine on request-level (non-batched) service against a bare heapq loop.

Run: ``.venv/bin/python benchmarks/bench_mmc_vs_heapq.py [requests] [--repeats 3]``.
Not a test. Two systems, each run by both on the same requests (same seed):

* M/M/c: c = 8 servers sharing one FIFO queue at ρ = 0.9 (the engine: one
  :class:`RequestLevelReplica` with 8 servers);
* c × M/M/1 behind a random load balancer: 8 single-server replicas, each arrival
  routed uniformly at random (the engine: the ``random`` policy of ``serving/lb``; the
  bare loop draws the same choices from an identically seeded generator).

The bare loop is the textbook discrete-event simulation: one heap holding the next
arrival and every departure, ``(time, seq, kind, request)`` tuples. Both produce
per-request start and finish times; the script checks they are identical and prints
the speed ratio (bare time / engine time; the goal is >= 0.7). Times are CPU seconds
(best of the repeats), engine construction and result arrays included.
"""

from __future__ import annotations

import argparse
import heapq
import time
from collections import deque

import numpy as np

from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, RequestStream, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica

SERVERS, UTILIZATION = 8, 0.9


def bare_mmc(arrival: list[float], service: list[float], c: int) -> tuple[list[float],
                                                                          list[float]]:
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
    return start, finish


def bare_random_lb(arrival: list[float], service: list[float], c: int,
                   rng: np.random.Generator) -> tuple[list[float], list[float]]:
    """c single-server FIFO queues; each arrival joins a uniformly random one."""
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
            r = where[i] = int(rng.random() * c)  # as serving/lb/base.py draws
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
    return start, finish


def requests(n: int, seed: int) -> RequestStream:
    return make_requests(n, arrivals=PoissonArrivals(rate_per_s=UTILIZATION * SERVERS),
                         rng=np.random.default_rng(seed), service=Exponential(mean_s=1.0))


def timed(fn: object, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.process_time()
        out = fn()  # type: ignore[operator]
        best = min(best, time.process_time() - t)
    return best, out


def compare(name: str, bare: object, engine: object, repeats: int, n: int) -> None:
    t_bare, (b_start, b_finish) = timed(bare, repeats)  # type: ignore[misc]
    t_engine, res = timed(engine, repeats)
    same = (np.array_equal(res.start_s, b_start)  # type: ignore[attr-defined]
            and np.array_equal(res.finish_s, b_finish))  # type: ignore[attr-defined]
    print(f"{name}: bare heapq {t_bare / n * 1e6:.2f} µs/request, engine "
          f"{t_engine / n * 1e6:.2f} µs/request -> engine speed {t_bare / t_engine:.2f}x the "
          f"bare loop (goal >= 0.7); identical results: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requests", nargs="?", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n, stream = args.requests, requests(args.requests, args.seed)
    arrival, service = stream.arrival_s.tolist(), stream.service_s.tolist()
    print(f"{n:,} requests, Poisson at rho = {UTILIZATION} over {SERVERS} servers, "
          f"exponential service of mean 1 s, seed {args.seed}")
    compare(f"M/M/{SERVERS}", lambda: bare_mmc(arrival, service, SERVERS),
            lambda: Engine(requests=stream, replicas=[RequestLevelReplica(servers=SERVERS)],
                           rng=np.random.default_rng(0)).run(), args.repeats, n)
    compare(f"{SERVERS} x M/M/1, random LB",
            lambda: bare_random_lb(arrival, service, SERVERS, np.random.default_rng(7)),
            lambda: Engine(requests=stream, replicas=[RequestLevelReplica()
                                                      for _ in range(SERVERS)],
                           rng=np.random.default_rng(7), lb=make_load_balancer("random")).run(),
            args.repeats, n)


if __name__ == "__main__":
    main()
