"""What one loader worker does: read its shards, shuffle through a buffer, decode, batch.

Pure of processes: :mod:`mlfleet.storage.loader.pool` runs :func:`worker_batches`
in each worker process, and tests call it in-process.

Shuffling is WebDataset's: shard order is permuted per epoch, shards are dealt to
workers round-robin (``split_by_worker``), and each worker passes its samples
through a buffer of ``shuffle_buffer`` samples, emitting a uniformly random one
each time the buffer is full (``webdataset.filters.shuffle``), with a seeded
``numpy.random.Generator`` instead of ``random.Random``.
"""

from __future__ import annotations

import tarfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from mlfleet.checks import non_negative, positive_int
from mlfleet.storage.loader.write import Dataset, decode_payload

T = TypeVar("T")
Sample = tuple[str, int, bytes]
"""(key, label, stored payload)."""


@dataclass(frozen=True, kw_only=True)
class LoaderConfig:
    """How the loader runs: processes, batching, shuffling, prefetch and decode cost."""

    workers: int = 2
    """Worker processes."""
    batch_size: int = 32
    """Samples per batch (each worker's last batch may be short)."""
    shuffle_buffer: int = 256
    """Samples each worker's shuffle buffer holds (1: no shuffling within shards)."""
    prefetch_batches: int = 2
    """Batches each worker may have ready ahead of the consumer (``prefetch_factor``)."""
    decode_s: float = 0.0
    """Extra CPU seconds of work per sample after decompression (an augmentation stand-in)."""
    seed: int = 0
    """Seed of the shard order and of every shuffle buffer."""

    def __post_init__(self) -> None:
        positive_int("workers", self.workers)
        positive_int("batch_size", self.batch_size)
        positive_int("shuffle_buffer", self.shuffle_buffer)
        positive_int("prefetch_batches", self.prefetch_batches)
        non_negative("decode_s", self.decode_s)
        positive_int("seed", self.seed, minimum=0)


@dataclass(frozen=True, kw_only=True)
class Batch:
    """A batch as the consumer receives it."""

    keys: tuple[str, ...]
    """Sample keys."""
    labels: np.ndarray
    """int64 labels, shape (B,)."""
    pixels: np.ndarray
    """uint8 decoded payloads, shape (B, sample_bytes)."""


def shuffle_buffer(items: Iterable[T], *, size: int, rng: np.random.Generator) -> Iterator[T]:
    """Every item once, in buffer-shuffled order: fill ``size`` items, then emit a random one
    per item read; drain the rest in random order at the end."""
    buffer: list[T] = []
    for item in items:
        buffer.append(item)
        if len(buffer) >= size:
            yield _pick(buffer, rng)
    while buffer:
        yield _pick(buffer, rng)


def _pick(buffer: list[T], rng: np.random.Generator) -> T:
    k = int(rng.integers(len(buffer)))
    buffer[k], buffer[-1] = buffer[-1], buffer[k]
    return buffer.pop()


def worker_shards(shard_count: int, *, workers: int, worker: int, seed: int,
                  epoch: int) -> list[int]:
    """The shards ``worker`` reads in ``epoch``: the epoch's permutation, dealt round-robin."""
    order = np.random.default_rng([seed, epoch]).permutation(shard_count)
    return [int(s) for s in order[worker::workers]]


def shard_samples(dataset: Dataset, shard: int) -> Iterator[Sample]:
    """The samples of one shard (tar file or Parquet row group), in stored order."""
    if dataset.format == "shards":
        for key, members in tar_samples(dataset.root / f"shard-{shard:06d}.tar"):
            yield key, int(members["cls"]), members["bin"]
        return
    import pyarrow.parquet as pq

    table = pq.ParquetFile(dataset.root / "data.parquet").read_row_group(shard)
    yield from zip(table.column("key").to_pylist(), table.column("label").to_pylist(),
                   table.column("payload").to_pylist(), strict=True)


def tar_samples(path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {extension: bytes}) per sample of a WebDataset tar shard, streamed.

    A sample is a run of adjacent members sharing the key: the member's path up to
    the first dot of its file name (``webdataset.tariterators.base_plus_ext``).
    """
    key: str | None = None
    members: dict[str, bytes] = {}
    with tarfile.open(path, "r|") as tar:
        for info in tar:
            if not info.isfile():
                continue
            folder, _, name = info.name.rpartition("/")
            stem, dot, ext = name.partition(".")
            this = f"{folder}/{stem}" if folder else stem
            if this != key and key is not None:
                yield key, members
                members = {}
            key = this
            if dot:
                file = tar.extractfile(info)
                assert file is not None
                members[ext] = file.read()
    if key is not None:
        yield key, members


def burn_cpu(seconds: float) -> None:
    """Spend ``seconds`` of this process's CPU time (not wall time) in a busy loop."""
    if seconds <= 0:
        return
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def _batch(samples: Sequence[tuple[str, int, np.ndarray]]) -> Batch:
    keys, labels, pixels = zip(*samples, strict=True)
    return Batch(keys=keys, labels=np.asarray(labels, dtype=np.int64), pixels=np.stack(pixels))


def worker_batches(dataset: Dataset, config: LoaderConfig, *, worker: int, epoch: int,
                   stop: Callable[[], bool] = lambda: False) -> Iterator[Batch]:
    """The batches worker ``worker`` produces in ``epoch`` (read, shuffle, decode, batch);
    ends early, between samples, once ``stop()`` is true."""
    rng = np.random.default_rng([config.seed, epoch, worker, 1])
    shards = worker_shards(dataset.shard_count, workers=config.workers, worker=worker,
                           seed=config.seed, epoch=epoch)
    stream = (s for shard in shards for s in shard_samples(dataset, shard))
    pending: list[tuple[str, int, np.ndarray]] = []
    for key, label, payload in shuffle_buffer(stream, size=config.shuffle_buffer, rng=rng):
        if stop():
            return
        pixels = decode_payload(payload)
        burn_cpu(config.decode_s)
        pending.append((key, label, pixels))
        if len(pending) == config.batch_size:
            yield _batch(pending)
            pending = []
    if pending:
        yield _batch(pending)


def open_dataset(root: Path) -> Dataset:
    """The dataset written by :func:`~mlfleet.storage.loader.write.write_dataset` at ``root``."""
    import json

    from mlfleet.errors import InputError
    from mlfleet.storage.loader.write import META, DatasetSpec

    try:
        meta = json.loads((root / META).read_text())
        spec = DatasetSpec(**meta["spec"])
        fmt = str(meta["format"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{str(root)!r} is not a loader dataset ({exc})") from None
    stored = sum(p.stat().st_size for p in root.iterdir() if p.name != META)
    return Dataset(root=root, format=fmt, spec=spec, stored_bytes=stored)
