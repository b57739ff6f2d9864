"""The generated page and the terminal table: what each kind of row looks like."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mlfleet.validate.docs_page import render
from mlfleet.validate.recorded import Recorded, RecordedRow, RecordedSection, load_recorded
from mlfleet.validate.registry import Check
from mlfleet.validate.results import CheckResult, from_check, from_error
from mlfleet.validate.table import print_results


def result(check_id: str, **overrides: Any) -> CheckResult:
    fields: dict[str, Any] = dict(chapter=check_id.split(".")[0], quantity="q | with pipe",
                                     model="m", reference="r", reference_kind="exact",
                                     reference_value=2.0, predicted=2.0 + 1e-15, bound=0.1)
    fields.update(overrides)
    return from_check(Check(id=check_id, **fields), provider=check_id.split(".")[0],
                      elapsed_s=0.0)


ROWS = [result("comm.tiny"), result("comm.goal", predicted=3.0, held="goal", note="why not"),
        result("comm.host", reference_kind="measurement"),
        from_error(provider="ops", message="ValueError: broken", elapsed_s=0.0)]
RECORDED = Recorded(title="T", header_md="Header.\n",
                    rows=(RecordedRow(model="lab ring", checked_against="tc", observed="+1 %",
                                      held="**asserted**", evidence=("tests/x.py",),
                                      date="2026-12-06"),),
                    sections=(RecordedSection(title="Lab", body_md="Details.\n"),))


def test_the_page_shows_reproducible_checks_goals_errors_and_the_recorded_rows() -> None:
    page = render(ROWS, RECORDED, command="mlfleet validate --quick")
    assert page.startswith("# T\n") and "Header." in page
    assert "`comm.tiny`" in page and "< 1e-09" in page  # round-off digits never on the page
    assert "q \\| with pipe" in page
    assert "goal, goal missed: why not" in page
    assert "comm.host" not in page  # a measurement on this machine is not reproducible
    assert "**ERROR** ValueError: broken" in page
    assert "| lab ring | tc | +1 % | **asserted** |" in page and "## Lab\n\nDetails." in page
    assert "| Communication | 1 | 1 | 1 | 0 | 0.00 |" in page


def test_the_bundled_record_keeps_every_row() -> None:
    recorded = load_recorded()
    assert len(recorded.rows) >= 34
    assert all(r.model and r.observed and r.held and r.date for r in recorded.rows)
    assert [s.title for s in recorded.sections][:3] == [
        "Roofline", "Lab: ring AllReduce on 4 emulated hosts",
        "Serving simulator against the real server"]


def test_the_terminal_table_names_failures_and_errors(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    failed = replace(result("comm.off", predicted=9.0), status="fail")
    print_results([*ROWS, failed], [])
    out = capsys.readouterr().out
    assert "FAIL" in out and "ERROR: ValueError: broken" in out and "miss" in out
    assert "5 checks: 2 pass, 1 fail, 1 goal missed, 1 provider errors; 0 regressions" in out
