"""Argument checks shared by the cost models, and the error they raise.

The models are vectorised: sizes and rank counts may be scalars or numpy arrays.
A check rejects the whole call when any element is out of range, quoting the
first bad value and what is allowed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlfleet.errors import CommInputError

FloatArray = NDArray[np.float64]


def as_sizes(size_bytes: ArrayLike, *, name: str = "size_bytes") -> FloatArray:
    """``size_bytes`` as a float array; CommInputError when negative or not finite."""
    sizes = np.asarray(size_bytes, dtype=np.float64)
    bad = ~np.isfinite(sizes) | (sizes < 0)
    if bad.any():
        raise CommInputError(f"{name}(={float(sizes[bad].flat[0])!r}) must be a finite size >= 0 bytes")
    return sizes


def as_ranks(n_ranks: ArrayLike, *, minimum: int = 2, name: str = "n_ranks") -> FloatArray:
    """``n_ranks`` as a float array of whole numbers >= ``minimum``; CommInputError otherwise."""
    ranks = np.asarray(n_ranks, dtype=np.float64)
    bad = ~np.isfinite(ranks) | (ranks < minimum) | (ranks != np.round(ranks))
    if bad.any():
        raise CommInputError(
            f"{name}(={ranks[bad].flat[0]:g}) must be a whole number of ranks >= {minimum}")
    return ranks


def positive(value: float, name: str) -> float:
    """``value`` as a float; CommInputError unless finite and > 0."""
    number = float(value)
    if not np.isfinite(number) or number <= 0:
        raise CommInputError(f"{name}(={number:g}) must be > 0")
    return number


def non_negative(value: float, name: str) -> float:
    """``value`` as a float; CommInputError unless finite and >= 0."""
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise CommInputError(f"{name}(={number:g}) must be >= 0")
    return number


def choose(name: str, known: list[str] | tuple[str, ...], what: str) -> str:
    """``name`` if it is one of ``known``; CommInputError listing them otherwise."""
    if name not in known:
        raise CommInputError(f"unknown {what} {name!r}; known: {', '.join(known)}")
    return name
