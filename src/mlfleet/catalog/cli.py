"""``mlfleet catalog list [KIND]`` and ``mlfleet catalog show NAME``."""

from __future__ import annotations

import click

from mlfleet import catalog as cat
from mlfleet.catalog.loader import KINDS


@click.group("catalog")
def catalog_group() -> None:
    """List and show catalog entries; every value comes with its source.

    `mlfleet --catalog DIR catalog ...` (or MLFLEET_CATALOG=DIR) adds or overrides entries
    from DIR's *.yaml files.
    """


@catalog_group.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS, case_sensitive=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(kind: str | None, as_json: bool) -> None:
    """List entries, optionally of one KIND."""
    rows = cat.entries(kind.lower() if kind else None)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json([{"name": e.name, "kind": e.kind, "aliases": list(e.aliases),
                    "summary": e.summary} for e in rows])
        return
    from mlfleet.report.terminal import print_table

    print_table(["name", "kind", "aliases", "summary"],
                [[e.name, e.kind, ", ".join(e.aliases), e.summary] for e in rows],
                title=f"catalog: {kind or 'all kinds'} ({len(rows)} entries)")


@catalog_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_cmd(name: str, as_json: bool) -> None:
    """Show one entry (NAME or an alias) with the source of every value."""
    entry = cat.get(name)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(entry.as_dict())
        return
    from mlfleet.report.terminal import format_value, print_table

    sources = sorted({v.source for v in entry.values.values()})
    rows = [[path, format_value(path, item.value), item.note,
             f"[{sources.index(item.source) + 1}]"] for path, item in entry.values.items()]
    print_table(["field", "value", "note", "src"], rows,
                title=f"{entry.name} ({entry.kind}): {entry.summary}")
    for i, src in enumerate(sources, 1):
        click.echo(f"[{i}] {src}")
    if entry.origin != "bundled":
        click.echo(f"added or overridden by the user catalog file {entry.origin}")

