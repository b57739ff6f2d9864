"""Environment promotion: deployment changes carried, environment fields kept, every other
difference blocks; the plan gate; the output written only when every gate passes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.errors import InputError
from mlfleet.ops.declare.promote import (
    check_field_path,
    flatten,
    promote,
    unflatten,
)
from mlfleet.scenario import Scenario, load_scenario, loads_scenario

ENVIRONMENTS = Path(str(resources.files("mlfleet").joinpath("examples", "environments")))
DEV, STAGING, PROD = (str(ENVIRONMENTS / f"{name}.yaml") for name in ("dev", "staging", "prod"))


def edited(path: str, old: str, new: str) -> Scenario:
    text = Path(path).read_text(encoding="utf-8")
    assert old in text
    return loads_scenario(text.replace(old, new), source=path)


def test_dev_to_staging_carries_the_deployment_and_keeps_the_environment() -> None:
    result = promote(load_scenario(DEV), load_scenario(STAGING))
    assert result.passed
    assert [c.field for c in result.carried] == ["deployment.model_version",
                                                 "deployment.rank.max_batch_size"]
    assert {c.field for c in result.kept} == {"name", "description", "deployment.replicas",
                                              "serving.qps"}
    assert result.promoted is not None
    assert result.promoted["name"] == "ranking-staging"
    assert result.promoted["deployment"]["replicas"] == 2
    assert result.promoted["deployment"]["model_version"] == "ranker-v2"
    assert result.promoted["deployment"]["rank"]["max_batch_size"] == 32
    assert result.promoted["serving"]["qps"] == 5000


def test_promoting_twice_changes_nothing_more() -> None:
    first = promote(load_scenario(DEV), load_scenario(STAGING))
    assert first.promoted is not None
    again = promote(load_scenario(DEV), Scenario.model_validate(first.promoted))
    assert again.passed and again.carried == () and again.promoted == first.promoted


def test_a_difference_outside_the_deployment_blocks_and_is_named() -> None:
    prod = edited(PROD, "items_per_request: 64", "items_per_request: 32")
    result = promote(load_scenario(STAGING), prod)
    assert not result.passed
    assert [c.describe() for c in result.blocked] == [
        "serving.items_per_request: 64 (from) vs 32 (to)"]
    assert promote(load_scenario(STAGING), prod, allow=["serving.items_per_request"]).passed


def test_the_plan_gate_blocks_a_promotion_that_breaks_a_constraint() -> None:
    # Both environments carry the same (too tight) budget, so only the plan gate can fail.
    tight = "prices: {electricity_usd_per_kwh: $0.12/kWh"
    budget = "constraints: {max_cost_usd: $1000}\n" + tight
    result = promote(edited(STAGING, tight, budget), edited(PROD, tight, budget))
    assert not result.passed and result.blocked == ()
    assert len(result.failed_checks) == 1 and "max_cost_usd" in result.failed_checks[0]


def test_allow_paths_are_checked() -> None:
    assert check_field_path("deployment.rank.max_batch_size") == "deployment.rank.max_batch_size"
    assert check_field_path("ops.teams.ranking") == "ops.teams.ranking"  # a key of a mapping
    with pytest.raises(InputError, match=r"--allow\(='serving.nope'\) names no field of "
                                         r"serving; known: items_per_request"):
        check_field_path("serving.nope")


def test_flatten_and_unflatten_are_inverse() -> None:
    tree = {"a": {"b": 1, "c": {"d": [1, 2]}}, "e": {}, "f": "x"}
    assert flatten(tree) == {"a.b": 1, "a.c.d": [1, 2], "e": {}, "f": "x"}
    assert unflatten(flatten(tree)) == tree


# --- the command --------------------------------------------------------------------------


def test_cli_writes_the_promoted_scenario_only_when_the_gates_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "staging-next.yaml"
    code, stdout, _ = run_main(capsys, "ops", "promote", DEV, STAGING, "--out", str(out))
    assert code == 0 and "promote: deployment.model_version: 'ranker-v1' -> 'ranker-v2'" in stdout
    assert load_scenario(str(out)).deployment.model_version == "ranker-v2"  # type: ignore[union-attr]
    blocked = tmp_path / "bad.yaml"
    blocked.write_text(Path(PROD).read_text().replace("gpus: 16", "gpus: 8"), encoding="utf-8")
    target = tmp_path / "prod-next.yaml"
    code, stdout, err = run_main(capsys, "ops", "promote", STAGING, str(blocked),
                                 "--out", str(target))
    assert code == 3 and not target.exists() and list(tmp_path.iterdir()) != []
    assert "blocked: cluster.gpus: 16 (from) vs 8 (to)" in stdout
    assert err.strip().splitlines() == [
        f"error: promotion of {STAGING} onto {blocked} blocked: cluster.gpus: 16 (from) vs 8 (to)"]
    assert {p.name for p in tmp_path.iterdir()} == {"staging-next.yaml", "bad.yaml"}


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, out, _ = run_main(capsys, "ops", "promote", STAGING, PROD, "--json")
    payload = json.loads(out)
    assert code == 0 and payload["passed"] and payload["carried"] == []
    assert {c["field"] for c in payload["kept"]} >= {"deployment.replicas", "serving.qps"}


def test_unknown_allow_field_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("ops", "promote", DEV, STAGING, "--allow", "serving.nope"),
                          "--allow(='serving.nope') names no field of serving")


def test_promoted_file_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    done = run_cli("ops", "promote", STAGING, PROD, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(out.read_text())["deployment"]["replicas"] == 4
