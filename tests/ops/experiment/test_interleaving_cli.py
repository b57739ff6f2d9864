"""``mlfleet ops experiment interleaving``: users for 80 % power by each method."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main_json


def test_json_reports_both_sizes_the_ratio_and_the_conditions(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "ops", "experiment", "interleaving", "--users", "5000",
                        "--reps", "50", "--gap", "0.5", "--list-len", "8")
    assert doc["ratio"] == pytest.approx(doc["ab"]["users"] / doc["interleaving"]["users"])
    assert doc["model"]["list_len"] == 8 and doc["model"]["gap"] == 0.5
    assert doc["quality"]["clicks_a"] > doc["quality"]["clicks_b"]
    assert doc["prefer_a"] > doc["prefer_b"]


@pytest.mark.slow
def test_text_output_states_the_conditions() -> None:
    proc = run_cli("ops", "experiment", "interleaving", "--users", "3000", "--reps", "20",
                   "--gap", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert "ratio A/B / interleaving" in proc.stdout and "position-based" in proc.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["--propensity", "2"], "--propensity(='2')"), (["--propensity", "0,1"], "(0, 1e6)"),
    (["--gap", "0.001", "--users", "500"], "too"), (["--gap", "0"], "--gap"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("ops", "experiment", "interleaving", *args), fragment)

