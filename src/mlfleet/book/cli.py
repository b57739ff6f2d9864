"""``mlfleet book``: write the textbook's tables, and check a chapter's tables against the models."""

from __future__ import annotations

import click


@click.group("book", context_settings={"help_option_names": ["-h", "--help"]})
def book_group() -> None:
    """Textbook tables from the models: write them, check a chapter against them."""
