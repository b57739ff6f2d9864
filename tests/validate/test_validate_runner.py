"""The runner on a fake provider registry: pass, fail, goal miss, raising and bad providers."""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import pytest

from mlfleet.validate.registry import Check, Context
from mlfleet.validate.results import CheckResult
from mlfleet.validate.runner import Selection, ValidateInputError, choose, run

MODULE = "mlfleet_fake_providers"


def check(**overrides: Any) -> Check:
    fields: dict[str, Any] = dict(
        id="fake.ok", chapter="fake", quantity="q", model="m", reference="r",
        reference_kind="exact", reference_value=1.0, predicted=1.01, bound=0.05)
    return Check(**{**fields, **overrides})


def _good(ctx: Context) -> list[Check]:
    return [check(), check(id="fake.off", predicted=2.0),
            check(id="fake.goal", predicted=2.0, held="goal", note="not met yet: why"),
            check(id="fake.seed", predicted=1.0 + ctx.seed / 100)]


def _raises(ctx: Context) -> list[Check]:
    raise RuntimeError("model exploded\nsecond line")


def _not_checks(ctx: Context) -> list[Check]:
    return ["nope"]  # type: ignore[list-item]


def _bad_kind(ctx: Context) -> list[Check]:
    return [check(id="kind.a", reference_kind="guess")]


def _duplicate(ctx: Context) -> list[Check]:
    return [check(id="dup.a"), check(id="dup.a", predicted=5.0)]


def _foreign_id(ctx: Context) -> list[Check]:
    return [check(id="fake.foreign")]


PROVIDERS = {"fake": (MODULE, "good", True), "broken": (MODULE, "raises", True),
             "shape": (MODULE, "not_checks", False), "kind": (MODULE, "bad_kind", False),
             "foreign": (MODULE, "foreign_id", False), "dup": (MODULE, "duplicate", False),
             "missing": ("mlfleet.no_such_module", "x", False)}


@pytest.fixture(autouse=True)
def fake_module(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType(MODULE)
    for name, fn in (("good", _good), ("raises", _raises), ("not_checks", _not_checks),
                     ("bad_kind", _bad_kind), ("foreign_id", _foreign_id),
                     ("duplicate", _duplicate)):
        setattr(module, name, fn)
    monkeypatch.setitem(sys.modules, MODULE, module)


def by_id(selection: Selection, *, seed: int = 0) -> dict[str, CheckResult]:
    return {r.id: r for r in run(selection, Context(seed=seed), providers=PROVIDERS)}


def test_pass_fail_and_goal_miss() -> None:
    rows = by_id(Selection(only=("fake",)))
    status = {i: r.status for i, r in rows.items()}
    assert status == {"fake.ok": "pass", "fake.off": "fail", "fake.goal": "miss",
                      "fake.seed": "pass"}
    assert rows["fake.ok"].error == pytest.approx(0.01)
    assert not rows["fake.goal"].fatal and rows["fake.off"].fatal


def test_the_seed_reaches_the_provider() -> None:
    rows = by_id(Selection(only=("fake.seed",)), seed=10)
    assert rows["fake.seed"].status == "fail"


def test_a_raising_provider_is_one_error_row_with_its_message() -> None:
    rows = run(Selection(only=("broken",)), Context(), providers=PROVIDERS)
    assert [(r.id, r.status) for r in rows] == [("broken", "error")]
    assert rows[0].note == "RuntimeError: model exploded" and rows[0].fatal
    assert math.isnan(rows[0].error)


@pytest.mark.parametrize(("name", "fragment"), [
    ("shape", "not list[Check]"), ("kind", "reference_kind 'guess'"),
    ("missing", "ModuleNotFoundError"),
    ("foreign", "'fake.foreign' does not start with its provider's name 'foreign'")])
def test_providers_breaking_the_contract_are_errors(name: str, fragment: str) -> None:
    rows = run(Selection(only=(name,)), Context(), providers=PROVIDERS)
    assert [r.status for r in rows] == ["error"] and fragment in rows[0].note


def test_a_repeated_id_is_an_error() -> None:
    rows = run(Selection(only=("dup",)), Context(), providers=PROVIDERS)
    assert [(r.id, r.status) for r in rows] == [("dup.a", "pass"), ("dup", "error")]
    assert "duplicate check id dup.a" in rows[1].note


def test_quick_runs_only_quick_providers() -> None:
    assert choose(Selection(quick=True), PROVIDERS) == ["fake", "broken"]
    assert len(choose(Selection(), PROVIDERS)) == len(PROVIDERS)


def test_unknown_prefixes_are_refused() -> None:
    with pytest.raises(ValidateInputError, match="'nope' matches no provider; known:"):
        choose(Selection(only=("nope",)), PROVIDERS)
    with pytest.raises(ValidateInputError, match="quick provider"):
        choose(Selection(quick=True, only=("shape",)), PROVIDERS)
    with pytest.raises(ValidateInputError, match="matches no check id"):
        run(Selection(only=("fake.zzz",)), Context(), providers=PROVIDERS)


def test_progress_counts_providers() -> None:
    seen: list[tuple[int, int]] = []
    run(Selection(quick=True), Context(), providers=PROVIDERS,
        progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]
