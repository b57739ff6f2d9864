"""The scenario's ``ops:`` section: what it refuses, in one line, and its defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.errors import ScenarioError
from mlfleet.scenario import parse_scenario

RECSYS = Path(__file__).resolve().parents[3] / "examples" / "recsys-serving.yaml"


def _with_ops(ops: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(RECSYS.read_text())
    raw["ops"] = ops
    return raw


@pytest.mark.parametrize(("ops", "fragment"), [
    ({"teams": {"a": 0.6, "b": 0.3}}, "ops.teams: {'a': 0.6, 'b': 0.3} is not allowed; shares "
                                      "must sum to 1, these sum to 0.9"),
    ({"models": 5, "ensembles": 1}, "ensembles x ensemble_members = 1 x 10 must be at most "
                                    "models (5)"),
    ({"platform": {"platform_hours_per_model_month": 50}}, "must be below "
                                                           "manual_hours_per_model_month (40)"),
    ({"experiments": {"users_per_day": "2M"}}, "ops.experiments.metric_cv: missing"),
    ({"experiments": {"users_per_day": 10, "metric_cv": 1, "arms": 1}}, "ops.experiments.arms"),
    ({"oncall": {"coupling": 1.5}}, "ops.oncall.coupling"),
    ({"ensemble_members": 1}, "ops.ensemble_members"),
])
def test_bad_ops_sections_are_refused(ops: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(_with_ops(ops))
    assert fragment in str(info.value) and len(str(info.value).splitlines()) == 1


def test_shares_within_a_millionth_of_one_are_accepted() -> None:
    ops = parse_scenario(_with_ops({"teams": {"a": 0.3333333, "b": 0.6666667}})).ops
    assert ops is not None and ops.teams is not None


def test_units_parse_at_the_edge() -> None:
    ops = parse_scenario(_with_ops({"experiments": {"users_per_day": "2M", "metric_cv": 2,
                                                    "relative_mde": "0.5%",
                                                    "duration_s": "21d"}})).ops
    assert ops is not None and ops.experiments is not None
    assert ops.experiments.users_per_day == 2_000_000
    assert ops.experiments.relative_mde == pytest.approx(0.005)
    assert ops.experiments.duration_s == 21 * 86400


def test_a_bad_ops_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_with_ops({"teams": {"a": 0.5, "b": 0.6}})))
    assert_one_line_error(run_cli("plan", str(path)), "these sum to 1.1")


@settings(max_examples=50, deadline=None)
@given(weights=st.lists(st.floats(0.01, 10), min_size=1, max_size=6),
       off=st.sampled_from([0.0, 1e-3, -1e-3]))
def test_team_shares_are_accepted_exactly_when_they_sum_to_one(weights: list[float],
                                                                off: float) -> None:
    total = sum(weights)
    shares = {f"team{i}": w / total for i, w in enumerate(weights)}
    shares["team0"] += off
    if not 0 < shares["team0"] <= 1:
        return
    raw = _with_ops({"teams": shares})
    if off == 0.0:
        assert parse_scenario(raw).ops is not None
    else:
        with pytest.raises(ScenarioError, match="shares must sum to 1"):
            parse_scenario(raw)
