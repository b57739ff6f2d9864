"""Traffic groups: how a split (canary) or a mirror routes a share of arrivals.

A split is a list of ``(cumulative share, group)``: an arrival draws one double ``u``
and goes to the first group whose cumulative share exceeds ``u``, else to :data:`REST`,
the replicas outside every group of the split (the baseline). The balancer then sees
the fleet through :class:`GroupView`, in which replicas outside the group show
``alive == False``.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlfleet.errors import InputError
from mlfleet.serving.policy import ReplicaView, Uniforms

REST = "\x00rest"
"""Routing target of the traffic a split leaves: replicas outside the split's groups."""

Split = list[tuple[float, str]]
"""``(cumulative share, group)`` in the order given."""


def cumulative_split(fractions: Mapping[str, float]) -> Split:
    """``fractions[group]`` of the traffic to each group as a :data:`Split`.

    Raises InputError for a share outside [0, 1] or shares summing to more than 1.
    """
    total = 0.0
    split: Split = []
    for group, share in fractions.items():
        if not (isinstance(share, int | float) and 0 <= share <= 1):
            raise InputError(f"split share for {group!r}(={share!r}) must be in [0, 1]")
        total += share
        split.append((total, group))
    if total > 1 + 1e-12:
        raise InputError(f"split shares sum to {total:g}; they must sum to at most 1")
    return split


def draw_group(split: Split, uniforms: Uniforms) -> str:
    """The group of one arrival under ``split`` (one double)."""
    u = uniforms.random()
    for upper, group in split:
        if u < upper:
            return group
    return REST


def is_member(replica_group: str, group: str, split: Split) -> bool:
    """Whether a replica of ``replica_group`` serves traffic routed to ``group``."""
    if group == REST:
        return all(replica_group != g for _, g in split)
    return replica_group == group


class GroupView:
    """A replica as a policy sees it while routing traffic of one group: alive only if
    it is alive and a member of the group."""

    __slots__ = ("_r", "_member")

    def __init__(self, replica: ReplicaView, member: bool) -> None:
        self._r, self._member = replica, member

    @property
    def index(self) -> int:
        return self._r.index

    @property
    def alive(self) -> bool:
        return self._member and self._r.alive

    @property
    def weight(self) -> float:
        return self._r.weight

    @property
    def outstanding(self) -> int:
        return self._r.outstanding

    @property
    def queued(self) -> int:
        return self._r.queued

    def has_session(self, session: int) -> bool:
        return self._r.has_session(session)
