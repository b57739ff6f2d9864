"""``mlfleet sweep``: evaluate a grid of scenario variations."""

from __future__ import annotations

import click

from mlfleet.errors import InputError


@click.command("sweep")
def sweep_command() -> None:
    """Sweep scenario fields over a grid and write the results to Parquet."""
    raise InputError("mlfleet sweep is being built")
