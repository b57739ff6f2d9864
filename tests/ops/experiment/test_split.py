"""Hash splitting: stable, weighted, independent across salts; weights that must sum to 100."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cli_helpers import run_main
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.split import assign, buckets, independence, parse_weights, unit_range
from mlfleet.ops.experiment.srm import srm_test

HALF = {"control": 0.5, "treatment": 0.5}


def test_parse_weights_gives_fractions() -> None:
    assert parse_weights("control=50,treatment=50") == HALF
    assert parse_weights(" a = 10%, b=30 ,c=60") == {"a": 0.1, "b": 0.3, "c": 0.6}


@pytest.mark.parametrize(("text", "fragment"), [
    ("control=50,treatment=40", "sum to 90%; they must sum to 100%"),
    ("control=60,treatment=60", "sum to 120%"),
    ("control=100", "at least two arms"),
    ("a=50,a=50", "arm 'a' appears twice"),
    ("a=50,b", "'b' must look like ARM=PERCENT"),
    ("a=0,b=100", "a(='0') must be a percentage > 0"),
    ("a=x,b=100", "a(='x') must be a percentage > 0"),
    ("a=nan,b=100", "a(='nan') must be a percentage > 0"),
])
def test_bad_weights_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ExperimentInputError, match=None) as err:
        parse_weights(text)
    assert fragment in str(err.value)


@settings(max_examples=50, deadline=None)
@given(ids=st.lists(st.text(max_size=12), min_size=1, max_size=30), salt=st.text(max_size=8))
def test_a_units_arm_depends_only_on_salt_and_id(ids: list[str], salt: str) -> None:
    together = assign(ids, salt=salt, weights=HALF)
    alone = [int(assign([u], salt=salt, weights=HALF)[0]) for u in ids]
    assert together.tolist() == alone
    assert np.all((buckets(ids, salt=salt) >= 0) & (buckets(ids, salt=salt) < 1))


def test_weights_are_respected_without_sample_ratio_mismatch() -> None:
    weights = {"a": 0.1, "b": 0.3, "c": 0.6}
    arm = assign(unit_range(100_000), salt="weights", weights=weights)
    counts = np.bincount(arm, minlength=3)
    assert srm_test(counts.tolist(), list(weights.values())).p_value > 0.01
    assert np.allclose(counts / counts.sum(), [0.1, 0.3, 0.6], atol=0.005)


def test_two_salts_split_independently_and_one_salt_twice_does_not() -> None:
    ids = unit_range(50_000)
    a = assign(ids, salt="ranker-v2", weights=HALF)
    b = assign(ids, salt="banner-color", weights=HALF)
    assert independence(a, b, arms_a=2, arms_b=2).p_value > 0.01
    same = independence(a, a, arms_a=2, arms_b=2)
    assert same.table[0][1] == same.table[1][0] == 0 and same.p_value < 1e-100


def test_independence_p_values_are_uniform_over_many_salt_pairs() -> None:
    """Under independence the chi-square p-value is U(0, 1): a KS test over 40 salt pairs."""
    ids = unit_range(5_000)
    p = [independence(assign(ids, salt=f"a{i}", weights=HALF),
                      assign(ids, salt=f"b{i}", weights=HALF), arms_a=2, arms_b=2).p_value
         for i in range(40)]
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_split_command_json_and_independence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "split", "--units", "2000",
                              "--weights", "control=20,treatment=80", "--salt-b", "other",
                              "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [a["arm"] for a in doc["arms"]] == ["control", "treatment"]
    assert sum(a["units"] for a in doc["arms"]) == 2000
    assert doc["srm"]["mismatch"] is False
    assert sum(map(sum, doc["independence"]["table"])) == 2000


def test_split_command_reads_a_unit_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("unit_id\n" + "\n".join(f"user-{i}" for i in range(500)) + "\n")
    code, out, _ = run_main(capsys, "ops", "experiment", "split", "--units", str(path), "--json")
    assert code == 0
    expected = np.bincount(assign([f"user-{i}" for i in range(500)], salt="experiment",
                                  weights=HALF), minlength=2)
    assert [a["units"] for a in json.loads(out)["arms"]] == expected.tolist()


@pytest.mark.parametrize(("args", "fragment"), [
    (["--units", "100", "--weights", "control=50,treatment=40"], "sum to 90%"),
    (["--units", "0"], "--units(=0) must be between 1"),
    (["--units", "nope.txt"], "must be a count or a file"),
])
def test_split_command_bad_input_is_one_line(capsys: pytest.CaptureFixture[str],
                                             args: list[str], fragment: str) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "split", *args)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [err.strip()] and fragment in err


def test_independence_leaves_out_arms_no_unit_fell_into() -> None:
    """One unit fills one cell: nothing to test (chi2 0, p 1), not a scipy error. Found by
    the CLI fuzz (`ops experiment split --units 1 --salt-b ...`)."""
    one = independence(np.array([0]), np.array([0]), arms_a=2, arms_b=2)
    assert one.table == ((1, 0), (0, 0)) and one.chi2 == 0.0 and one.p_value == 1.0
    arm_a, arm_b = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 0, 1, 1])
    full = independence(arm_a, arm_b, arms_a=3, arms_b=2)  # arm 2 of the first is empty
    assert full.chi2 == pytest.approx(independence(arm_a, arm_b, arms_a=2, arms_b=2).chi2)
