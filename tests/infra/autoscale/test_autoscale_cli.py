"""``mlfleet sim autoscale``: a small run, and bad input as one line with exit 2."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json

SMALL = ["sim", "autoscale", "--hours", "0.25", "--rate", "5", "--period", "1h",
         "--window", "5min"]


def test_json_has_every_policy_with_windows(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_main_json(capsys, *SMALL)
    assert [p["policy"] for p in out["policies"]] == ["hpa", "predictive", "fixed"]
    for policy in out["policies"]:
        assert len(policy["rows"]) == 3
        assert policy["requests"] == sum(r["requests"] for r in policy["rows"])
        assert policy["cost_usd"] > 0


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, *SMALL, "--policy", "hpa")
    assert code == 0 and "hpa" in out and "replica-hours" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["--target-util", "0"], "--target-util"),
    (["--target-util", "1.5"], "--target-util"),
    (["--slo", "-100ms"], "--slo"),
    (["--min-replicas", "5", "--max-replicas", "2"], "--min-replicas"),
    (["--accelerator", "nope-9000"], "nope-9000"),
    (["--hours", "1e9"], "--hours"),
])
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli(*SMALL, *args), fragment)
