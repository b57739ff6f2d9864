"""The inputs every cost model shares, checked once and converted.

Rank counts and message sizes may be scalars or numpy arrays (the models are
vectorised); a link is described to the user by latency α and bandwidth B but
enters the formulas as α, β = 1/B and γ. Bad values raise
:class:`~mlfleet.errors.CommInputError` through :mod:`mlfleet.checks`.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, non_negative, non_negative_array, positive, whole_array
from mlfleet.errors import CommInputError


def ranks(n_ranks: ArrayLike, *, minimum: int = 2, name: str = "n_ranks") -> FloatArray:
    """``n_ranks`` as a float array of whole numbers >= ``minimum``."""
    return whole_array(name, n_ranks, minimum=minimum, error=CommInputError)


def sizes(size_bytes: ArrayLike, *, name: str = "size_bytes") -> FloatArray:
    """``size_bytes`` as a float array of finite sizes >= 0."""
    return non_negative_array(name, size_bytes, error=CommInputError)


def link_terms(alpha_s: float, bw_bytes_per_s: float,
               gamma_s_per_byte: float = 0.0) -> tuple[float, float, float]:
    """(α seconds per message, β = 1/B seconds per byte, γ seconds per reduced byte)."""
    return (non_negative("alpha_s", alpha_s, error=CommInputError),
            1.0 / positive("bw_bytes_per_s", bw_bytes_per_s, error=CommInputError),
            non_negative("gamma_s_per_byte", gamma_s_per_byte, error=CommInputError))
