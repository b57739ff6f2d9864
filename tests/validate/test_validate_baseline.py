"""Results files and regressions against a baseline."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.validate import baseline as store
from mlfleet.validate.registry import Check
from mlfleet.validate.results import RESULTS_SCHEMA, CheckResult, from_check
from mlfleet.validate.runner import ValidateInputError


def row(check_id: str = "comm.a", *, predicted: float = 1.01, held: str = "asserted",
        provider: str = "comm") -> CheckResult:
    check = Check(id=check_id, chapter=check_id.split(".")[0], quantity="q", model="m",
                  reference="r", reference_kind="exact", reference_value=1.0,
                  predicted=predicted, bound=0.1, held=held)
    return from_check(check, provider=provider, elapsed_s=0.1)


def kinds(regressions: list[store.Regression]) -> dict[str, str]:
    return {g.id: g.kind for g in regressions}


def test_a_check_that_passed_and_now_fails_is_a_regression() -> None:
    found = store.compare([row(predicted=1.5)], [row()], providers_run=["comm"])
    assert kinds(found) == {"comm.a": "now-fails"} and found[0].fatal


def test_error_growth_beyond_a_quarter_of_the_bound_is_a_regression() -> None:
    # bound 0.1: growth up to 0.025 is tolerated
    assert store.compare([row(predicted=1.03)], [row()], providers_run=["comm"]) == []
    found = store.compare([row(predicted=1.0951)], [row(predicted=1.07)],
                          providers_run=["comm"])
    assert kinds(found) == {"comm.a": "error-grew"}


def test_a_missing_check_of_a_provider_that_ran_disappeared() -> None:
    old = [row(), row("comm.b"), row("serving.c", provider="serving")]
    found = store.compare([row()], old, providers_run=["comm"])
    assert kinds(found) == {"comm.b": "disappeared"}  # serving did not run: not compared
    assert store.compare([row()], old, providers_run=["comm"], same_mode=False) == []
    assert store.compare([row()], old, providers_run=["comm"], only=["comm.a"]) == []


def test_a_provider_that_raised_is_not_also_reported_as_disappeared() -> None:
    error = replace(row("comm"), status="error")
    assert store.compare([error], [row()], providers_run=["comm"]) == []


def test_goal_regressions_are_reported_but_not_fatal() -> None:
    found = store.compare([row(predicted=1.5, held="goal")], [row(held="goal")],
                          providers_run=["comm"])
    assert kinds(found) == {"comm.a": "now-fails"} and not found[0].fatal
    assert store.document([row(predicted=1.5, held="goal")], seed=0, quick=True,
                          regressions=found)["ok"]


def test_results_round_trip_through_a_file(tmp_path: Path) -> None:
    rows = [row(), row("comm.b", predicted=3.0)]
    path = tmp_path / "deep" / "latest.json"
    store.save(path, store.document(rows, seed=3, quick=True), option="--results")
    stored = store.load(path, option="--baseline")
    assert stored.rows == tuple(rows) and stored.quick
    assert [p.name for p in path.parent.iterdir()] == ["latest.json"]  # no temporary left
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not 0600


@given(predicted=st.floats(-1e6, 1e6, allow_nan=False))
def test_every_row_survives_strict_json(predicted: float) -> None:
    rows = [row(predicted=predicted)]
    text = json.dumps(store.document(rows, seed=0, quick=False), allow_nan=False)
    assert [CheckResult.from_dict(r) for r in json.loads(text)["checks"]] == rows


@pytest.mark.parametrize(("content", "fragment"), [
    ("{not json", "is not a readable results file"),
    ('{"schema": "other/1", "checks": []}', "has schema 'other/1'"),
    ("[1, 2]", "has schema 'list'"),
    (json.dumps({"schema": RESULTS_SCHEMA, "quick": True, "checks": [{"id": "x"}]}),
     "malformed check row")])
def test_unusable_baselines_are_refused(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(ValidateInputError, match=fragment):
        store.load(path, option="--baseline")


def test_a_missing_baseline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidateInputError, match="--baseline .*No such file"):
        store.load(tmp_path / "none.json", option="--baseline")


@pytest.mark.parametrize("where", ["dir", "proc"])
def test_unwritable_paths_are_refused_up_front(tmp_path: Path, where: str) -> None:
    path = tmp_path if where == "dir" else Path("/proc/nope/latest.json")
    with pytest.raises(ValidateInputError, match="--results"):
        store.check_writable(path, option="--results")


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*_args: object) -> None:  # the rename fails after the temporary is written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("mlfleet.atomic.os.replace", full_disk)
    payload: dict[str, Any] = store.document([row()], seed=0, quick=True)
    with pytest.raises(ValidateInputError, match="cannot write .*No space left on device"):
        store.save(tmp_path / "out.json", payload, option="--results")
    assert list(tmp_path.iterdir()) == []
