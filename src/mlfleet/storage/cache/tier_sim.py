"""A client reading a trace through a fast cache tier in front of a slow tier, on mlfleet.sim.

Fidelity: simulate. One client consumes blocks in trace order, spending ``compute_s_per_block``
on each. A block in the fast tier costs ``fast.latency_s + block_bytes / fast.bw``; a miss
goes to the slow tier, a single FIFO channel whose transfers are serialised at its bandwidth
and whose latency is pipelined (``done = max(now, busy_until) + bytes/bw + latency``). A
prefetcher (:class:`~mlfleet.storage.cache.prefetch.SequentialReadAhead`) issues fetches on
the same channel; an arriving block is admitted to the cache (it counts as one reference for
the policy). The client stalls while its block is in flight.

Closed forms it is checked against (tests/storage/cache/test_tier_sim.py): without
prefetching the run time is ``sum(hit time) + sum(miss time) + n * compute`` exactly; with deep
read-ahead on a sequential trace it approaches ``n * max(compute + fast time, bytes/bw)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import non_negative, one_of, positive, positive_int
from mlfleet.sim import Simulation
from mlfleet.storage.cache import POLICY_NAMES, Cache, CacheInputError, policy
from mlfleet.storage.cache.prefetch import SequentialReadAhead


@dataclass(frozen=True, kw_only=True)
class TierLink:
    """How one tier serves a block read: fixed latency plus bytes over bandwidth."""

    latency_s: float
    bw_bytes_per_s: float
    usd_per_request: float = 0.0
    """Price of one read request (object-store GET); 0 for local media."""

    def __post_init__(self) -> None:
        non_negative("latency_s", self.latency_s, error=CacheInputError)
        positive("bw_bytes_per_s", self.bw_bytes_per_s, error=CacheInputError)
        non_negative("usd_per_request", self.usd_per_request, error=CacheInputError)


@dataclass(frozen=True, kw_only=True)
class TierSimConfig:
    """The tiers, the cache in front of the slow one, and the client."""

    fast: TierLink
    slow: TierLink
    cache_policy: str
    cache_blocks: int
    block_bytes: float
    compute_s_per_block: float
    prefetch_depth: int = 0

    def __post_init__(self) -> None:
        one_of("cache_policy", self.cache_policy, POLICY_NAMES, error=CacheInputError)
        positive_int("cache_blocks", self.cache_blocks, error=CacheInputError)
        positive("block_bytes", self.block_bytes, error=CacheInputError)
        non_negative("compute_s_per_block", self.compute_s_per_block, error=CacheInputError)
        positive_int("prefetch_depth", self.prefetch_depth, minimum=0, error=CacheInputError)


@dataclass(frozen=True, kw_only=True)
class TierSimResult:
    """What one replay cost: time, stalls, slow-tier traffic and requests."""

    accesses: int
    hits: int
    time_s: float
    stall_s: float
    """Time the client waited for a block beyond its fast-tier read and its compute."""
    slow_requests: int
    slow_bytes: float
    wasted_prefetches: int
    """Prefetched blocks never read from the cache (evicted first, or left at the end)."""
    slow_request_usd: float
    bytes_saved: float
    """Slow-tier bytes avoided against a client with no cache: (accesses - fetches) x block."""

    @property
    def hit_rate(self) -> float:
        return self.hits / self.accesses


def simulate(config: TierSimConfig, trace: npt.NDArray[np.int64], *, seed: int = 0) -> TierSimResult:
    """Replay ``trace`` (block ids ``0..max``) through the tiers; deterministic for a seed."""
    replay = _Replay(config, trace, Simulation(seed=seed))
    return replay.run()


class _Replay:
    """The state of one replay: the client's position, blocks in flight, the slow channel."""

    def __init__(self, config: TierSimConfig, trace: npt.NDArray[np.int64],
                 sim: Simulation) -> None:
        self.config, self.trace, self.sim = config, trace.tolist(), sim
        self.cache: Cache = policy(config.cache_policy, config.cache_blocks)
        self.ahead = SequentialReadAhead(depth=config.prefetch_depth,
                                         blocks=int(trace.max()) + 1 if len(trace) else 0)
        self.in_flight: set[int] = set()
        self.unread_prefetched: set[int] = set()
        self.busy_until_s = 0.0
        self.position, self.hits, self.requests, self.prefetches, self.useful = 0, 0, 0, 0, 0
        self.waiting_since_s: float | None = None
        self.stall_s = 0.0
        self.kind_next = sim.kind("next block")
        self.kind_fetched = sim.kind("fetched")

    def run(self) -> TierSimResult:
        handlers = {self.kind_next: self._next, self.kind_fetched: self._fetched}
        self.sim.schedule(0.0, self.kind_next, None)
        end_s = self.sim.run(handlers)
        config, n = self.config, len(self.trace)
        return TierSimResult(
            accesses=n, hits=self.hits, time_s=end_s, stall_s=self.stall_s,
            slow_requests=self.requests, slow_bytes=self.requests * config.block_bytes,
            wasted_prefetches=self.prefetches - self.useful,
            slow_request_usd=self.requests * config.slow.usd_per_request,
            bytes_saved=(n - self.requests) * config.block_bytes)

    def _fast_s(self) -> float:
        fast = self.config.fast
        return fast.latency_s + self.config.block_bytes / fast.bw_bytes_per_s

    def _next(self, now_s: float, _seq: int, _payload: object) -> list[tuple[float, int, object]]:
        """The client wants the block at its position: read it, or wait for its fetch."""
        if self.position >= len(self.trace):
            return []
        block = self.trace[self.position]
        follow = self._prefetch(now_s, block)
        if block in self.cache:
            self.hits += 1
            self.cache.access(block)
            return follow + self._consume(now_s, block, self._fast_s())
        if block not in self.in_flight:
            self.unread_prefetched.discard(block)  # fetched ahead but evicted unread: wasted
            follow.append(self._fetch(now_s, block))
        self.waiting_since_s = now_s
        return follow

    def _consume(self, now_s: float, block: int, read_s: float) -> list[tuple[float, int, object]]:
        if block in self.unread_prefetched:
            self.unread_prefetched.discard(block)
            self.useful += 1
        self.position += 1
        return [(now_s + read_s + self.config.compute_s_per_block, self.kind_next, None)]

    def _prefetch(self, now_s: float, block: int) -> list[tuple[float, int, object]]:
        out = []
        for ahead in self.ahead.ahead(block):
            if ahead not in self.cache and ahead not in self.in_flight:
                self.unread_prefetched.add(ahead)
                self.prefetches += 1
                out.append(self._fetch(now_s, ahead))
        return out

    def _fetch(self, now_s: float, block: int) -> tuple[float, int, object]:
        slow = self.config.slow
        self.busy_until_s = max(now_s, self.busy_until_s) + \
            self.config.block_bytes / slow.bw_bytes_per_s
        self.in_flight.add(block)
        self.requests += 1
        return (self.busy_until_s + slow.latency_s, self.kind_fetched, block)

    def _fetched(self, now_s: float, _seq: int, block: int) -> list[tuple[float, int, object]]:
        """A block arrives from the slow tier: admit it; serve the client if it waits for it."""
        self.in_flight.discard(block)
        self.cache.access(block)
        if self.waiting_since_s is None or self.trace[self.position] != block:
            return []
        self.stall_s += now_s - self.waiting_since_s
        self.waiting_since_s = None
        return self._consume(now_s, block, 0.0)
