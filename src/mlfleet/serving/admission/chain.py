"""Several admission policies in sequence: a request is admitted only if all admit.

Order matters and is the caller's: put coalescing first so duplicates spend no rate
tokens, the rate limiter next, capacity-based policies last. When a later policy
rejects a request, the earlier ones that admitted it get ``on_finish`` at once, so
they release whatever they reserved (a priority slot, an in-flight key).
"""

from __future__ import annotations

from collections.abc import Sequence

from mlfleet.errors import PolicyConfigError
from mlfleet.serving.policy import Admission, Coalescing, Request, SystemView


class AllOf:
    """Admits a request only if every policy in ``policies`` admits it, in order."""

    def __init__(self, policies: Sequence[Admission]) -> None:
        if not policies:
            raise PolicyConfigError("policies(=[]) must hold at least one admission policy")
        self.policies = tuple(policies)

    def admit(self, request: Request, system: SystemView) -> bool:
        """Ask each policy in turn; on the first rejection release the earlier ones."""
        for k, policy in enumerate(self.policies):
            if not policy.admit(request, system):
                for earlier in self.policies[:k]:
                    earlier.on_finish(request, system.now_s)
                return False
        return True

    def on_finish(self, request: Request, now_s: float) -> None:
        """Forward to every policy."""
        for policy in self.policies:
            policy.on_finish(request, now_s)

    def coalesced_into(self, rid: int) -> int | None:
        """The leader a coalescing member named for the refused request ``rid``, if any."""
        for policy in self.policies:
            if isinstance(policy, Coalescing) and (leader := policy.coalesced_into(rid)) \
                    is not None:
                return leader
        return None
