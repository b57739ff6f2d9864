"""The terminal view of a run: one table grouped by chapter, then regressions and a summary."""

from __future__ import annotations

import math
from collections.abc import Sequence

import click

from mlfleet.report.terminal import print_table
from mlfleet.validate.baseline import Regression
from mlfleet.validate.results import CheckResult

HEADERS = ("chapter", "id", "quantity", "reference", "predicted", "error", "bound", "held",
           "result")


def number(value: float) -> str:
    """Four significant digits; ``-`` for a value a raising provider never produced."""
    return "-" if math.isnan(value) else f"{value:.4g}"


def error_text(row: CheckResult) -> str:
    """Signed error: a percentage when relative, the difference when absolute."""
    if math.isnan(row.error):
        return "-"
    return f"{row.error:+.3g}" if row.absolute else f"{row.error * 100:+.3g} %"


def bound_text(row: CheckResult) -> str:
    if math.isnan(row.bound):
        return "-"
    return f"≤ {row.bound:.3g}" if row.absolute else f"≤ {row.bound * 100:.3g} %"


def result_text(row: CheckResult) -> str:
    """``pass``/``FAIL``/``miss`` (a goal)/``ERROR: message`` (its provider raised)."""
    return {"fail": "FAIL", "error": f"ERROR: {row.note}"}.get(row.status, row.status)


def _cells(row: CheckResult, first_of_chapter: bool) -> list[str]:
    reference = f"{number(row.reference_value)} ({row.reference_kind})" \
        if row.reference_kind else "-"
    return [row.chapter if first_of_chapter else "", row.id, row.quantity, reference,
            number(row.predicted), error_text(row), bound_text(row), row.held, result_text(row)]


def grouped(rows: Sequence[CheckResult]) -> list[CheckResult]:
    """Rows by chapter (chapters in order of first appearance), run order kept within one."""
    order = {c: i for i, c in reversed(list(enumerate(r.chapter for r in rows)))}
    return sorted(rows, key=lambda r: order[r.chapter])


def print_results(rows: Sequence[CheckResult], regressions: Sequence[Regression]) -> None:
    """The one table, then one line per regression, then the counts."""
    ordered = grouped(rows)
    cells = [_cells(r, i == 0 or ordered[i - 1].chapter != r.chapter)
             for i, r in enumerate(ordered)]
    print_table(HEADERS, cells)
    for g in regressions:
        label = "REGRESSION" if g.fatal else "regression (goal)"
        click.echo(f"{label} {g.kind}: {g.id}: was {g.before}, now {g.now}")
    counts = {s: sum(r.status == s for r in rows) for s in ("pass", "fail", "miss", "error")}
    click.echo(f"{len(rows)} checks: {counts['pass']} pass, {counts['fail']} fail,"
               f" {counts['miss']} goal missed, {counts['error']} provider errors;"
               f" {sum(g.fatal for g in regressions)} regressions")
