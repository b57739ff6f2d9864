"""The analysis of a metric file: per-arm tests, corrections, CUPED, interactions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlfleet.ops.experiment.analyze import AnalysisOptions, analyze
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.metric_file import read_metric_file
from mlfleet.ops.experiment.multiple_testing import holm
from mlfleet.ops.experiment.welch import summarize, welch_test

AB = Path(__file__).resolve().parent / "data" / "ab.csv"
"""2000 users hash-split by two experiments; value = 0.7·pre_value + N(0, 4²) + 0.6·treated."""


def _three_arms(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    arms = np.repeat(["control", "b", "c"], 300)
    values = rng.normal(10, 2, 900) + np.repeat([0.0, 0.5, 0.1], 300)
    path = tmp_path / "three.csv"
    path.write_text("unit_id,arm,value\n" + "".join(
        f"{i},{a},{v}\n" for i, (a, v) in enumerate(zip(arms, values, strict=True))))
    return path


def test_each_treatment_against_control_with_holm(tmp_path: Path) -> None:
    data = read_metric_file(_three_arms(tmp_path))
    result = analyze(data, AnalysisOptions(correction="holm"))
    assert result.arms == ("control", "b", "c")
    control = summarize(data.arm_values("control"))
    raw = [welch_test(control, summarize(data.arm_values(a))).p_value for a in ("b", "c")]
    assert [c.welch.p_value for c in result.comparisons] == pytest.approx(raw, rel=1e-12)
    assert [c.p_adjusted for c in result.comparisons] == pytest.approx(holm(raw).tolist())
    assert result.comparisons[0].significant and not result.srm.mismatch


def test_cuped_narrows_the_interval_and_finds_no_interaction() -> None:
    data = read_metric_file(AB)
    plain = analyze(data, AnalysisOptions())
    cuped = analyze(data, AnalysisOptions(cuped=True))
    assert cuped.cuped is not None and cuped.cuped.variance_reduction > 0.5
    assert cuped.comparisons[0].welch.se < 0.7 * plain.comparisons[0].welch.se
    assert cuped.interaction is not None and cuped.interaction.p_value > 0.05
    assert cuped.interaction.cell_n[0][0] + cuped.interaction.cell_n[1][1] > 900


def test_bootstrap_is_seeded_and_reported_per_comparison() -> None:
    data = read_metric_file(AB)
    first = analyze(data, AnalysisOptions(bootstrap=200, seed=3))
    again = analyze(data, AnalysisOptions(bootstrap=200, seed=3))
    assert first.comparisons[0].bootstrap == again.comparisons[0].bootstrap is not None


@pytest.mark.parametrize(("options", "fragment"), [
    (AnalysisOptions(weights={"control": 0.5, "variant": 0.5}),
     "arm 'variant' has zero users"),
    (AnalysisOptions(weights={"control": 0.5, "other": 0.25, "treatment": 0.25}),
     "arm 'other' has zero users"),
    (AnalysisOptions(control="nope"), "arm 'nope' has zero users"),
    (AnalysisOptions(alpha=0.0), "alpha(=0)"),
    (AnalysisOptions(seed=-1), "seed(=-1)")])
def test_inconsistent_options_are_refused(options: AnalysisOptions, fragment: str) -> None:
    with pytest.raises(ExperimentInputError) as err:
        analyze(read_metric_file(AB), options)
    assert fragment in str(err.value)


def test_weights_must_cover_every_arm_and_cuped_needs_pre_value(tmp_path: Path) -> None:
    data = read_metric_file(_three_arms(tmp_path))
    with pytest.raises(ExperimentInputError, match="arm 'c' is in .* but not in the weights"):
        analyze(data, AnalysisOptions(weights={"control": 0.5, "b": 0.5}))
    with pytest.raises(ExperimentInputError, match="CUPED needs a pre_value column"):
        analyze(data, AnalysisOptions(cuped=True))


def test_constant_metric_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    path.write_text("unit_id,arm,value\n1,a,1\n2,a,1\n3,b,1\n4,b,1\n")
    with pytest.raises(ExperimentInputError, match="value is constant in arms 'a' and 'b'"):
        analyze(read_metric_file(path), AnalysisOptions())


def test_interaction_needs_two_arms_in_each_experiment(tmp_path: Path) -> None:
    path = tmp_path / "ab3.csv"
    path.write_text("unit_id,arm,value,arm_b\n" + "".join(
        f"{i},{'abc'[i % 3]},{i % 5},{'xy'[i % 2]}\n" for i in range(30)))
    with pytest.raises(ExperimentInputError, match="needs 2 arms in each experiment; .* "
                                                   "arm: a, b, c and arm_b: x, y"):
        analyze(read_metric_file(path), AnalysisOptions())
