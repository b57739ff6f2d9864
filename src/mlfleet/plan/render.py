"""Terminal rendering of a plan: one block per chapter."""

from __future__ import annotations

from typing import Any

from mlfleet.report.terminal import format_value


def print_plan(plan: dict[str, Any]) -> None:
    """Print a plan (as built by :func:`mlfleet.plan.build_plan`) with rich."""
    from rich.console import Console
    from rich.table import Table

    from mlfleet.plan import CHAPTERS

    console = Console(width=110, soft_wrap=False)
    meta = plan["scenario"]
    console.print(f"[bold]mlfleet plan[/bold] — {meta['name']}: {meta.get('description', '')}")
    for chapter in CHAPTERS:
        section = plan[chapter]
        console.rule(f"[bold]{chapter}[/bold]", align="left")
        if section["status"] != "ok":
            console.print(f"  {section['status']}: {section.get('note', '')}")
            continue
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="cyan")
        table.add_column()
        for key, value in section["numbers"].items():
            table.add_row(key, format_value(key, value))
        console.print(table)
        console.print(f"  [bold]bottleneck:[/bold] {section['bottleneck']}")
        console.print(f"  [bold]recommendation:[/bold] {section['recommendation']}")
        for line in section["reasoning"]:
            console.print(f"   · {line}")
        console.print(f"  [dim]fidelity: {section['fidelity']}[/dim]")
    _print_checks(console, plan.get("checks", []))


def _print_checks(console: Any, checks: list[dict[str, Any]]) -> None:
    if not checks:
        return
    console.rule("[bold]checks[/bold]", align="left")
    for check in checks:
        mark = {True: "[green]ok[/green]", False: "[red]VIOLATED[/red]"}.get(
            check["holds"], "[yellow]not evaluated[/yellow]")
        console.print(f"  {mark}  {check['name']}: {check['observed_text']} vs limit "
                      f"{check['limit_text']}" + (f" — {check['note']}" if check.get("note") else ""))
