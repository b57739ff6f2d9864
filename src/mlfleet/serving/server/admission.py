"""Admission control for the real server: shed (429 + Retry-After) before the queue overflows.

The server asks an :class:`AdmissionPolicy` at every arrival, before queueing, and tells
it when an admitted request finishes. :class:`SharedPolicy` is the one the server runs:
first the bounded queue, which *is* the simulator's
:class:`~mlfleet.serving.admission.queue_depth.QueueDepthAdmission` at the path's queue
capacity (one implementation checked in simulation and in the server), then optionally
any other of the simulator's admission policies (``serving/admission``: token bucket,
priority, coalescing ...). An admitted request finds fewer than ``queue_capacity``
waiting, so it leaves the queue with at most the ``floor((capacity - 1) / batch) + 1``-th
batch dispatched after the one in service: admitted latency stays bounded under any
overload (the calibration experiment's overload check measures exactly this bound).

``Retry-After`` is the time the current queue needs to drain at the recently measured
throughput, rounded up to whole seconds as HTTP requires (RFC 9110 §10.2.3).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mlfleet.serving.admission.queue_depth import QueueDepthAdmission
from mlfleet.serving.admission.registry import make_admission
from mlfleet.serving.policy import Admission, Request, SystemView


@dataclass(frozen=True, kw_only=True)
class LoadView:
    """What a policy sees about one batcher and the arriving request."""

    queued: int
    """Requests waiting."""
    running: int
    """Requests in service (sequences decoding, for generate)."""
    queue_capacity: int
    served_per_s: float
    """Recent throughput in requests per second (0 before the first batch)."""
    user: int = 0
    """The request's user / tenant id."""
    priority: int = 0
    """The request's priority class, 0 highest."""
    prompt_tokens: int = 1
    """Prompt length (generate), 1 for rank."""
    output_tokens: int = 1
    """Tokens asked for (generate), 1 for rank."""


@dataclass(frozen=True, kw_only=True)
class AdmissionDecision:
    """Admit, or shed with a hint of when to come back."""

    admitted: bool
    retry_after_s: float = 0.0
    reason: str = ""
    ticket: Any = None
    """Policy-private state handed back to :meth:`AdmissionPolicy.on_finish`."""


class AdmissionPolicy(Protocol):
    """Decides at arrival (cheap: it runs on the event loop); hears of finished requests."""

    def decide(self, load: LoadView) -> AdmissionDecision: ...

    def on_finish(self, decision: AdmissionDecision) -> None:
        """An admitted request left (answered, failed or expired)."""
        ...


def _drain_s(load: LoadView) -> float:
    return (load.queued + 1) / load.served_per_s if load.served_per_s > 0 else 1.0


class SharedPolicy:
    """The queue bound, then optionally a simulator admission policy.

    Each arrival becomes a :class:`~mlfleet.serving.policy.Request` stamped with
    ``clock()`` seconds and the server one replica in a :class:`SystemView`; both the
    bound (a :class:`QueueDepthAdmission` per queue capacity: the rank and generate paths
    have their own) and ``policy`` decide on them.
    """

    def __init__(self, policy: Admission | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._bounds: dict[int, QueueDepthAdmission] = {}
        self._ids = itertools.count()

    def bound(self, queue_capacity: int) -> QueueDepthAdmission:
        """The queue-depth admission of a path with this queue capacity."""
        bound = self._bounds.get(queue_capacity)
        if bound is None:
            bound = self._bounds[queue_capacity] = QueueDepthAdmission(max_queued=queue_capacity)
        return bound

    def decide(self, load: LoadView) -> AdmissionDecision:
        now = self._clock()
        request = Request(id=next(self._ids), arrival_s=now, prompt_tokens=load.prompt_tokens,
                          output_tokens=load.output_tokens, user=load.user,
                          priority=load.priority)
        system = SystemView(now_s=now, queued_total=load.queued,
                            outstanding_total=load.queued + load.running, alive_replicas=1,
                            queued_by_priority={})
        if not self.bound(load.queue_capacity).admit(request, system):
            return AdmissionDecision(
                admitted=False, retry_after_s=_drain_s(load),
                reason=f"queue full ({load.queued}/{load.queue_capacity} waiting)")
        if self.policy is None:
            return AdmissionDecision(admitted=True)
        if self.policy.admit(request, system):
            return AdmissionDecision(admitted=True, ticket=request)
        return AdmissionDecision(admitted=False, retry_after_s=_drain_s(load),
                                 reason=f"shed by {type(self.policy).__name__}")

    def on_finish(self, decision: AdmissionDecision) -> None:
        if self.policy is not None and isinstance(decision.ticket, Request):
            self.policy.on_finish(decision.ticket, self._clock())


def make_policy(name: str | None, params: dict[str, Any] | None = None) -> AdmissionPolicy:
    """The queue bound alone (``name`` None) or with the named shared policy behind it.

    Raises :class:`~mlfleet.errors.PolicyConfigError` (an InputError) for an
    unknown name or bad parameters, listing what is allowed.
    """
    if name is None:
        return SharedPolicy()
    return SharedPolicy(make_admission(name, **(params or {})))


def retry_after_header(retry_after_s: float) -> str:
    """HTTP ``Retry-After`` delay-seconds: a whole number, at least 1."""
    return str(max(1, math.ceil(retry_after_s)))
