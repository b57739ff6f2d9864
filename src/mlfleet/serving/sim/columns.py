"""Per-request state of one simulation run, held as columns.

A run's requests are ids 0..n-1 in arrival order, shadow copies (a mirror) appended
after. Each attribute of :class:`Columns` is a Python list indexed by request id:
lists, not numpy arrays, because the hot paths read and write one element at a time
and a list element is several times cheaper to touch than an array's.

This is the narrow API between the engine and the replicas. A replica *reads* the
request sizes (``prompt``, ``output``, ``service_s``, ``priority``) and *writes* only
the milestones it decides — ``start_s``, ``first_token_s`` (each once, the first time)
and ``preemptions`` — and hands a finished request back to the engine
(:meth:`~.host.ReplicaHost.complete`), which alone writes ``finish_s``, ``status``,
``replica`` and ``attempts``. The request-level lane (:mod:`~.request_lane`) writes
the engine's columns too, as the engine would have for the same decisions. Moving the
milestones behind a method call per write would add a Python call per request and
milestone to the hottest paths (one per event), for no difference in the records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Protocol

import numpy as np

from mlfleet.serving.policy import Request
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.results import STATUS, SimResult

PENDING = STATUS.index("pending")


class ReplicaTotals(Protocol):
    """What the records keep of each replica."""

    @property
    def group(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def busy_s(self) -> float: ...

    @property
    def capacity(self) -> int: ...


class Columns:
    """The per-request columns of one run (see the module docstring)."""

    def __init__(self, requests: RequestStream) -> None:
        self.requests = requests
        """The stream this run serves (ids 0..n-1; shadow copies are appended after)."""
        n = len(requests)
        self.arrival_s: list[float] = requests.arrival_s.tolist()
        self.service_s: list[float] = requests.service_s.tolist()
        """Demand on a unit-speed server; NaN: the replica's model decides."""
        nan = math.nan
        self.start_s = [nan] * n
        self.first_token_s = [nan] * n
        self.finish_s = [nan] * n
        self.replica = [-1] * n
        self.status = [PENDING] * n
        """Indices into :data:`~.results.STATUS`."""
        self.attempts = [0] * n
        self.preemptions = [0] * n
        self.shadow_of = [-1] * n

    # The stream's other columns become lists on first use (``cached_property``: then
    # an attribute like the rest): a run whose replicas never read them (request-level
    # service of given demands) skips converting them, a third of its set-up.

    @cached_property
    def prompt(self) -> list[int]:
        """Prompt tokens."""
        return self.requests.prompt_tokens.tolist()  # type: ignore[no-any-return]

    @cached_property
    def output(self) -> list[int]:
        """Output tokens."""
        return self.requests.output_tokens.tolist()  # type: ignore[no-any-return]

    @cached_property
    def session(self) -> list[int]:
        """Session id (-1: none), as in the stream."""
        return self.requests.session.tolist()  # type: ignore[no-any-return]

    @cached_property
    def user(self) -> list[int]:
        """User id, as in the stream."""
        return self.requests.user.tolist()  # type: ignore[no-any-return]

    @cached_property
    def priority(self) -> list[int]:
        """Priority, as in the stream."""
        return self.requests.priority.tolist()  # type: ignore[no-any-return]

    @cached_property
    def key(self) -> list[int]:
        """The request's key (-1: none), as in the stream."""
        return self.requests.key.tolist()  # type: ignore[no-any-return]

    def request(self, rid: int) -> Request:
        """A snapshot of request ``rid`` as the policies see it."""
        # positional, in Request's field order: 3x faster than keywords, once per arrival
        return Request(rid, self.arrival_s[rid], self.prompt[rid], self.output[rid],
                       self.user[rid], self.session[rid], self.priority[rid], self.key[rid],
                       self.replica[rid], self.start_s[rid], self.first_token_s[rid],
                       self.finish_s[rid], STATUS[self.status[rid]], self.attempts[rid],
                       self.service_s[rid], self.preemptions[rid])

    def copy(self, rid: int) -> int:
        """Append a shadow copy of ``rid`` (pending, not yet routed); its id."""
        new = len(self.arrival_s)
        for floats in (self.arrival_s, self.service_s):
            floats.append(floats[rid])
        for ints in (self.prompt, self.output, self.session, self.user, self.priority,
                     self.key):
            ints.append(ints[rid])
        for times in (self.start_s, self.first_token_s, self.finish_s):
            times.append(math.nan)
        for col, value in ((self.replica, -1), (self.status, PENDING), (self.attempts, 0),
                           (self.preemptions, 0), (self.shadow_of, rid)):
            col.append(value)
        return new

    def records(self, replicas: Sequence[ReplicaTotals]) -> SimResult:
        """The columns as numpy records, with each replica's totals."""
        f64, i64 = np.float64, np.int64
        stream, total = self.requests, len(self.arrival_s)

        def column(given: np.ndarray, name: str, dtype: type[np.generic]) -> np.ndarray:
            if total == len(given):  # no shadow copies: reuse the stream's array
                return given
            return np.asarray(getattr(self, name), dtype=dtype)

        status = to_array(self.status, i64)
        finish = to_array(self.finish_s, f64)
        first = to_array(self.first_token_s, f64)
        answered = (status == STATUS.index("done")) | (status == STATUS.index("coalesced"))
        first = np.where(np.isnan(first) & answered, finish, first)
        return SimResult(
            arrival_s=column(stream.arrival_s, "arrival_s", f64),
            start_s=to_array(self.start_s, f64), first_token_s=first, finish_s=finish,
            prompt_tokens=column(stream.prompt_tokens, "prompt", i64),
            output_tokens=column(stream.output_tokens, "output", i64),
            replica=to_array(self.replica, i64), status=status,
            attempts=to_array(self.attempts, i64),
            preemptions=to_array(self.preemptions, i64),
            shadow_of=to_array(self.shadow_of, i64),
            replica_group=tuple(r.group for r in replicas),
            replica_kind=tuple(r.kind for r in replicas),
            replica_busy_s=np.array([r.busy_s for r in replicas], f64),
            replica_capacity=np.array([r.capacity for r in replicas], i64))


def to_array(values: list[int] | list[float], dtype: type[np.generic]) -> np.ndarray:
    """``values`` as a 1-d array of ``dtype``, the same as ``np.array(values, dtype)``.

    Many columns of a run hold one value throughout (every request done after one
    attempt, none preempted, no shadow copies, no first-token time): ``np.full`` builds
    those without converting each element, which ``np.array`` does at ~30 ns a value.
    The test is ``list.count``, after a look at the middle and the end rules most varied
    columns out. It compares by value, which is exact for ints; of floats only NaN is
    taken this way (the one object, counted by identity), since ``0.0 == -0.0``.
    """
    n = len(values)
    if n and (first := values[0]) is values[-1] is values[n // 2] \
            and (isinstance(first, int) or first != first) \
            and values.count(first) == n:  # type: ignore[arg-type]
        return np.full(n, first, dtype)
    return np.fromiter(values, dtype, n)
