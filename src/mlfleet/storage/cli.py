"""``mlfleet storage``: the storage chapter's models, each command imported on first use."""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

STORAGE_COMMANDS: dict[str, tuple[str, str, str]] = {
    "io": ("mlfleet.storage.models_cli", "io_command",
           "I/O bandwidth a training job needs vs what a storage system delivers."),
    "tiers": ("mlfleet.storage.models_cli", "tiers_command",
              "Hot/warm/cold tier cost breakdown for a dataset and its access rate."),
    "latency": ("mlfleet.storage.models_cli", "latency_command",
                "Latency breakdown by access pattern and medium."),
    "small-files": ("mlfleet.storage.models_cli", "small_files_command",
                    "Per-file and per-request overheads: the small-file problem."),
    "starvation": ("mlfleet.storage.loader.model_cli", "starvation_command",
                   "GPU starvation: exposed data-loading time given workers and prefetch."),
    "checkpoint": ("mlfleet.storage.checkpoint.cli", "checkpoint_command",
                   "Checkpoint size, write time and storage cost per model."),
    "dataset": ("mlfleet.storage.datasets.cli", "dataset_group",
                "Dataset versions, time travel, lineage and quality checks."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("storage", cls=LazyGroup, registry=STORAGE_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def storage_group() -> None:
    """Storage for ML: I/O budgets, tiers, starvation, checkpoints, datasets."""
