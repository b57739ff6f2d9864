"""The request stream: per-request arrays the engine consumes, and how to make one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError
from mlfleet.serving.sim.arrivals.base import ArrivalProcess, request_count
from mlfleet.serving.sim.arrivals.lengths import (
    Fixed,
    LengthDistribution,
    ServiceDistribution,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _ints(n: int, fill: int) -> IntArray:
    return np.full(n, fill, dtype=np.int64)


@dataclass(frozen=True, kw_only=True)
class RequestStream:
    """n requests in arrival order; every array has length n."""

    arrival_s: FloatArray
    """Non-decreasing arrival times, >= 0."""
    prompt_tokens: IntArray
    output_tokens: IntArray
    service_s: FloatArray = field(default_factory=lambda: np.empty(0))
    """Service demand on a unit-speed server (non-LLM); NaN (or empty) for none."""
    session: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    user: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    priority: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    key: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n = len(self.arrival_s)
        defaults = {"service_s": np.full(n, np.nan), "session": _ints(n, -1),
                    "user": _ints(n, 0), "priority": _ints(n, 0), "key": _ints(n, -1)}
        for name, default in defaults.items():
            if len(getattr(self, name)) == 0:
                object.__setattr__(self, name, default)
        for name in ("prompt_tokens", "output_tokens", *defaults):
            if len(getattr(self, name)) != n:
                raise InputError(f"{name} has {len(getattr(self, name))} values for "
                                 f"{n} arrivals")
        self._check_values()

    def _check_values(self) -> None:
        t = np.asarray(self.arrival_s, dtype=np.float64)
        if t.size and (not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) < 0)):
            bad = t[~np.isfinite(t)] if not np.all(np.isfinite(t)) else t[:1]
            raise InputError(f"arrival_s must be finite, >= 0 and non-decreasing "
                             f"(first offending value {float(bad[0])!r})")
        for name in ("prompt_tokens", "output_tokens"):
            arr = getattr(self, name)
            if arr.size and arr.min() < 1:
                raise InputError(f"{name}(={int(arr.min())}) must be >= 1 for every request")
        s = self.service_s[~np.isnan(self.service_s)]
        if s.size and (not np.all(np.isfinite(s)) or s.min() <= 0):
            raise InputError(f"service_s(={float(s.min())!r}) must be > 0 (or NaN for none)")

    def __len__(self) -> int:
        return len(self.arrival_s)


def make_requests(n: int, *, arrivals: ArrivalProcess, rng: np.random.Generator,
                  prompt: LengthDistribution | None = None,
                  output: LengthDistribution | None = None,
                  service: ServiceDistribution | None = None) -> RequestStream:
    """``n`` requests: times from ``arrivals``, sizes from the distributions.

    Prompt and output lengths default to 1 token (a non-LLM request). Each quantity is
    drawn from its own child of ``rng`` so that changing one distribution leaves the
    others' draws unchanged.
    """
    n = request_count(n)
    r_time, r_prompt, r_output, r_service = rng.spawn(4)
    one = Fixed(tokens=1)
    return RequestStream(
        arrival_s=arrivals.times_s(n, r_time),
        prompt_tokens=(prompt or one).sample(n, r_prompt),
        output_tokens=(output or one).sample(n, r_output),
        service_s=service.sample(n, r_service) if service is not None else np.full(n, np.nan))
