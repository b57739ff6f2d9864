"""Token-bucket rate limiting, per user and global.

A bucket holds at most ``burst`` tokens and refills at ``rate_per_s``; a request is
admitted only if it can take its cost in tokens. Hence over ANY window of length T the
admitted cost is at most rate·T + burst (the bucket's arrival curve, as in RFC 2697 /
network calculus) — a burst of ``burst`` at once, then the sustained rate. Cost is one
per request, or prompt + output tokens with ``cost="tokens"`` (an LLM API's tokens-per-
minute limit, beside its requests-per-minute one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlfleet.checks import one_of, positive
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.policy import Request, SystemView

COSTS = ("requests", "tokens")
_EPS_TOKENS = 1e-9
"""Rounding allowance: gaps of exactly 1/rate must refill exactly one token. The balance
may dip this far below 0, so the arrival-curve bound holds to within it, not beyond."""


@dataclass(kw_only=True)
class TokenBucket:
    """One bucket; starts full. Times must not go backwards."""

    rate_per_s: float
    """Refill rate in tokens per second."""
    burst: float
    """Capacity in tokens (the largest burst admitted at once)."""
    tokens: float = field(default=-1.0)
    """Tokens now; -1 means full (set on construction)."""
    last_s: float = field(default=float("-inf"))

    def __post_init__(self) -> None:
        positive("rate_per_s", self.rate_per_s, error=PolicyConfigError)
        positive("burst", self.burst, error=PolicyConfigError)
        if self.tokens < 0:
            self.tokens = self.burst

    def can_take(self, now_s: float, amount: float = 1.0) -> bool:
        """Whether ``amount`` tokens are available at ``now_s`` (refills first)."""
        self._refill(now_s)
        return self.tokens >= amount - _EPS_TOKENS

    def take(self, now_s: float, amount: float = 1.0) -> None:
        """Remove ``amount`` tokens; the caller checked :meth:`can_take` at ``now_s``."""
        self._refill(now_s)
        assert self.tokens >= amount - _EPS_TOKENS, (self.tokens, amount)
        self.tokens -= amount

    def try_take(self, now_s: float, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens if available; return whether it did."""
        ok = self.can_take(now_s, amount)
        if ok:
            self.take(now_s, amount)
        return ok

    def _refill(self, now_s: float) -> None:
        assert now_s >= self.last_s, f"time went backwards: {now_s} < {self.last_s}"
        if self.last_s != float("-inf"):
            self.tokens = min(self.burst, self.tokens + self.rate_per_s * (now_s - self.last_s))
        self.last_s = now_s


class TokenBucketAdmission:
    """Admits a request only if its user's bucket AND the global bucket both have tokens.

    Either limit may be None (not enforced). A burst left as None defaults to one
    second of its rate (at least 1). A request rejected by either bucket takes tokens
    from neither, so a user over its limit does not drain the global budget.
    """

    def __init__(self, *, rate_per_s: float | None = None, burst: float | None = None,
                 per_user_rate_per_s: float | None = None, per_user_burst: float | None = None,
                 cost: str = "requests") -> None:
        if rate_per_s is None and per_user_rate_per_s is None:
            raise PolicyConfigError("token_bucket needs rate_per_s and/or per_user_rate_per_s "
                                    "(got neither)")
        self.cost = one_of("cost", cost, COSTS, error=PolicyConfigError)
        self._global = _bucket(rate_per_s, burst)
        self._user_rate_burst = (per_user_rate_per_s, per_user_burst)
        _bucket(per_user_rate_per_s, per_user_burst)  # validate now, not at the first arrival
        self._users: dict[int, TokenBucket] = {}

    def admit(self, request: Request, system: SystemView) -> bool:
        """Whether both buckets can pay the request's cost at ``system.now_s``; pays if so."""
        amount = float(request.prompt_tokens + request.output_tokens) \
            if self.cost == "tokens" else 1.0
        buckets = [b for b in (self._global, self._user_bucket(request.user)) if b is not None]
        if not all(b.can_take(system.now_s, amount) for b in buckets):
            return False
        for b in buckets:
            b.take(system.now_s, amount)
        return True

    def on_finish(self, request: Request, now_s: float) -> None:
        """Tokens are spent at admission; nothing to release."""

    def _user_bucket(self, user: int) -> TokenBucket | None:
        if self._user_rate_burst[0] is None:
            return None
        if user not in self._users:
            bucket = _bucket(*self._user_rate_burst)
            assert bucket is not None
            self._users[user] = bucket
        return self._users[user]


def _bucket(rate_per_s: float | None, burst: float | None) -> TokenBucket | None:
    if rate_per_s is None:
        return None
    rate = positive("rate_per_s", rate_per_s, error=PolicyConfigError)
    return TokenBucket(rate_per_s=rate, burst=max(1.0, rate) if burst is None else burst)
