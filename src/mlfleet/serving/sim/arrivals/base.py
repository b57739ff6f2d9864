"""The contract of an arrival process, and the request-count check every process shares."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive_int

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


def request_count(n: int) -> int:
    """``n`` if it is an integer >= 1, else InputError quoting it as ``requests``."""
    return positive_int("requests", n)
