"""``mlfleet run``: every chapter's real executions under one group.

A chapter registers a run by adding a row to :data:`RUN_COMMANDS`; the command is
imported only when invoked.
"""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

RUN_COMMANDS: dict[str, tuple[str, str, str]] = {
    "collective": ("mlfleet.comm.run_cli", "collective_command",
                   "Measure a collective over a range of sizes on N real processes."),
    "compression": ("mlfleet.comm.run_cli", "compression_command",
                    "Data-parallel SGD with gradient compression: loss vs bytes."),
    "train": ("mlfleet.reliability.train.cli", "train_command",
              "Fault-tolerant data-parallel training: checkpoints, kills, recovery, goodput."),
    "loader": ("mlfleet.storage.loader.cli", "loader_command",
               "Write a dataset (Parquet / WebDataset shards) and measure a real loader."),
    "pinning": ("mlfleet.infra.isolation.pinning_cli", "pinning_command",
                "A real mlfleet serve with and without CPU pinning while a CPU hog runs: p99."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("run", cls=LazyGroup, registry=RUN_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def run_group() -> None:
    """Run real implementations and measure them."""
