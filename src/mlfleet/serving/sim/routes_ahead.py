"""Routes of a load-blind balancer drawn ahead, a stretch at a time.

A balancer whose router reads no replica's load (:class:`~mlfleet.serving.lb.base.RoutesAhead`:
random, round robin) can give many routes in one vectorised call — ``floor(u * n)``
over an array of the generator's doubles, a rotation by ``arange`` — where its router
costs a Python call per request. The bare loops of ``benchmarks/bench_mmc_vs_heapq.py``
compute their routes that way; so does the engine, when it may.

It may while nothing can change the fleet or read the engine's generator between two
routes: the run goes to the end (no ``until_s``) with nothing scheduled (no failure,
deployment or callback). The one thing that can still run between routes is the
progress callback, so the routes are drawn in stretches that end where it is called
(every :data:`~.request_lane.PROGRESS_EVERY` arrivals), each stretch when its first route
is asked for: whatever the callback does (read the generator, schedule a failure,
change the fleet, which rebuilds the router), it finds the generator and the
balancer exactly where routing one request at a time would have left them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain

from mlfleet.serving.lb.base import RoutesAhead
from mlfleet.serving.policy import ReplicaView, Router
from mlfleet.serving.sim.uniforms import BlockUniforms


def stretch_router(lb: RoutesAhead, replicas: Sequence[ReplicaView], uniforms: BlockUniforms,
                   *, first: int, total: int, every: int) -> Router | None:
    """The router of arrivals ``first`` .. ``total - 1``, drawn a stretch at a time,
    stretches ending at multiples of ``every``; None if ``lb`` offers no routes ahead
    for this fleet. A C-level callable (no Python frame per route)."""
    if lb.routes_ahead(replicas, uniforms, 0) is None:
        return None

    def stretches() -> Iterator[list[int]]:
        low = first
        while low < total:
            high = min(total, (low // every + 1) * every)
            routes = lb.routes_ahead(replicas, uniforms, high - low)
            assert routes is not None and len(routes) == high - low
            yield routes
            low = high

    return chain.from_iterable(stretches()).__next__
