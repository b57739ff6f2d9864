"""A click group whose sub-commands are imported on first use.

The top-level ``mlfleet`` command and the ``mlfleet sim`` / ``mlfleet run`` groups are
each a :class:`LazyGroup` over a registry ``name -> (module, attribute, one-line
help)``: a chapter adds a command by adding one row, and ``--help`` imports nothing
but the registry.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any

import click

Registry = Mapping[str, tuple[str, str, str]]
"""Command name -> (module, attribute, one-line help)."""


class LazyGroup(click.Group):
    """A click group over a :data:`Registry`; commands whose module is missing are hidden.

    Commands defined inline (``@group.command``) are listed beside the registry's.
    """

    def __init__(self, *args: Any, registry: Registry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = {name for name, (mod, _, _) in self.registry.items() if _available(mod)}
        return sorted(lazy | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.registry:
            return super().get_command(ctx, cmd_name)  # defined inline with @group.command
        if not _available(self.registry[cmd_name][0]):
            return None
        module, attr, _ = self.registry[cmd_name]
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._help(ctx, name)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _help(self, ctx: click.Context, name: str) -> str:
        if name in self.registry:
            return self.registry[name][2]
        command = self.commands[name]
        return command.get_short_help_str(limit=80)


def _available(module: str) -> bool:
    """Whether a sub-command's module exists, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
