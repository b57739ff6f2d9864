"""The mlfleet command tree, enumerated from the lazy registries by click introspection.

Tests that must cover every command (strict JSON, the CLI fuzz) walk this tree, so a
command added to a registry is covered without editing them.
"""

from __future__ import annotations

import click

from mlfleet.cli import cli


def leaf_commands() -> dict[tuple[str, ...], click.Command]:
    """Every runnable command, by its path (``("comm", "allreduce")``), sorted by path."""
    found: dict[tuple[str, ...], click.Command] = {}
    _walk(cli, (), click.Context(cli), found)
    return dict(sorted(found.items()))


def _walk(command: click.Command, path: tuple[str, ...], ctx: click.Context,
          found: dict[tuple[str, ...], click.Command]) -> None:
    if not isinstance(command, click.Group):
        found[path] = command
        return
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        assert sub is not None, (path, name)
        _walk(sub, (*path, name), click.Context(sub, parent=ctx, info_name=name), found)


def has_json_flag(command: click.Command) -> bool:
    """Whether the command takes ``--json``."""
    return any("--json" in param.opts for param in command.params)
