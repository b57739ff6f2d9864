"""What one load-generator run is (:class:`LoadSpec`, validated on construction) and what
happened to each of its requests (:class:`RequestRecord`): the types
:mod:`mlfleet.serving.loadgen`, its statistics and the simulator's calibration share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.errors import InputError

MIN_RATE_RPS = 1e-6
MAX_RATE_RPS = 1e5
"""Highest ``--rate`` accepted. One asyncio process cannot offer more: its arrival loop
alone schedules about this many arrivals per second, and it sends far fewer (see
docs/serving-real.md); a higher rate needs several processes."""
MAX_PAYLOAD_VALUES = 10_000
"""Most items (rank) or prompt tokens (generate) per request: with ``max_in_flight``, this
bounds the request bodies held at once (1024 x 10,000 numbers: about 60 MB of JSON)."""

@dataclass(frozen=True, kw_only=True)
class LoadSpec:
    """One open-loop run against one endpoint."""

    url: str
    """Endpoint URL: ``http://HOST:PORT/v1/rank`` or ``.../v1/generate``."""
    rate_rps: float
    """Mean arrival rate (Poisson), requests per second."""
    duration_s: float
    """Arrivals are generated over this long; the run then waits for stragglers."""
    seed: int = 0
    """Seed of the arrival times and the request contents."""
    items_per_request: int = 64
    """Rank: candidate items per request."""
    prompt_tokens: int = 16
    """Generate: prompt length in tokens (bytes)."""
    max_new_tokens: int = 16
    """Generate: tokens to generate per request."""
    slo_s: float | None = None
    """Latency SLO for goodput (generate: on TTFT); ``None``: every success counts."""
    deadline_ms: float | None = None
    """Sent as ``X-Deadline-Ms`` when set."""
    timeout_s: float = 60.0
    """Client-side timeout per request (counted as status ``timeout``)."""
    max_in_flight: int = 1024
    """Most requests awaiting a response at once; an arrival beyond it is dropped."""
    max_lag_s: float = 1.0
    """An arrival the client comes to more than this late is dropped, not sent late."""
    retries: int = 0
    """Most retries per request of a retryable outcome (429, 5xx, timeout, transport
    error); 0: none."""
    retry_budget: float = 0.2
    """Retries allowed per request over the trailing ``retry_window_s`` (Envoy's
    ``budget_percent`` / 100), on top of ``retry_min``."""
    retry_min: int = 3
    """Retries always allowed per window."""
    retry_window_s: float = 10.0
    """The retry budget's window."""
    backoff_base_s: float = 0.01
    """Full-jitter backoff: the first retry waits up to this long, doubling per retry."""
    backoff_cap_s: float = 1.0
    """Full-jitter backoff: no wait exceeds this."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(f"url(={self.url!r}) must be an http(s) URL with host and port")
        if self.route not in ("rank", "generate"):
            raise InputError(f"url(={self.url!r}) must end in /v1/rank or /v1/generate")
        if self.rate_rps > MAX_RATE_RPS:
            raise InputError(f"rate_rps(={self.rate_rps:g}) must be <= {MAX_RATE_RPS:g} req/s: "
                             "one loadgen process cannot offer more; run several")
        if not self.rate_rps >= MIN_RATE_RPS:  # NaN too
            raise InputError(f"rate_rps(={self.rate_rps:g}) must be >= {MIN_RATE_RPS:g} req/s")
        for name in ("duration_s", "timeout_s", "max_lag_s"):
            positive(name, getattr(self, name))
        for name in ("items_per_request", "prompt_tokens"):
            if not 1 <= getattr(self, name) <= MAX_PAYLOAD_VALUES:
                raise InputError(f"{name}(={getattr(self, name)}) must be in "
                                 f"[1, {MAX_PAYLOAD_VALUES}]")
        for name in ("max_new_tokens", "max_in_flight"):
            positive_int(name, getattr(self, name))
        positive_int("seed", self.seed, minimum=0)
        for name in ("retries", "retry_min"):
            positive_int(name, getattr(self, name), minimum=0)
        non_negative("retry_budget", self.retry_budget)
        for name in ("retry_window_s", "backoff_base_s", "backoff_cap_s"):
            positive(name, getattr(self, name))
        for name in ("slo_s", "deadline_ms"):
            if getattr(self, name) is not None:
                positive(name, getattr(self, name), allow_inf=True)

    @property
    def route(self) -> str:
        return urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


@dataclass(slots=True)
class RequestRecord:
    """What happened to one request; times in seconds from the start of the run."""

    index: int
    intended_s: float
    sent_s: float = math.nan
    status: str = "pending"
    """HTTP status code as a string, or ``timeout`` / ``error`` (transport failure)."""
    latency_s: float = math.nan
    """From the scheduled arrival to the last byte of the response."""
    ttft_s: float = math.nan
    tpot_s: float = math.nan
    tokens: int = 0
    server_s: dict[str, float] = field(default_factory=dict)
    """``Server-Timing`` durations in seconds: queue, service, app."""
    retry_after_s: float = math.nan
    """The ``Retry-After`` header (seconds), when the response had one."""
    retries: int = 0
    """Attempts after the first."""
    budget_denied: bool = False
    """A retry was wanted but the client's retry budget was exhausted."""
    served_by: str = ""
    """The last response's ``X-Served-By`` (``primary`` or a fallback tier), if any."""
