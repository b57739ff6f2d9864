"""The contract of an arrival process, and the rate check every process shares."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError

FloatArray = npt.NDArray[np.float64]


class ArrivalProcess(Protocol):
    """Generates arrival times."""

    @property
    def mean_rate_per_s(self) -> float:
        """Long-run arrivals per second."""
        ...

    def times_s(self, n: int, rng: np.random.Generator) -> FloatArray:
        """``n`` increasing arrival times in seconds from 0 (the first is > 0)."""
        ...


def positive_rate(name: str, value: float) -> float:
    """``value`` if finite and > 0, else InputError quoting it."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise InputError(f"{name}(={value!r}) must be a finite number > 0")
    return float(value)


def request_count(n: int) -> int:
    """``n`` if it is an integer >= 1, else InputError quoting it."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InputError(f"requests(={n!r}) must be an integer >= 1")
    return int(n)
