"""Lineage: which dataset version trained which checkpoint, and which checkpoint is served.

A small SQLite store (one file) with two append-only tables: ``trained`` (checkpoint,
dataset, version, when) and ``served`` (deployment, checkpoint, when; the latest row of
a deployment is what it serves now). Queries follow the edges both ways: what trained a
checkpoint, what a dataset version trained, and which deployments serve a model
trained on a given dataset version (the blast radius of a bad version).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlfleet.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS trained (
    checkpoint TEXT NOT NULL, dataset TEXT NOT NULL, version INTEGER NOT NULL,
    at_s REAL NOT NULL, PRIMARY KEY (checkpoint, dataset));
CREATE INDEX IF NOT EXISTS trained_by_dataset ON trained (dataset, version);
CREATE TABLE IF NOT EXISTS served (
    deployment TEXT NOT NULL, checkpoint TEXT NOT NULL, at_s REAL NOT NULL,
    seq INTEGER PRIMARY KEY AUTOINCREMENT);
"""


class LineageError(InputError):
    """A lineage record or query that names something unknown or malformed."""


@dataclass(frozen=True, kw_only=True)
class DatasetRef:
    """A dataset version: the dataset's path (or name) and its version number."""

    dataset: str
    """Dataset path or name, as recorded."""
    version: int
    """Version number."""


@dataclass(frozen=True, kw_only=True)
class Serving:
    """A deployment and the checkpoint it serves now."""

    deployment: str
    """Deployment name."""
    checkpoint: str
    """Checkpoint it serves."""


def _name(what: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LineageError(f"{what}(={value!r}) must be a non-empty name")
    return value


class Lineage:
    """The lineage store in the SQLite file ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path)
            db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LineageError(f"{str(self.path)!r} is not a lineage store ({exc})") from None
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def record_training(self, *, checkpoint: str, dataset: DatasetRef) -> None:
        """Record that ``checkpoint`` was trained on ``dataset`` (once per dataset)."""
        if dataset.version < 0:
            raise LineageError(f"version(={dataset.version}) must be >= 0")
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO trained VALUES (?, ?, ?, ?)",
                       (_name("checkpoint", checkpoint), _name("dataset", dataset.dataset),
                        dataset.version, time.time()))

    def record_serving(self, *, deployment: str, checkpoint: str) -> None:
        """Record that ``deployment`` serves ``checkpoint`` from now on."""
        with self._db() as db:
            db.execute("INSERT INTO served (deployment, checkpoint, at_s) VALUES (?, ?, ?)",
                       (_name("deployment", deployment), _name("checkpoint", checkpoint),
                        time.time()))

    def trained_on(self, checkpoint: str) -> list[DatasetRef]:
        """The dataset versions ``checkpoint`` was trained on."""
        with self._db() as db:
            rows = db.execute("SELECT dataset, version FROM trained WHERE checkpoint = ? "
                              "ORDER BY dataset", (checkpoint,)).fetchall()
        return [DatasetRef(dataset=d, version=v) for d, v in rows]

    def checkpoints_from(self, dataset: str, version: int | None = None) -> list[str]:
        """Checkpoints trained on ``dataset`` (at ``version``, or any version)."""
        query = "SELECT checkpoint FROM trained WHERE dataset = ?"
        args: tuple[str | int, ...] = (dataset,)
        if version is not None:
            query, args = query + " AND version = ?", (dataset, version)
        with self._db() as db:
            return [row[0] for row in db.execute(query + " ORDER BY checkpoint", args)]

    def serving(self) -> list[Serving]:
        """Every deployment with the checkpoint it serves now (its latest record)."""
        with self._db() as db:
            rows = db.execute("SELECT deployment, checkpoint FROM served s WHERE seq = "
                              "(SELECT MAX(seq) FROM served WHERE deployment = s.deployment) "
                              "ORDER BY deployment").fetchall()
        return [Serving(deployment=d, checkpoint=c) for d, c in rows]

    def affected_deployments(self, dataset: str, version: int | None = None) -> list[Serving]:
        """Deployments now serving a checkpoint trained on ``dataset`` (at ``version``)."""
        trained = set(self.checkpoints_from(dataset, version))
        return [s for s in self.serving() if s.checkpoint in trained]
