"""Terminal rendering of a plan: one block per chapter, the checks, the unused fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlfleet.report.terminal import format_value

if TYPE_CHECKING:
    from rich.console import Console

    from mlfleet.plan.checks import Check
    from mlfleet.plan.compose import Plan
    from mlfleet.plan.section import Section


def print_plan(plan: Plan) -> None:
    """Print a plan (as built by :func:`mlfleet.plan.build_plan`) with rich."""
    from rich.console import Console

    from mlfleet.plan.compose import CHAPTERS

    console = Console(width=110, soft_wrap=False)
    meta = plan.scenario
    console.print(f"[bold]mlfleet plan[/bold] — {meta['name']}: {meta.get('description', '')}")
    for chapter in CHAPTERS:
        console.rule(f"[bold]{chapter}[/bold]", align="left")
        _print_section(console, plan.sections[chapter])
    _print_checks(console, plan.checks)
    if plan.unused_fields:
        console.rule("[bold]unused fields[/bold]", align="left")
        console.print(f"  not used by any chapter yet: {', '.join(plan.unused_fields)}")


def _print_section(console: Console, section: Section) -> None:
    from rich.table import Table

    if section.status != "ok":
        console.print(f"  {section.status}: {section.note}")
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="cyan")
    table.add_column()
    for key, value in section.numbers.items():
        table.add_row(key, format_value(key, value))
    console.print(table)
    console.print(f"  [bold]bottleneck:[/bold] {section.bottleneck}")
    console.print(f"  [bold]recommendation:[/bold] {section.recommendation}")
    for line in section.reasoning:
        console.print(f"   · {line}")
    console.print(f"  [dim]fidelity: {section.fidelity}[/dim]")


def _print_checks(console: Console, checks: tuple[Check, ...]) -> None:
    if not checks:
        return
    console.rule("[bold]checks[/bold]", align="left")
    for check in checks:
        mark = ("[yellow]not evaluated[/yellow]" if check.holds is None
                else "[green]ok[/green]" if check.holds else "[red]VIOLATED[/red]")
        console.print(f"  {mark}  {check.name}: {check.observed_text} vs limit "
                      f"{check.limit_text}" + (f" — {check.note}" if check.note else ""))
