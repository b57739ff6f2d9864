"""``mlfleet report``: the plan of every chapter as one self-contained HTML file with plots."""

from __future__ import annotations

import click

from mlfleet.errors import InputError


@click.command("report")
def report_command() -> None:
    """Write the plan of every chapter, with plots, as one self-contained HTML file."""
    raise InputError("mlfleet report is being built")
