"""Properties of :mod:`mlfleet.checks`: accept exactly the allowed values, quote the rest.

Each check is compared with its definition written independently here (a predicate
on one float), over hypothesis-drawn floats including nan, inf, 0, -0 and subnormals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlfleet import checks
from mlfleet.errors import CommInputError, InputError

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
ANY_INT = st.integers(min_value=-(2**70), max_value=2**70)

ScalarCheck = Callable[[str, float], float]
Predicate = Callable[[float], bool]

SCALAR_CASES: list[tuple[ScalarCheck, Predicate]] = [
    (checks.finite, math.isfinite),
    (checks.positive, lambda x: math.isfinite(x) and x > 0),
    (checks.non_negative, lambda x: math.isfinite(x) and x >= 0),
    (checks.fraction, lambda x: 0 <= x <= 1),
]

ArrayCheck = Callable[[str, np.ndarray], np.ndarray]

ARRAY_CASES: list[tuple[ArrayCheck, Predicate]] = [
    (checks.finite_array, math.isfinite),
    (checks.positive_array, lambda x: math.isfinite(x) and x > 0),
    (checks.non_negative_array, lambda x: math.isfinite(x) and x >= 0),
    (checks.fraction_array, lambda x: 0 <= x <= 1),
    (checks.whole_array, lambda x: math.isfinite(x) and x >= 1 and x == round(x)),
]

MESSAGE = re.compile(r"^arg\(=[^)]*\) (must be .+|is unknown; known: .*)$")


@pytest.mark.parametrize(("check", "allowed"), SCALAR_CASES)
@given(value=ANY_FLOAT)
def test_scalar_check_accepts_exactly_its_definition(check: ScalarCheck, allowed: Predicate,
                                                     value: float) -> None:
    if allowed(value):
        assert check("arg", value) == value
    else:
        with pytest.raises(InputError) as info:
            check("arg", value)
        assert MESSAGE.match(str(info.value)), str(info.value)
        shown = str(info.value).split("(=", 1)[1].split(")", 1)[0]
        assert float(shown) == value or (math.isnan(value) and shown == "nan")


@pytest.mark.parametrize(("check", "allowed"), ARRAY_CASES)
@given(values=arrays(np.float64, st.integers(0, 6), elements=ANY_FLOAT))
def test_array_check_rejects_the_call_when_any_element_is_bad(
        check: ArrayCheck, allowed: Predicate, values: np.ndarray) -> None:
    bad = [float(x) for x in values if not allowed(float(x))]
    if not bad:
        np.testing.assert_array_equal(check("arg", values), values)
        return
    with pytest.raises(InputError) as info:
        check("arg", values)
    assert MESSAGE.match(str(info.value)), str(info.value)
    shown = str(info.value).split("(=", 1)[1].split(")", 1)[0]
    assert float(shown) == bad[0] or (math.isnan(bad[0]) and shown == "nan")


@given(value=ANY_INT, minimum=st.integers(-5, 5))
def test_positive_int_accepts_integers_from_minimum(value: int, minimum: int) -> None:
    if value >= minimum:
        assert checks.positive_int("arg", value, minimum=minimum) == value
        assert checks.positive_int("arg", np.int64(max(min(value, 2**62), minimum)),
                                   minimum=minimum) >= minimum
    else:
        with pytest.raises(InputError, match=rf"^arg\(={value}\) must be an integer >= {minimum}$"):
            checks.positive_int("arg", value, minimum=minimum)


@given(value=st.floats(min_value=1, max_value=1e6))
def test_whole_array_and_positive_int_agree_on_whole_floats(value: float) -> None:
    whole = value == round(value)
    try:
        checks.whole_array("arg", value)
        accepted = True
    except InputError:
        accepted = False
    assert accepted == whole
    with pytest.raises(InputError):  # an int parameter never takes a float, whole or not
        checks.positive_int("arg", value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "3", None, [1.0]])
def test_scalar_checks_refuse_non_numbers(value: object) -> None:
    for check, _ in SCALAR_CASES:
        with pytest.raises(InputError, match=r"^arg\(="):
            check("arg", value)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        checks.positive_int("arg", value)  # type: ignore[arg-type]


def test_message_quotes_name_value_and_what_is_allowed() -> None:
    with pytest.raises(InputError, match=r"^servers\(=-3\) must be a finite number > 0$"):
        checks.positive("servers", -3)
    with pytest.raises(InputError, match=r"^share\(=0\) must be a fraction in \(0, 1\]$"):
        checks.fraction("share", 0.0, open_low=True)
    with pytest.raises(InputError, match=r"^p\(=1\) must be a fraction in \[0, 1\)$"):
        checks.fraction_array("p", [0.5, 1.0], open_high=True)
    with pytest.raises(InputError, match=r"^k\(=2\.5\) must be a whole number >= 0$"):
        checks.whole_array("k", [1, 2.5], minimum=0)
    with pytest.raises(InputError, match=r"^bw\(='fast'\) must be a finite number > 0$"):
        checks.positive_array("bw", "fast")


def test_numbers_are_quoted_as_written_and_the_rest_by_repr() -> None:
    cases: list[tuple[float, str]] = [(-2.0, "-2"), (-0.25, "-0.25"), (-3, "-3"),
                                      (-(2**70), str(-(2**70))), (-1e300, "-1e+300"),
                                      (np.float64(-0.5), "-0.5")]
    for value, shown in cases:
        with pytest.raises(InputError, match=rf"^x\(={re.escape(shown)}\) must be"):
            checks.non_negative("x", value)
    with pytest.raises(InputError, match=r"^x\(='2'\) must be"):
        checks.non_negative("x", "2")  # type: ignore[arg-type]


def test_positive_allows_infinity_only_when_asked() -> None:
    assert checks.positive("bw", math.inf, allow_inf=True) == math.inf
    assert np.isinf(checks.positive_array("bw", [1.0, math.inf], allow_inf=True)[1])
    with pytest.raises(InputError, match=r"bw\(=inf\) must be a finite number > 0"):
        checks.positive_array("bw", [1.0, math.inf])
    with pytest.raises(InputError, match=r"bw\(=nan\) must be a number > 0"):
        checks.positive("bw", math.nan, allow_inf=True)


def test_one_of_lists_what_is_known() -> None:
    assert checks.one_of("precision", "fp16", ("fp16", "bf16")) == "fp16"
    with pytest.raises(InputError, match=r"^precision\(='fp4'\) is unknown; known: fp16, bf16$"):
        checks.one_of("precision", "fp4", ["fp16", "bf16"])


@pytest.mark.parametrize("call", [
    lambda: checks.positive("x", 0, error=CommInputError),
    lambda: checks.non_negative_array("x", [-1], error=CommInputError),
    lambda: checks.one_of("x", "y", (), error=CommInputError),
    lambda: checks.positive_int("x", 0, error=CommInputError),
])
def test_caller_chooses_the_error_class(call: Callable[[], object]) -> None:
    with pytest.raises(CommInputError):
        call()
