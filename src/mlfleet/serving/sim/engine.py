"""The serving simulator's engine: arrivals, admission, routing, replicas, failures.

Construction::

    engine = Engine(requests=stream, replicas=[PagedReplica(...), ...],
                    rng=np.random.default_rng(seed), lb=..., admission=...)
    result = engine.run()

At each arrival the engine asks the :class:`~mlfleet.serving.policy.Admission` policy (if any)
whether to admit, draws the request's traffic group when a split is set
(:meth:`Engine.set_split`), asks the :class:`~mlfleet.serving.policy.LoadBalancer` for a replica of
that group (skipped when only one replica can serve) and hands the request over. A
request the policy refuses is shed, or, when the policy coalesced it into one in flight
(:class:`~mlfleet.serving.policy.Coalescing`), answered with that one ('coalesced'). The
replicas own batching and time (one event per batch iteration or per coalesced decode
run, never per token).

Time belongs to the kernel, :class:`mlfleet.sim.Simulation` (:attr:`Engine.sim`: clock,
event heap, sequence counter). The engine is its :class:`~mlfleet.sim.Source` of arrivals,
read from the stream's sorted array, so a request costs the heap nothing until a replica
(which sees the engine as a :class:`~.host.ReplicaHost`) schedules work for it.

With nothing to decide but the replica (no admission, split or mirror), a balancer
that ignores the request routes through its router (:class:`~mlfleet.serving.policy.RoutesBlind`;
the generator's doubles through :class:`~.uniforms.BlockUniforms`), a load-blind one
through routes drawn ahead (:mod:`~.routes_ahead`) while nothing is scheduled; a plain
request-level fleet then runs in :mod:`~.request_lane`. All give the same records.

Hooks for failure and deployment policies (``serving/deploy``), each taking effect at
a simulated time:

* :meth:`kill_replica` — the replica dies; its queued and in-flight requests fail
  over to other replicas (through the load balancer, ``attempts`` + 1, progress and
  session state lost), or fail when none is alive;
* :meth:`drain_replica` — the balancer stops routing to it; what it holds finishes there;
* :meth:`revive_replica`, :meth:`add_replica` — capacity comes (back);
* :meth:`set_split` — route a fraction of traffic to named replica groups (canary);
* :meth:`set_mirror` — copy a fraction of traffic to a group as shadow requests;
* :meth:`call_at` — run any callback at a time (ramps, burn-rate checks, rollbacks);
  it may read :meth:`snapshot` for the per-request records so far.

Per-request state lives in :class:`~.columns.Columns` (lists indexed by request id, in
arrival order, shadow copies appended), made a :class:`~.results.SimResult` at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mlfleet.errors import InputError
from mlfleet.serving.lb.base import RoutesAhead
from mlfleet.serving.lb.round_robin import RoundRobinBalancer
from mlfleet.serving.policy import (
    Admission,
    Coalescing,
    LoadBalancer,
    ReplicaView,
    Request,
    Router,
    RoutesBlind,
    SystemView,
)
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.columns import Columns
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.request_lane import PROGRESS_EVERY, fits_lane, serve_request_level
from mlfleet.serving.sim.results import STATUS, SimResult
from mlfleet.serving.sim.routes_ahead import stretch_router
from mlfleet.serving.sim.traffic import GroupView, cumulative_split, draw_group, is_member
from mlfleet.serving.sim.uniforms import BlockUniforms
from mlfleet.sim import Handler, Simulation

PENDING, DONE, REJECTED, FAILED, COALESCED = (
    STATUS.index(s) for s in ("pending", "done", "rejected", "failed", "coalesced"))


class Engine:
    """One simulation run (see the module docstring). Not reusable: build one per run.

    A client of the kernel :attr:`sim`, which alone owns the clock, the event heap and
    the sequence counter. The engine is the run's :class:`~mlfleet.sim.Source` of
    arrivals (``next_s``, :meth:`fire`); each replica's events have a kind of their own
    (``replica <index>``), dispatched to its ``on_timer``; callbacks (failures,
    deployments, :meth:`call_at`) have the kind ``call``. ``sim.counts()`` gives the
    events per kind.
    """

    _request_lane = True
    """Private switch: False keeps every run on the general loop (tests compare the two)."""
    _fast: Replica | None
    _route: Router | None

    def __init__(self, *, requests: RequestStream, replicas: Sequence[Replica],
                 rng: np.random.Generator, lb: LoadBalancer | None = None,
                 admission: Admission | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        if not replicas:
            raise InputError("replicas(=[]) must hold at least one replica")
        self.sim = Simulation()
        """The kernel: clock, events, per-kind counters."""
        self._arrival_kind = self.sim.kind("arrival")
        self._call_kind = self.sim.kind("call")
        self._handlers: list[Handler] = [self._on_source_kind, self._on_call]
        """Handler of each event kind, by kind (arrivals come from the source)."""
        self._timer_kinds: list[int] = []
        """Event kind of each replica's own events, by replica index."""
        self._rng, self._uniforms = rng, BlockUniforms(rng)  # random() drawn ahead for routers
        self.columns = cols = Columns(requests)
        """Per-request state (:mod:`~.columns`), shared with the replicas."""
        # the columns the hottest paths touch, one attribute lookup away
        self._arrival_s, self._replica_of, self._attempts = \
            cols.arrival_s, cols.replica, cols.attempts
        self._finish_s, self._status = cols.finish_s, cols.status
        self.requests, self.n_arrivals = requests, len(requests)
        self._next = 0  # id of the next arrival to deliver
        self.next_s = self.columns.arrival_s[0] if self.n_arrivals else math.inf
        """Time of the next arrival not yet delivered (+inf when none is left): the
        :class:`~mlfleet.sim.Source` side of the engine."""
        self.replicas: list[Replica] = []
        self.lb: LoadBalancer = lb if lb is not None else RoundRobinBalancer()
        self.admission = admission
        self._track_finish = admission is not None or bool(np.any(requests.session >= 0))
        """Whether a completion must update sessions or the admission policy."""
        self._coalesced_into = admission.coalesced_into \
            if isinstance(admission, Coalescing) else None
        self._followers: dict[int, list[int]] = {}
        """Request id -> the ids coalesced into it, answered when it finishes."""
        self._progress = progress
        self._split: list[tuple[float, str]] = []
        self._mirror: tuple[str, float] | None = None
        self._views: dict[str | None, Sequence[ReplicaView]] = {}
        self._alive: list[Replica] = []
        self._drained = False
        for replica in replicas:
            self._attach(replica)
        self._fleet_changed()

    @property
    def now_s(self) -> float:
        """The simulated time (s): the kernel's clock."""
        return self.sim.now_s

    @property
    def next_arrival_s(self) -> float:
        """Time of the next arrival not yet delivered (+inf when none is left)."""
        return self.next_s

    @property
    def sole_replica(self) -> Replica | None:
        """The replica every arrival goes to while nothing is decided, else None."""
        return self._fast

    # ------------------------------------------------------------------ the loop

    def run(self, *, until_s: float = math.inf) -> SimResult:
        """Simulate until every request is resolved (or ``until_s``); the records."""
        if until_s == math.inf and self._route is not None and self.sim.peek_s() == math.inf \
                and isinstance(lb := self.lb, RoutesAhead):  # see routes_ahead.py
            self._route = stretch_router(lb, self.replicas, self._uniforms, first=self._next,
                                         total=self.n_arrivals, every=PROGRESS_EVERY) or self._route
        if self._takes_request_lane(until_s):
            return self._run_request_lane()
        self.sim.run(self._handlers, until_s=until_s, source=self,
                     source_kind=self._arrival_kind)
        self._uniforms.release()
        if self._progress is not None:
            self._progress(self._next, self.n_arrivals)
        return self.snapshot()

    def fire(self, now_s: float) -> None:
        """Deliver the arrival due at ``now_s`` (as the kernel's Source); move ``next_s``."""
        i = self._next
        if (route := self._route) is not None:  # no policies, a blind balancer
            self._replica_of[i] = index = route()
            self._attempts[i] = 1
            self.replicas[index].enqueue(i, now_s)
        elif (fast := self._fast) is not None:  # one replica, no policies
            self._replica_of[i] = fast.index
            self._attempts[i] = 1
            fast.enqueue(i, now_s)
        else:
            self._arrive(i, now_s)
        self._next = i = i + 1
        if i < self.n_arrivals:
            self.next_s = self._arrival_s[i]
        else:
            self.next_s = math.inf
            self._drain()
        if self._progress is not None and not i & 0xFFFF:
            self._progress(i, self.n_arrivals)

    def _on_source_kind(self, now_s: float, seq: int, payload: object) -> None:
        raise AssertionError("arrivals come from the source, never from the heap")

    def _on_call(self, now_s: float, seq: int, fn: Callable[[Engine], Any]) -> None:
        """A callback scheduled with :meth:`call_at` came due."""
        self._uniforms.release()  # the callback may draw from the generator
        fn(self)

    def _takes_request_lane(self, until_s: float) -> bool:
        """Whether this run is a plain request-level fleet routed by a blind balancer (or
        one replica) from start to end: see :mod:`~.request_lane`."""
        return (self._request_lane and until_s == math.inf and self._next == 0
                and self.sim.peek_s() == math.inf and self._route_only and not self._track_finish
                and (self._fast is not None or self._route is not None)
                and fits_lane(self.replicas, self.requests.service_s))

    def _run_request_lane(self) -> SimResult:
        """The whole run in :func:`~.request_lane.serve_request_level`; the kernel is then
        told where its clock ends and what the lane handled (its counters). The records."""
        n, sim = self.n_arrivals, self.sim
        end_s = serve_request_level(self.columns, self.replicas, router=self._route,
                                    progress=self._progress, now_s=sim.now_s)
        sim.advance(end_s)
        self._next, self._drained, self.next_s = n, True, math.inf
        self._uniforms.release()
        if self._progress is not None:
            self._progress(n, n)
        records = self.snapshot()
        sim.tally(self._arrival_kind, n)  # every request arrived, and completed once:
        served = np.bincount(records.replica, minlength=len(self.replicas))
        for kind, completions in zip(self._timer_kinds, served.tolist(), strict=True):
            sim.tally(kind, completions)
        return records

    def _drain(self) -> None:
        self._drained = True
        for replica in self.replicas:
            if replica.alive:
                replica.on_drained(self.now_s)

    def _arrive(self, rid: int, now_s: float) -> None:
        if self._route_only:  # no admission, split or mirror: straight to the balancer
            alive = self._alive
            if not alive:
                self._fail(rid, now_s)
                return
            replica = self.replicas[self.lb.choose(self.request(rid), self.replicas, self.rng)]
            assert replica.alive, f"load balancer picked dead replica {replica.index}"
            self.columns.replica[rid] = replica.index
            self.columns.attempts[rid] += 1
            replica.enqueue(rid, now_s)
            return
        if self.admission is not None and not self.admission.admit(self.request(rid),
                                                                  self._system(now_s)):
            self._refuse(rid)
            return
        self._dispatch(rid, now_s, self._draw_group())
        if self._mirror is not None:
            group, fraction = self._mirror
            if fraction >= 1.0 or self.rng.random() < fraction:
                self._dispatch(self.columns.copy(rid), now_s, group)

    def _refuse(self, rid: int) -> None:
        """Shed ``rid``, or attach it to the in-flight request it was coalesced into."""
        leader = None if self._coalesced_into is None else self._coalesced_into(rid)
        if leader is None:
            self.columns.status[rid] = REJECTED
            return
        assert self.columns.status[leader] == PENDING and self.columns.shadow_of[leader] < 0, (
            f"request {rid} was coalesced into request {leader}, which is not in flight")
        self._followers.setdefault(leader, []).append(rid)

    def _dispatch(self, rid: int, now_s: float, group: str | None) -> None:
        """Route ``rid`` to a replica of ``group`` (None: any) and enqueue it there."""
        replica = self._choose(rid, group)
        if replica is None:
            self._fail(rid, now_s)
            return
        self.columns.replica[rid] = replica.index
        self.columns.attempts[rid] += 1
        replica.enqueue(rid, now_s)

    def _choose(self, rid: int, group: str | None) -> Replica | None:
        """A live replica for ``rid`` in ``group`` (None: any; ``REST``: outside the
        split's groups), falling back to any live replica when the group has none."""
        alive = self._alive
        if not alive:
            return None
        if group is None and len(alive) == 1:
            return alive[0]
        if group is None and self._route is not None:
            return self.replicas[self._route()]
        if group is not None and not any(self._member(r, group) for r in alive):
            group = None
        views = self._views.get(group)
        if views is None:
            views = self._views[group] = self._make_views(group)
        index = self.lb.choose(self.request(rid), views, self.rng)
        replica = self.replicas[index]
        assert replica.alive and (group is None or self._member(replica, group)), (
            f"load balancer picked replica {index}, which is dead or outside {group!r}")
        return replica

    def _member(self, replica: Replica, group: str) -> bool:
        return is_member(replica.group, group, self._split)

    def _make_views(self, group: str | None) -> Sequence[ReplicaView]:
        if group is None:
            return self.replicas
        return [GroupView(r, self._member(r, group)) for r in self.replicas]

    def _draw_group(self) -> str | None:
        return draw_group(self._split, self.rng) if self._split else None

    # ------------------------------------------------------------------ replica callbacks

    def complete(self, rid: int, now_s: float) -> None:
        """Called by a replica when ``rid`` has its whole response at ``now_s``.

        A request without a first-token time (non-LLM) gets its finish time as one in
        the results.
        """
        self._finish_s[rid] = now_s
        self._status[rid] = DONE
        if self._track_finish:
            session = self.columns.session[rid]
            if session >= 0:
                self.replicas[self.columns.replica[rid]].sessions.add(session)
            if self.admission is not None and self.columns.shadow_of[rid] < 0:
                self._admitted_finished(rid, now_s)

    def reject(self, rid: int, now_s: float) -> None:
        """Called by a replica that can never serve ``rid`` (e.g. longer than its KV)."""
        self.columns.status[rid] = REJECTED
        self.columns.finish_s[rid] = now_s
        if self.admission is not None and self.columns.shadow_of[rid] < 0:
            self._admitted_finished(rid, now_s)

    def _fail(self, rid: int, now_s: float) -> None:
        self.columns.status[rid] = FAILED
        self.columns.finish_s[rid] = now_s
        if self.admission is not None and self.columns.shadow_of[rid] < 0:
            self._admitted_finished(rid, now_s)

    def _admitted_finished(self, rid: int, now_s: float) -> None:
        """Tell the admission policy, then answer the requests coalesced into ``rid``:
        'coalesced' at its finish if it is done (first token no earlier than their own
        arrival), else its status."""
        assert self.admission is not None
        self.admission.on_finish(self.request(rid), now_s)
        followers = self._followers.pop(rid, None)
        if followers is None:
            return
        status, first_s = self.columns.status[rid], self.columns.first_token_s[rid]
        for follower in followers:
            self.columns.status[follower] = COALESCED if status == DONE else status
            self.columns.finish_s[follower] = now_s
            if status == DONE and not math.isnan(first_s):
                self.columns.first_token_s[follower] = max(first_s, self.columns.arrival_s[follower])

    # ------------------------------------------------------------------ policy views

    def request(self, rid: int) -> Request:
        """A snapshot of request ``rid`` as the policies see it."""
        return self.columns.request(rid)

    @property
    def rng(self) -> np.random.Generator:
        """The engine's generator (load balancing, traffic splits).

        Reading it first gives back the doubles drawn ahead for a router
        (:mod:`~.uniforms`), so every reader sees the sequence as if none had been.
        """
        self._uniforms.release()
        return self._rng

    def _system(self, now_s: float) -> SystemView:
        alive = self._alive
        return SystemView(now_s=now_s, queued_total=sum(r.queued for r in alive),
                          outstanding_total=sum(r.outstanding for r in alive),
                          alive_replicas=len(alive))

    def snapshot(self) -> SimResult:
        """The per-request records and per-replica totals as of now."""
        return self.columns.records(self.replicas)

    # ------------------------------------------------------------------ hooks

    def call_at(self, at_s: float, fn: Callable[[Engine], Any]) -> None:
        """Run ``fn(engine)`` at simulated time ``at_s`` (after arrivals at that time)."""
        if not (math.isfinite(at_s) and at_s >= self.now_s):
            raise InputError(f"at_s(={at_s!r}) must be a finite time >= now ({self.now_s:g} s)")
        self.sim.schedule(at_s, self._call_kind, fn)
        self._update_fast()  # the router again, if routes were drawn ahead (no longer safe)

    def kill_replica(self, index: int, *, at_s: float) -> None:
        """Replica ``index`` dies at ``at_s``; its requests fail over (see module doc)."""
        self._replica(index)
        self.call_at(at_s, lambda eng: eng._kill_now(index))

    def drain_replica(self, index: int, *, at_s: float) -> None:
        """Replica ``index`` leaves the balancer at ``at_s`` but finishes what it holds."""
        self._replica(index)
        self.call_at(at_s, lambda eng: eng._set_alive(index, False))

    def revive_replica(self, index: int, *, at_s: float) -> None:
        """Replica ``index`` comes back (empty, no session state) at ``at_s``."""
        self._replica(index)
        self.call_at(at_s, lambda eng: eng._set_alive(index, True))

    def add_replica(self, replica: Replica, *, at_s: float | None = None) -> int:
        """Add ``replica`` to the fleet, serving from ``at_s`` (now if None); its index."""
        index = self._attach(replica)
        if at_s is not None and at_s > self.now_s:
            replica.alive = False
            self.call_at(at_s, lambda eng: eng._set_alive(index, True))
        self._fleet_changed()
        return index

    def set_split(self, fractions: Mapping[str, float], *, at_s: float | None = None) -> None:
        """Route ``fractions[group]`` of arrivals to each named group and the rest to the
        replicas outside those groups (the baseline).

        E.g. ``{"canary": 0.05}``; ``{"green": 1.0}`` moves all traffic; ``{}`` ends the
        split. The load balancer then sees only the chosen replicas as alive; a group
        with no live replica falls back to every live one. Applied at ``at_s`` (now if
        None).
        """
        split = cumulative_split(fractions)
        self._at(at_s, lambda eng: eng._set("_split", split))

    def set_mirror(self, group: str | None, *, fraction: float = 1.0,
                   at_s: float | None = None) -> None:
        """Copy ``fraction`` of admitted arrivals to ``group`` as shadow requests (None
        stops). Shadow copies are records with ``shadow_of`` >= 0 and no user impact."""
        if not (isinstance(fraction, int | float) and 0 < fraction <= 1):
            raise InputError(f"fraction(={fraction!r}) must be in (0, 1]")
        mirror = None if group is None else (group, float(fraction))
        self._at(at_s, lambda eng: eng._set("_mirror", mirror))

    def _set(self, name: str, value: Any) -> None:
        setattr(self, name, value)
        self._views = {}
        self._update_fast()

    def _at(self, at_s: float | None, fn: Callable[[Engine], Any]) -> None:
        if at_s is None or at_s <= self.now_s:
            fn(self)
        else:
            self.call_at(at_s, fn)

    def _replica(self, index: int) -> Replica:
        if isinstance(index, bool) or not isinstance(index, int) \
                or not 0 <= index < len(self.replicas):
            raise InputError(f"replica index(={index!r}) must be in [0, {len(self.replicas)})")
        return self.replicas[index]

    def _attach(self, replica: Replica) -> int:
        index = len(self.replicas)
        kind = self.sim.kind(f"replica {index}")
        replica.attach(self, index, kind)
        assert kind == len(self._handlers), "kinds are registered in order"
        self._handlers.append(replica.on_timer)
        self._timer_kinds.append(kind)
        self.replicas.append(replica)
        return index

    def _fleet_changed(self) -> None:
        self._alive = [r for r in self.replicas if r.alive]
        self._views = {}
        self.lb.on_replicas_changed(self.replicas)
        self._update_fast()

    def _update_fast(self) -> None:
        """The replica every arrival goes to when there is nothing to decide, else None;
        the balancer's router when only it decides and it offers one, else None."""
        self._route_only = (self.admission is None and not self._split
                            and self._mirror is None)
        alive = self._alive
        self._fast = alive[0] if self._route_only and len(alive) == 1 else None
        self._route = None
        if self._route_only and len(alive) > 1 and isinstance(self.lb, RoutesBlind):
            self._route = self.lb.router(self.replicas, self._uniforms)

    def _set_alive(self, index: int, alive: bool) -> None:
        replica = self.replicas[index]
        replica.alive = alive
        self._fleet_changed()
        if alive and self._drained:
            replica.on_drained(self.now_s)

    def _kill_now(self, index: int) -> None:
        replica = self.replicas[index]
        if not replica.alive:
            return
        orphans = replica.evict(self.now_s)
        replica.sessions.clear()
        self._set_alive(index, False)
        nan = math.nan
        for rid in orphans:
            self.columns.start_s[rid] = self.columns.first_token_s[rid] = nan
            group = replica.group if self.columns.shadow_of[rid] >= 0 else None
            self._dispatch(rid, self.now_s, group)
