"""Write a synthetic image-like dataset as WebDataset tar shards or as Parquet.

Sample ``i`` has the key ``f"{i:08d}"``, the label ``i % 1000`` and a payload of
``sample_bytes`` uint8 pixels with 4 bits of entropy each (seeded), stored
DEFLATE-compressed (zlib, PNG's codec): reading a sample decompresses it, a real
decode. Both formats hold the same samples in the same ``shards`` groups:

* ``shards``: ``shard-000000.tar`` … in the WebDataset layout (members ``KEY.bin`` and
  ``KEY.cls``, a sample's members adjacent), written and read with the standard
  library's ``tarfile``. Not with the ``webdataset`` package itself: importing it
  (1.0.2) imports torch, about 2 s of CPU in every process that reads a shard and
  1.5-3 s more at interpreter exit, which a Ctrl-C must not wait for. The tests read
  these shards with ``webdataset.WebDataset`` and read shards written by
  ``webdataset.TarWriter`` with this loader, so the two stay interchangeable;
* ``parquet``: ``data.parquet`` with one row group per shard (columns ``key``,
  ``label``, ``payload``).

Every file is fsynced; the dataset is written into a hidden sibling directory and
renamed into place, so an interrupted write leaves no half dataset behind.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mlfleet.checks import one_of, positive_int

FORMATS = ("shards", "parquet")
"""Dataset formats the loader reads."""
META = "meta.json"
LABELS = 1000


@dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """What to write: how many samples, how big, in how many shards, from which seed."""

    samples: int
    """Number of samples."""
    sample_bytes: int
    """Decoded bytes per sample (the payload after decompression)."""
    shards: int = 16
    """Tar shards (``shards``) or row groups (``parquet``); capped at ``samples``."""
    seed: int = 0
    """Seed of the payloads."""

    def __post_init__(self) -> None:
        positive_int("samples", self.samples)
        positive_int("sample_bytes", self.sample_bytes)
        positive_int("shards", self.shards)
        positive_int("seed", self.seed, minimum=0)

    def shard_bounds(self) -> list[tuple[int, int]]:
        """``[start, end)`` sample indices of each shard (as equal as possible, none empty)."""
        count = min(self.shards, self.samples)
        edges = np.linspace(0, self.samples, count + 1).round().astype(int)
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A written dataset: where, in which format, and what it holds."""

    root: Path
    """Directory of the dataset's files."""
    format: str
    """One of :data:`FORMATS`."""
    spec: DatasetSpec
    """What was written."""
    stored_bytes: int
    """Bytes of the data files on disk."""

    @property
    def shard_count(self) -> int:
        """Number of shards (row groups)."""
        return len(self.spec.shard_bounds())


def sample_key(index: int) -> str:
    """The key of sample ``index``."""
    return f"{index:08d}"


def _payloads(spec: DatasetSpec, start: int, end: int) -> Iterator[tuple[str, int, bytes]]:
    """(key, label, compressed payload) of samples ``start..end-1``, seeded per sample."""
    for i in range(start, end):
        rng = np.random.default_rng([spec.seed, i])
        pixels = rng.integers(0, 16, size=spec.sample_bytes, dtype=np.uint8)
        yield sample_key(i), i % LABELS, zlib.compress(pixels.tobytes(), 1)


def decode_payload(payload: bytes) -> np.ndarray:
    """The pixels of a stored payload (uint8, shape ``(sample_bytes,)``)."""
    return np.frombuffer(zlib.decompress(payload), dtype=np.uint8)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.uname, info.gname = len(data), 0o444, "bigdata", "bigdata"
    tar.addfile(info, io.BytesIO(data))


def _write_shards(spec: DatasetSpec, root: Path) -> None:
    for n, (start, end) in enumerate(spec.shard_bounds()):
        path = root / f"shard-{n:06d}.tar"
        with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
            for key, label, payload in _payloads(spec, start, end):
                _add_member(tar, f"{key}.bin", payload)
                _add_member(tar, f"{key}.cls", str(label).encode())
        _fsync_file(path)


def _write_parquet(spec: DatasetSpec, root: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("key", pa.string()), ("label", pa.int64()), ("payload", pa.binary())])
    path = root / "data.parquet"
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        for start, end in spec.shard_bounds():
            keys, labels, payloads = zip(*_payloads(spec, start, end), strict=True)
            writer.write_table(pa.table([list(keys), list(labels), list(payloads)],
                                        schema=schema), row_group_size=end - start)
    _fsync_file(path)


def write_dataset(spec: DatasetSpec, *, directory: Path, fmt: str) -> Dataset:
    """Write ``spec`` as ``fmt`` into ``directory/fmt`` (replacing one there) and return it."""
    one_of("format", fmt, FORMATS)
    final = directory / fmt
    staging = directory / f".{fmt}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        (_write_shards if fmt == "shards" else _write_parquet)(spec, staging)
        (staging / META).write_text(json.dumps({"format": fmt, "spec": asdict(spec)}))
        _fsync_file(staging / META)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    stored = sum(p.stat().st_size for p in final.iterdir() if p.name != META)
    return Dataset(root=final, format=fmt, spec=spec, stored_bytes=stored)
