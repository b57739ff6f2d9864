"""``mlfleet features``: the feature store's commands, each imported on first use."""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

FEATURE_COMMANDS: dict[str, tuple[str, str, str]] = {
    "apply": ("mlfleet.storage.features.offline_cli", "apply_command",
              "Validate and register a feature repository (entities, views, TTLs)."),
    "historical": ("mlfleet.storage.features.offline_cli", "historical_command",
                   "Point-in-time-correct training data for an entity table."),
    "materialize": ("mlfleet.storage.features.online_cli", "materialize_command",
                    "Load the latest feature values in a window into the online store."),
    "online": ("mlfleet.storage.features.online_cli", "online_command",
               "Look up online feature values for entities (with freshness)."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("features", cls=LazyGroup, registry=FEATURE_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def features_group() -> None:
    """Feature store: definitions, offline retrieval, online serving."""
