"""Quality checks: PSI against hand computation, KS against scipy, the report's verdicts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp

from mlfleet.errors import InputError
from mlfleet.storage.datasets.demo import write_demo
from mlfleet.storage.datasets.quality import Thresholds, check_quality, ks, psi, psi_categorical
from mlfleet.storage.datasets.versions import read_version


def test_psi_by_hand() -> None:
    # reference 0..99: deciles make 10 bins of 10 % each; half the new values fall in the
    # first bin, half in the last, eight bins are empty (floored at 1e-4):
    # 2·(0.5 - 0.1)·ln(0.5/0.1) + 8·(1e-4 - 0.1)·ln(1e-4/0.1)
    by_hand = 2 * 0.4 * math.log(5) + 8 * (1e-4 - 0.1) * math.log(1e-3)
    assert psi(np.arange(100), [0] * 50 + [99] * 50) == pytest.approx(by_hand, rel=1e-12)
    assert psi(np.arange(100), np.arange(100)) == 0.0


def test_categorical_psi_by_hand() -> None:
    # (0.8 - 0.5)·ln(0.8/0.5) + (0.2 - 0.5)·ln(0.2/0.5)
    by_hand = 0.3 * math.log(1.6) - 0.3 * math.log(0.4)
    assert psi_categorical(["a"] * 50 + ["b"] * 50, ["a"] * 80 + ["b"] * 20) \
        == pytest.approx(by_hand, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(2, 200), m=st.integers(2, 200),
       shift=st.floats(-1, 1), ties=st.booleans())
def test_ks_equals_scipy(seed: int, n: int, m: int, shift: float, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(shift, size=m)
    if ties:  # discrete values: many equal points across the samples
        a, b = np.round(a), np.round(b)
    d, p = ks(a, b)
    reference = ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(reference.statistic, abs=1e-12)
    assert p == pytest.approx(reference.pvalue, abs=1e-9)


def test_report_flags_the_drifted_version(tmp_path: Path) -> None:
    write_demo(tmp_path / "clicks", rows=2000)
    v0, v1, v2 = (read_version(tmp_path / "clicks", v) for v in range(3))
    stable = check_quality(v1.select(["user_id", "dwell_s", "country"]), reference=v0)
    assert stable.passed, stable.problems
    drifted = check_quality(v2, reference=v1)
    assert not drifted.passed
    problems = " | ".join(drifted.problems)
    assert "dwell_s: PSI" in problems and "dwell_s: KS D" in problems
    assert "country: null rate" in problems and "user_id" not in problems


def test_schema_problem_and_no_reference() -> None:
    ref = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    report = check_quality(pa.table({"a": [1.0, 2.0, None]}), reference=ref)
    assert report.problems[0].startswith("schema: drops column 'b'")
    assert report.columns[0].null_rate == pytest.approx(1 / 3)
    alone = check_quality(ref)
    assert alone.passed and alone.schema is None and alone.columns[0].psi is None


def test_bad_thresholds() -> None:
    with pytest.raises(InputError, match="null_rate_max"):
        Thresholds(null_rate_max=2)
    with pytest.raises(InputError, match="psi_max"):
        Thresholds(psi_max=-1)
