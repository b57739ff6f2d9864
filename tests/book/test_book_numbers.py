"""Book number formatting: fixed significant digits, stable text."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.book.numbers import SIGNIFICANT_DIGITS, format_cell


@pytest.mark.parametrize(("value", "text"), [
    (None, "–"), (True, "yes"), (False, "no"), ("ring", "ring"), (4096, "4,096"),
    (0.0, "0"), (1234567.0, "1,235,000"), (989.4, "989.4"), (2.25, "2.250"),
    (9.99996, "10.00"), (0.00123456, "0.001235"), (2.5e15, "2.500e+15"), (4.551e-05, "4.551e-05"),
    (math.inf, "∞"), (-math.inf, "-∞"), (math.nan, "n/a"), (-12.5, "-12.50"),
])
def test_known_values(value: object, text: str) -> None:
    assert format_cell(value) == text  # type: ignore[arg-type]


@given(st.floats(min_value=1e-300, max_value=1e300) | st.floats(min_value=-1e300,
                                                                max_value=-1e-300))
def test_text_reads_back_within_half_a_last_digit(value: float) -> None:
    back = float(format_cell(value).replace(",", ""))
    assert math.isclose(back, value, rel_tol=0.5 * 10.0 ** (1 - SIGNIFICANT_DIGITS) * 1.0001)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_same_value_same_text(value: float) -> None:
    assert format_cell(value) == format_cell(float(repr(value)))
