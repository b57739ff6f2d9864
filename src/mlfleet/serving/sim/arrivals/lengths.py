"""Request sizes: prompt and output token counts (LLM) and service demands (non-LLM).

A :class:`LengthDistribution` draws integer token counts >= 1; a
:class:`ServiceDistribution` draws service demands in seconds (a unit-speed server's
busy time for the request, e.g. exponential for M/M/c).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class LengthDistribution(Protocol):
    """Draws token counts."""

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        """``n`` integers >= 1."""
        ...


class ServiceDistribution(Protocol):
    """Draws service demands."""

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        """``n`` seconds > 0."""
        ...


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name}(={value!r}) must be an integer >= 1")
    return int(value)


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value <= 0:
        raise InputError(f"{name}(={value!r}) must be a finite number > 0")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class Fixed:
    """Every request has ``tokens`` tokens."""

    tokens: int

    def __post_init__(self) -> None:
        _whole("tokens", self.tokens)

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        return np.full(n, self.tokens, dtype=np.int64)


@dataclass(frozen=True, kw_only=True)
class LogNormal:
    """Lognormal token counts with the given ``median`` and log-space ``sigma``, rounded
    and clipped to [``min_tokens``, ``max_tokens``] (LLM prompt and output lengths are
    close to lognormal in public traces, e.g. the Azure LLM inference traces)."""

    median: float
    sigma: float = 1.0
    min_tokens: int = 1
    max_tokens: int = 1_000_000

    def __post_init__(self) -> None:
        _positive("median", self.median)
        _positive("sigma", self.sigma)
        _whole("min_tokens", self.min_tokens)
        if _whole("max_tokens", self.max_tokens) < self.min_tokens:
            raise InputError(f"max_tokens(={self.max_tokens}) must be >= "
                             f"min_tokens ({self.min_tokens})")

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        draws = rng.lognormal(math.log(self.median), self.sigma, n)
        return np.clip(np.rint(draws), self.min_tokens, self.max_tokens).astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class Exponential:
    """Exponential service demand of mean ``mean_s`` (the M in M/M/c)."""

    mean_s: float

    def __post_init__(self) -> None:
        _positive("mean_s", self.mean_s)

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        return rng.exponential(self.mean_s, n)
