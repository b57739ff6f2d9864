"""``mlfleet validate``: run every validation, one table, compare with the stored baseline."""

from __future__ import annotations

import click

from mlfleet.errors import InputError


@click.command("validate")
def validate_command() -> None:
    """Run every model's validation and print one table."""
    raise InputError("mlfleet validate is being built")
