"""Argument checks for every chapter: one module, one argument order, one message shape.

Every check takes the argument's *name first*, then its value, and returns the value
converted (``float``, ``int``, ``str`` or a float array). A bad value raises the
:class:`~mlfleet.errors.InputError` subclass the caller passes as ``error`` (default
:class:`~mlfleet.errors.InputError`), with a one-line message that quotes the value
and says what is allowed, as SimPy does::

    positive("servers", -3)        # InputError: servers(=-3) must be a finite number > 0
    one_of("precision", "fp4", ("fp16", "bf16"))
                                   # precision(='fp4') is unknown; known: fp16, bf16

Scalar checks (``positive``, ``non_negative``, ``finite``, ``fraction``,
``positive_int``, ``one_of``) accept Python and numpy numbers but not ``bool``. Array
checks (``*_array``, ``whole_array``) accept anything numpy turns into a float array and
reject the whole call when any element is out of range, quoting the first bad one.
Numbers are quoted as a person writes them (``-3``, ``2``, ``0.5``, ``nan``), anything
else by ``repr`` (``'fast'``).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable
from typing import SupportsIndex

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError

FloatArray = npt.NDArray[np.float64]
"""The float64 array every array check returns."""

ErrorType = type[InputError]


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _fail(error: ErrorType, name: str, shown: str, allowed: str) -> InputError:
    return error(f"{name}(={shown}) {allowed}")


def _quote(value: object) -> str:
    """A number as a person writes it (``-3``, ``0.5``, ``nan``); anything else by repr."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return _show(float(value))


def finite(name: str, value: float, *, error: ErrorType = InputError) -> float:
    """``value`` as a float if it is a finite number, else ``error``."""
    if not _is_number(value) or not math.isfinite(value):
        raise _fail(error, name, _quote(value), "must be a finite number")
    return float(value)


def positive(name: str, value: float, *, allow_inf: bool = False,
             error: ErrorType = InputError) -> float:
    """``value`` as a float if it is a finite number > 0 (``inf`` too with ``allow_inf``)."""
    if not _is_number(value) or math.isnan(value) or value <= 0 \
            or (math.isinf(value) and not allow_inf):
        raise _fail(error, name, _quote(value), f"must be a{'' if allow_inf else ' finite'} number > 0")
    return float(value)


def non_negative(name: str, value: float, *, error: ErrorType = InputError) -> float:
    """``value`` as a float if it is a finite number >= 0, else ``error``."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise _fail(error, name, _quote(value), "must be a finite number >= 0")
    return float(value)


def _interval(open_low: bool, open_high: bool) -> str:
    return f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"


def fraction(name: str, value: float, *, open_low: bool = False, open_high: bool = False,
             error: ErrorType = InputError) -> float:
    """``value`` as a float in [0, 1] (an end excluded on request), else ``error``."""
    ok = _is_number(value) and not math.isnan(value) \
        and (value > 0 if open_low else value >= 0) and (value < 1 if open_high else value <= 1)
    if not ok:
        raise _fail(error, name, _quote(value),
                    f"must be a fraction in {_interval(open_low, open_high)}")
    return float(value)


def positive_int(name: str, value: SupportsIndex, *, minimum: int = 1,
                 error: ErrorType = InputError) -> int:
    """``value`` as an int if it is an integer (not a float, not a bool) >= ``minimum``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_) \
            or operator.index(value) < minimum:
        raise _fail(error, name, _quote(value), f"must be an integer >= {minimum}")
    return operator.index(value)


def one_of(name: str, value: str, allowed: Iterable[str], *,
           error: ErrorType = InputError) -> str:
    """``value`` if it is one of ``allowed``, else ``error`` listing them."""
    known = tuple(allowed)
    if not isinstance(value, str) or value not in known:
        raise _fail(error, name, _quote(value), f"is unknown; known: {', '.join(known)}")
    return value


def _show(element: float) -> str:
    """A float element as a person writes it: ``-3``, ``0.5``, ``nan``, ``inf``."""
    if math.isfinite(element) and element.is_integer() and abs(element) < 1e16:
        return str(int(element))
    return repr(element)


def _as_floats(name: str, value: npt.ArrayLike, error: ErrorType, allowed: str) -> FloatArray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(error, name, _quote(value), allowed) from None


def _reject(arr: FloatArray, bad: npt.NDArray[np.bool_], name: str, allowed: str,
            error: ErrorType) -> FloatArray:
    if np.any(bad):
        raise _fail(error, name, _show(float(arr[bad].flat[0])), allowed)
    return arr


def finite_array(name: str, value: npt.ArrayLike, *, error: ErrorType = InputError) -> FloatArray:
    """``value`` as a float array if every element is finite, else ``error``."""
    allowed = "must be a finite number"
    arr = _as_floats(name, value, error, allowed)
    return _reject(arr, ~np.isfinite(arr), name, allowed, error)


def positive_array(name: str, value: npt.ArrayLike, *, allow_inf: bool = False,
                   error: ErrorType = InputError) -> FloatArray:
    """``value`` as a float array if every element is > 0 and finite (or ``inf`` if allowed)."""
    allowed = f"must be a{'' if allow_inf else ' finite'} number > 0"
    arr = _as_floats(name, value, error, allowed)
    bad = np.isnan(arr) | (arr <= 0)
    if not allow_inf:
        bad |= np.isinf(arr)
    return _reject(arr, bad, name, allowed, error)


def non_negative_array(name: str, value: npt.ArrayLike, *,
                       error: ErrorType = InputError) -> FloatArray:
    """``value`` as a float array if every element is finite and >= 0, else ``error``."""
    allowed = "must be a finite number >= 0"
    arr = _as_floats(name, value, error, allowed)
    return _reject(arr, ~np.isfinite(arr) | (arr < 0), name, allowed, error)


def fraction_array(name: str, value: npt.ArrayLike, *, open_low: bool = False,
                   open_high: bool = False, error: ErrorType = InputError) -> FloatArray:
    """``value`` as a float array in [0, 1] (an end excluded on request), else ``error``."""
    allowed = f"must be a fraction in {_interval(open_low, open_high)}"
    arr = _as_floats(name, value, error, allowed)
    bad = np.isnan(arr) | (arr < 0) | (arr > 1)
    if open_low:
        bad |= arr == 0
    if open_high:
        bad |= arr == 1
    return _reject(arr, bad, name, allowed, error)


def whole_array(name: str, value: npt.ArrayLike, *, minimum: int = 1,
                error: ErrorType = InputError) -> FloatArray:
    """``value`` as a float array of whole numbers >= ``minimum``, else ``error``."""
    allowed = f"must be a whole number >= {minimum}"
    arr = _as_floats(name, value, error, allowed)
    bad = ~np.isfinite(arr) | (arr < minimum)
    bad |= np.where(np.isfinite(arr), arr != np.round(arr), True)
    return _reject(arr, bad, name, allowed, error)
