"""Deadlines propagated from client to server: an absolute deadline on the client's
clock, sent to each hop as the time *remaining* (``X-Deadline-Ms``, which the real
server already reads: ``serving/server/http_io.py``), so clocks need not agree and
every retry or hop sees only what is left (as gRPC propagates ``grpc-timeout``).

Each attempt gets ``min(per-try timeout, remaining)``; an attempt that would start with
less than nothing left is not made.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import positive

DEADLINE_HEADER = "X-Deadline-Ms"
"""Milliseconds remaining, relative to the moment the receiver reads the request."""


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """An absolute deadline on one clock (seconds)."""

    expires_at_s: float

    @classmethod
    def after(cls, timeout_s: float, *, now_s: float) -> Deadline:
        """The deadline ``timeout_s`` seconds from ``now_s``."""
        return cls(expires_at_s=now_s + positive("timeout_s", timeout_s, allow_inf=True))

    def remaining_s(self, now_s: float) -> float:
        """Seconds left (negative once passed)."""
        return self.expires_at_s - now_s

    def expired(self, now_s: float) -> bool:
        return self.remaining_s(now_s) <= 0

    def attempt_timeout_s(self, now_s: float, *, per_try_timeout_s: float | None = None) -> float:
        """This attempt's budget: the time left, capped by ``per_try_timeout_s``."""
        remaining_s = self.remaining_s(now_s)
        return remaining_s if per_try_timeout_s is None else min(remaining_s, per_try_timeout_s)

    def headers(self, now_s: float) -> dict[str, str]:
        """The header propagating what is left, in milliseconds (at least 1 µs worth)."""
        return {DEADLINE_HEADER: f"{max(self.remaining_s(now_s), 1e-6) * 1e3:.3f}"}
