"""The pods of one Deployment on the serving engine: starting, ready, draining.

The seam between an autoscaler and :class:`mlfleet.serving.sim.engine.Engine`, through
the engine's public hooks only: a pod asked for now becomes a replica
(:meth:`Engine.add_replica`) after its cold start; a pod scaled away stops receiving
requests at once, finishes what it holds, and is then removed
(:meth:`Engine.kill_replica`, with nothing left to fail over). Requests go to a ready
pod chosen uniformly at random (kube-proxy's iptables mode), through
:class:`ReadyPodsBalancer`, which reads the same list of ready pods this class keeps.

Kubernetes removes not-yet-ready pods before ready ones, and the newest first
(the ReplicaSet controller's deletion order); so does :meth:`Deployment.scale_to`.
A pod is billed from the moment it is asked for (the accelerator is held while the
model loads) until it is removed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import partial
from math import floor

import numpy as np

from mlfleet.infra.autoscale.hpa import PodMetrics
from mlfleet.serving.policy import ReplicaView, Request, Router, Uniforms
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.base import Replica


class ReadyPodsBalancer:
    """Uniform choice among the ready pods (a list the :class:`Deployment` mutates)."""

    def __init__(self, ready: list[int]) -> None:
        self.ready = ready

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        ready = self.ready
        return ready[floor(rng.random() * len(ready))]

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        return None

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router | None:
        """``choose`` on the engine's block-drawn uniforms (the same doubles, in order)."""
        ready, draw = self.ready, uniforms.random
        return lambda: ready[floor(draw() * len(ready))]


class Deployment:
    """Pods of one deployment on ``engine``; replicas made by ``make_replica``."""

    def __init__(self, *, make_replica: Callable[[], Replica], cold_start_s: float,
                 servers: int) -> None:
        self.make_replica = make_replica
        self.cold_start_s = cold_start_s
        self.servers = servers
        self.ready: list[int] = []
        """Engine indices of the ready pods, oldest first (the balancer reads this list)."""
        self.ready_since_s: dict[int, float] = {}
        self.starting: list[int] = []
        """Tokens of the pods still starting, oldest first."""
        self.draining: list[int] = []
        self.billed: list[tuple[float, int]] = []
        """(time, pods billed from then on): a step function."""
        self._tokens = itertools.count()
        self._busy_seen_s: dict[int, float] = {}
        self.engine: Engine | None = None

    def attach(self, engine: Engine, *, initial: int) -> None:
        """The engine built with ``initial`` ready replicas at indices 0..initial-1."""
        self.engine = engine
        self.ready.extend(range(initial))
        for index in range(initial):
            self.ready_since_s[index] = -float("inf")
            self._busy_seen_s[index] = 0.0
        self._bill(0.0)

    @property
    def replicas(self) -> int:
        """The deployment's replica count (ready + starting; draining pods are leaving)."""
        return len(self.ready) + len(self.starting)

    def scale_to(self, wanted: int, now_s: float) -> None:
        """Ask for ``wanted`` pods: start new ones, or remove starting then newest ready."""
        assert self.engine is not None and wanted >= 1
        for _ in range(wanted - self.replicas):
            token = next(self._tokens)
            self.starting.append(token)
            self.engine.call_at(now_s + self.cold_start_s, partial(self._become_ready, token))
        while self.replicas > wanted and self.starting:
            self.starting.pop()
        while self.replicas > wanted:
            self.draining.append(self.ready.pop())
        self._bill(now_s)

    def reap(self, now_s: float) -> None:
        """Remove draining pods that hold no request any more."""
        assert self.engine is not None
        engine = self.engine
        done = [i for i in self.draining if engine.replicas[i].outstanding == 0]
        for index in done:
            self.draining.remove(index)
            engine.kill_replica(index, at_s=now_s)
        if done:
            self._bill(now_s)

    def metrics(self, now_s: float, window_s: float) -> PodMetrics:
        """Each ready pod's busy fraction since the last call (the metric window); pods
        ready for less than a window, and starting pods, are not ready yet."""
        assert self.engine is not None
        utils, young = [], 0
        for index in self.ready:
            busy = self.engine.replicas[index].busy_s
            if now_s - self.ready_since_s[index] >= window_s:
                utils.append((busy - self._busy_seen_s[index]) / (self.servers * window_s))
            else:
                young += 1
            self._busy_seen_s[index] = busy
        return PodMetrics(utilizations=tuple(utils), unready=young + len(self.starting))

    def _become_ready(self, token: int, engine: Engine) -> None:
        if token not in self.starting:
            return  # scaled away while starting
        assert self.engine is not None
        self.starting.remove(token)
        index = self.engine.add_replica(self.make_replica())
        self.ready.append(index)
        self.ready_since_s[index] = self.engine.now_s
        self._busy_seen_s[index] = 0.0

    def _bill(self, now_s: float) -> None:
        self.billed.append((now_s, self.replicas + len(self.draining)))
