"""``mlfleet storage dataset lineage``: record and query what trained what, and what is served."""

from __future__ import annotations

from pathlib import Path

import click

from mlfleet.errors import InputError
from mlfleet.storage.datasets.lineage import DatasetRef, Lineage

DB = click.option("--db", required=True, help="Lineage store (an SQLite file).")


def _existing(db: str) -> Lineage:
    if not Path(db).is_file():
        raise InputError(f"--db(={db!r}) is not a lineage store file (record something first)")
    return Lineage(Path(db))


@click.group("lineage", context_settings={"help_option_names": ["-h", "--help"]})
def lineage_group() -> None:
    """Which dataset version trained which checkpoint; which checkpoint is served."""


@lineage_group.command("trained")
@DB
@click.option("--checkpoint", required=True, help="Checkpoint id.")
@click.option("--dataset", required=True, help="Dataset path or name.")
@click.option("--version", "version", required=True, type=click.IntRange(min=0))
def trained_command(db: str, checkpoint: str, dataset: str, version: int) -> None:
    """Record that CHECKPOINT was trained on DATASET at VERSION."""
    Lineage(Path(db)).record_training(checkpoint=checkpoint,
                                      dataset=DatasetRef(dataset=dataset, version=version))
    click.echo(f"{checkpoint} <- {dataset}@{version}")


@lineage_group.command("served")
@DB
@click.option("--deployment", required=True, help="Deployment name.")
@click.option("--checkpoint", required=True, help="Checkpoint it now serves.")
def served_command(db: str, deployment: str, checkpoint: str) -> None:
    """Record that DEPLOYMENT serves CHECKPOINT from now on."""
    Lineage(Path(db)).record_serving(deployment=deployment, checkpoint=checkpoint)
    click.echo(f"{deployment} serves {checkpoint}")


@lineage_group.command("show")
@DB
@click.option("--checkpoint", default=None, help="What trained this checkpoint.")
@click.option("--dataset", default=None, help="What this dataset trained, and where it is served.")
@click.option("--version", "version", default=None, type=click.IntRange(min=0),
              help="With --dataset: only this version.")
def show_command(db: str, checkpoint: str | None, dataset: str | None,
                 version: int | None) -> None:
    """Query the store: a checkpoint's datasets, a dataset's checkpoints, or what is served."""
    store = _existing(db)
    if checkpoint is not None:
        for ref in store.trained_on(checkpoint) or []:
            click.echo(f"{checkpoint} <- {ref.dataset}@{ref.version}")
        return
    if dataset is not None:
        for name in store.checkpoints_from(dataset, version):
            click.echo(f"{dataset}{'' if version is None else f'@{version}'} -> {name}")
        for s in store.affected_deployments(dataset, version):
            click.echo(f"  served by {s.deployment} ({s.checkpoint})")
        return
    for s in store.serving():
        click.echo(f"{s.deployment} serves {s.checkpoint} <- "
                   + ", ".join(f"{r.dataset}@{r.version}" for r in store.trained_on(s.checkpoint)))
