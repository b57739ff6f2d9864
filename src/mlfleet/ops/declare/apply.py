"""Apply: ``mlfleet serve --scenario FILE`` starts the server the scenario declares.

The declared fields go through :func:`~mlfleet.ops.declare.mapping.apply_deployment`
(the mapping ``ops diff`` compares through); an option given explicitly on the command
line wins over the scenario, and one stderr line per such field says so.
``--record FILE`` writes a deployment record once the server is ready.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from mlfleet.errors import InputError
from mlfleet.ops.declare.diff import deployment_of
from mlfleet.ops.declare.mapping import SERVE_OPTIONS, apply_deployment, declared_values
from mlfleet.serving.server.config import ServerConfig

_PAIRED = ("admission", "admission_params")
"""A policy and its parameters: one given on the command line keeps both."""


def explicit_paths(ctx: click.Context) -> dict[str, str]:
    """Field path -> the flag that set it, for options given on the command line."""
    flags = {p.name: max(p.opts, key=len) for p in ctx.command.params}
    out = {path: flags[name] for name, path in SERVE_OPTIONS.items()
           if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    given = [out[p] for p in _PAIRED if p in out]
    if given:
        out.update({p: out.get(p, given[0]) for p in _PAIRED})
    return out


def apply_scenario(ctx: click.Context, source: str,
                   config: ServerConfig) -> tuple[ServerConfig, dict[str, Any]]:
    """``config`` with the deployment that ``source`` declares applied under the explicit
    options; returns it and the declared fields. InputError for a scenario without a
    ``deployment:`` section or a result the server refuses."""
    from mlfleet.scenario import load_scenario

    spec = deployment_of(load_scenario(source), source)
    declared = declared_values(spec)
    explicit = explicit_paths(ctx)
    applied = apply_deployment(spec, config, keep=frozenset(explicit))  # refusals first
    for path in sorted(set(declared) & set(explicit)):
        click.echo(f"mlfleet serve: {explicit[path]} overrides {source}'s deployment.{path} "
                   f"({declared[path]!r})", err=True)
    if spec.replicas > 1:
        click.echo(f"mlfleet serve: {source} declares {spec.replicas} replicas; this process "
                   "is one of them", err=True)
    return applied, declared


def deployment_recorder(path: Path, config: ServerConfig,
                        declared: dict[str, Any] | None) -> Callable[[str], None]:
    """A callback for ``serve(on_ready=...)`` that writes a deployment record to ``path``.
    Checks ``path`` first, so a bad one fails before the server starts."""
    if path.is_dir() or not path.resolve().parent.is_dir():
        raise InputError(f"--record(={str(path)!r}) must be a file path in an existing "
                         "directory")

    def write(url: str) -> None:
        from mlfleet.ops.declare.record import build_record, configuration_of, write_record

        configuration = configuration_of({"server": dataclasses.asdict(config),
                                          "declared": declared})
        write_record(path, build_record(configuration=configuration, kind="deployment",
                                        extra={"url": url}))
        click.echo(f"mlfleet serve: wrote the deployment record {path}", err=True)

    return write
