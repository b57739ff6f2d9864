"""Argument checks shared by the serving models, and the error they raise.

Checks accept scalars or numpy arrays and reject the whole call when any element is
out of range, quoting the first bad value and what is allowed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mlfleet.errors import ServingInputError

FloatArray = npt.NDArray[np.float64]


def _first_bad(arr: FloatArray, bad: npt.NDArray[np.bool_]) -> float:
    return float(arr[bad].flat[0])


def positive(name: str, value: npt.ArrayLike, *, allow_inf: bool = False) -> FloatArray:
    """``value`` as a float array; ServingInputError unless every element is > 0 (and finite)."""
    arr = np.asarray(value, dtype=np.float64)
    bad = np.isnan(arr) | (arr <= 0) | (np.isinf(arr) if not allow_inf else False)
    if np.any(bad):
        raise ServingInputError(f"{name}(={_first_bad(arr, bad):g}) must be a finite number > 0")
    return arr


def non_negative(name: str, value: npt.ArrayLike) -> FloatArray:
    """``value`` as a float array; ServingInputError unless every element is finite and >= 0."""
    arr = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        raise ServingInputError(f"{name}(={_first_bad(arr, bad):g}) must be a finite number >= 0")
    return arr


def probability(name: str, value: npt.ArrayLike, *, open_low: bool = False,
                open_high: bool = False) -> FloatArray:
    """``value`` as a float array in [0, 1] (ends excluded on request); ServingInputError else."""
    arr = np.asarray(value, dtype=np.float64)
    bad = np.isnan(arr) | (arr < 0) | (arr > 1)
    bad |= (arr == 0) if open_low else False
    bad |= (arr == 1) if open_high else False
    if np.any(bad):
        low, high = "(" if open_low else "[", ")" if open_high else "]"
        raise ServingInputError(f"{name}(={_first_bad(arr, bad):g}) must be in {low}0, 1{high}")
    return arr


def whole(name: str, value: npt.ArrayLike, *, minimum: int = 1) -> FloatArray:
    """``value`` as a float array of whole numbers >= ``minimum``; ServingInputError else."""
    arr = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < minimum) | (arr != np.round(arr))
    if np.any(bad):
        raise ServingInputError(
            f"{name}(={_first_bad(arr, bad):g}) must be a whole number >= {minimum}")
    return arr


def one_of(name: str, value: str, known: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``known``; ServingInputError listing them otherwise."""
    if value not in known:
        raise ServingInputError(f"{name} {value!r} is unknown; known: {', '.join(known)}")
    return value
