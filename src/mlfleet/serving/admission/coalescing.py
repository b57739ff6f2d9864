"""Request coalescing: a duplicate of an in-flight request attaches to it.

Requests with the same content ``key`` (an identical prompt, the same recommendation
query) arriving while one of them is being served need one backend computation: the
first (the leader) is admitted, and each later duplicate (a follower) is held back and
answered with the leader's response when it completes. N duplicates in flight cost one
backend request. Keys of -1 never coalesce. Exact-key matching only; semantic
similarity would replace the key with an embedding neighbourhood.

A follower is refused by ``admit`` and named by :meth:`CoalescingAdmission.coalesced_into`
(the :class:`~mlfleet.serving.policy.Coalescing` seam): the engine never
dispatches it and records it ``coalesced``, finishing with its leader. The policy also
remembers who follows whom (:attr:`~CoalescingAdmission.leader_of`,
:meth:`~CoalescingAdmission.follower_finish_s`).
"""

from __future__ import annotations

from mlfleet.serving.policy import Request, SystemView


class CoalescingAdmission:
    """Admits the first request per in-flight key; later duplicates follow it."""

    def __init__(self) -> None:
        self._in_flight: dict[int, int] = {}
        """Key -> id of the leader being served."""
        self.leader_of: dict[int, int] = {}
        """Follower id -> leader id."""
        self.outcome: dict[int, tuple[str, float]] = {}
        """Leader id -> (final status, finish time) once it completed or failed."""

    def admit(self, request: Request, system: SystemView) -> bool:
        """True for a leader (or a request without key); False for a follower."""
        if request.key < 0:
            return True
        leader = self._in_flight.get(request.key)
        if leader is None:
            self._in_flight[request.key] = request.id
            return True
        self.leader_of[request.id] = leader
        return False

    def coalesced_into(self, rid: int) -> int | None:
        """The leader a refused request follows; None if it was not refused here."""
        return self.leader_of.get(rid)

    def on_finish(self, request: Request, now_s: float) -> None:
        """A leader finished: its key is free again and its followers are answered."""
        if request.key >= 0 and self._in_flight.get(request.key) == request.id:
            del self._in_flight[request.key]
            self.outcome[request.id] = (request.status, now_s)

    def in_flight_keys(self) -> int:
        """Keys with a leader being served now."""
        return len(self._in_flight)

    def follower_finish_s(self) -> dict[int, float]:
        """Follower id -> the time its leader's response came back (answered followers)."""
        return {f: self.outcome[lead][1] for f, lead in self.leader_of.items()
                if lead in self.outcome}
