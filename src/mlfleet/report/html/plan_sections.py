"""The plan of every chapter as HTML: numbers, what bounds it, the recommendation, checks.

Everything comes from the typed plan (:class:`mlfleet.plan.compose.Plan`) and is formatted
as ``mlfleet plan`` formats it (:func:`mlfleet.report.terminal.format_value`); nothing is
recomputed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from mlfleet.plan.checks import Check
from mlfleet.plan.compose import CHAPTERS, Plan
from mlfleet.plan.section import Section
from mlfleet.report.terminal import format_value


def plan_html(plan: Plan) -> str:
    """One ``<section>`` per chapter, then the checks and the unused fields."""
    parts = [_section(chapter, plan.sections[chapter]) for chapter in CHAPTERS]
    parts.append(_checks(plan.checks))
    if plan.unused_fields:
        parts.append('<p class="note">Fields no chapter reads yet: '
                     f"{escape(', '.join(plan.unused_fields))}</p>")
    return "\n".join(parts)


def _section(chapter: str, section: Section) -> str:
    head = f'<section class="chapter" id="plan-{escape(chapter)}"><h3>{escape(chapter)}</h3>'
    if section.status != "ok":
        return f'{head}<p class="note">{escape(section.status)}: {escape(section.note)}</p></section>'
    rows = "".join(f"<tr><th>{escape(key)}</th><td>{escape(format_value(key, value))}</td></tr>"
                   for key, value in section.numbers.items())
    reasons = "".join(f"<li>{escape(line)}</li>" for line in section.reasoning)
    return (f'{head}<p><b>Bottleneck:</b> {escape(section.bottleneck)}</p>'
            f'<p><b>Recommendation:</b> {escape(section.recommendation)}</p>'
            f'<table class="numbers">{rows}</table>'
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + f'<p class="note">fidelity: {escape(section.fidelity)}</p></section>')


def _checks(checks: Iterable[Check]) -> str:
    rows = "".join(
        f'<tr class="{_state(c)}"><td>{_state(c)}</td><td>{escape(c.name)}</td>'
        f"<td>{escape(c.observed_text)}</td><td>{escape(c.limit_text)}</td>"
        f"<td>{escape(c.note)}</td></tr>" for c in checks)
    if not rows:
        return ""
    return ('<section class="chapter" id="plan-checks"><h3>checks</h3><table class="checks">'
            "<tr><th>state</th><th>check</th><th>observed</th><th>limit</th><th>note</th></tr>"
            f"{rows}</table></section>")


def _state(check: Check) -> str:
    return "not-evaluated" if check.holds is None else "ok" if check.holds else "violated"
