"""The per-request columns' conversion to records."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.serving.sim.columns import to_array


@settings(max_examples=80, deadline=None)
@given(values=st.one_of(
    st.lists(st.integers(-3, 3), max_size=12),
    st.lists(st.sampled_from([0.0, -0.0, 1.5, math.nan]), max_size=12),
    st.integers(0, 12).map(lambda n: [math.nan] * n),
    st.integers(1, 12).map(lambda n: [-0.0] + [0.0] * n)))
def test_a_column_becomes_the_array_np_array_makes(values: list[int] | list[float]) -> None:
    """Bit for bit, a one-valued column (built by ``np.full``) included."""
    dtype = np.float64 if any(isinstance(v, float) for v in values) else np.int64
    got, want = to_array(values, dtype), np.array(values, dtype)
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
