"""``mlfleet ops platform``: JSON payloads mean what the models say; bad input is one line."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main_json
from mlfleet.ops.org.incidents import IncidentRates, pages_per_week
from mlfleet.ops.org.oncall_sweep import grown_portfolio


def test_oncall_rows_are_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_main_json(capsys, "ops", "platform", "oncall", "--models", "1,10,100")
    assert [r["models"] for r in out["rows"]] == [1, 10, 100]
    p = grown_portfolio(100, members=10, in_ensembles=0.5)
    assert out["rows"][2]["pages_per_week"] == pytest.approx(pages_per_week(p, IncidentRates()))
    assert out["rows"][2]["simulated_pages_per_week"] is None


def test_oncall_can_simulate_beside_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_main_json(capsys, "ops", "platform", "oncall", "--models", "30",
                        "--simulate-weeks", "300", "--seed", "2")
    row = out["rows"][0]
    assert abs(row["simulated_pages_per_week"] - row["pages_per_week"]) \
        <= 4 * row["simulated_stderr"]


def test_payback_reports_the_break_even(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_main_json(capsys, "ops", "platform", "payback", "--models", "10,100")
    assert out["break_even_models"] == pytest.approx(31.25)
    assert out["rows"][0]["saving_usd_per_year"] < 0 < out["rows"][1]["saving_usd_per_year"]


def test_teams_lists_three_structures_per_size(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_main_json(capsys, "ops", "platform", "teams", "--product-teams", "10")
    assert out["illustrative"] is True
    assert [r["name"] for r in out["rows"]] == ["centralized", "embedded", "hybrid"]
    assert out["rows"][0]["communication_paths"] == 50 * 49 // 2 + 10


@pytest.mark.parametrize(("args", "fragment"), [
    (["oncall", "--models", "0"], "--models(=0)"),
    (["oncall", "--models", "1,x"], "--models '1,x'"),
    (["oncall", "--coupling", "2"], "coupling(=2)"),
    (["oncall", "--in-ensembles", "1.5"], "--in-ensembles(=1.5)"),
    (["oncall", "--ensemble-members", "1"], "--ensemble-members(=1)"),
    (["oncall", "--models", "1000", "--simulate-weeks", "5000"], "--simulate-weeks(=5000)"),
    (["payback", "--platform-hours", "50"], "platform_hours_per_model_month(=50)"),
    (["payback", "--engineer-cost", "-5"], "--engineer-cost"),
    (["teams", "--product-teams", "-1"], "--product-teams(=-1)"),
    (["teams", "--engineers-per-team", "0"], "--engineers-per-team(=0)"),
    (["teams", "--platform-engineers", "1000000"], "--platform-engineers(=1000000)"),
])
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("ops", "platform", *args), fragment)
