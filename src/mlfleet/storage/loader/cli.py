"""``mlfleet run loader``: write a dataset, load it with real worker processes, compare
samples/s with the starvation model.

    mlfleet run loader --format shards --workers 1,2,4 --json
    mlfleet run loader --format parquet --samples 20000 --decode-cost 1ms --dir /data/x

The dataset goes to a temporary directory removed at the end (``--dir`` keeps it).
For each worker count one epoch runs; samples/s is the steady-state rate (first
batch to last). The model (:mod:`mlfleet.storage.starvation`) is calibrated on the
smallest worker count and predicts the others on the cores this process may use.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from mlfleet.errors import InputError
from mlfleet.storage.loader.measure import LoaderStudy, sweep
from mlfleet.storage.loader.reader import Batch, LoaderConfig
from mlfleet.storage.loader.write import FORMATS, DatasetSpec, write_dataset
from mlfleet.units import parse_quantity

MAX_WORKERS = 32
MAX_DATASET_BYTES = 4 * 2**30
"""Largest decoded dataset ``--samples × --sample-bytes`` accepted (it is written to disk)."""


def parse_workers(text: str) -> tuple[int, ...]:
    """``"1,2,4"`` -> (1, 2, 4): distinct integers in 1..MAX_WORKERS, ascending."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        counts = []
    if not counts or counts[0] < 1 or counts[-1] > MAX_WORKERS:
        raise InputError(f"--workers(={text!r}) must be a comma list of integers in "
                         f"1..{MAX_WORKERS}, e.g. 1,2,4")
    return tuple(counts)


def _bytes(option: str, text: str) -> int:
    value = parse_quantity(text, "bytes")
    if value < 1 or value != int(value) or value > MAX_DATASET_BYTES:
        raise InputError(f"{option}(={text!r}) must be a whole number of bytes in "
                         f"1..{MAX_DATASET_BYTES}")
    return int(value)


def _seconds(option: str, text: str) -> float:
    value = parse_quantity(text, "s")
    if not 0 <= value <= 1:
        raise InputError(f"{option}(={text!r}) must be a duration in 0..1s")
    return value


def _spec(samples: int, sample_bytes: str, shards: int, seed: int) -> DatasetSpec:
    size = _bytes("--sample-bytes", sample_bytes)
    if samples < 1 or samples * size > MAX_DATASET_BYTES:
        raise InputError(f"--samples(={samples}) × --sample-bytes(={sample_bytes}) must be "
                         f"1..{MAX_DATASET_BYTES} bytes in all")
    if shards < 1:
        raise InputError(f"--shards(={shards}) must be >= 1")
    return DatasetSpec(samples=samples, sample_bytes=size, shards=shards, seed=seed)


@contextlib.contextmanager
def _directory(keep: str | None) -> Iterator[Path]:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="mlfleet-loader-") as tmp:
            yield Path(tmp)
        return
    path = Path(keep)
    if path.exists() and not path.is_dir():
        raise InputError(f"--dir(={keep!r}) exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--dir(={keep!r}) cannot be created: {exc.strerror}") from None
    yield path


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[Batch], None] | None]:
    """A rich bar on stderr counting samples loaded, or None when off or piped."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("samples loaded", total=total)
        yield lambda batch: bar.advance(task, len(batch.keys))


@click.command("loader")
@click.option("--format", "fmt", default="shards", show_default=True,
              help=f"Dataset format: {', '.join(FORMATS)} (WebDataset tar shards or Parquet).")
@click.option("--workers", default="1,2,4", show_default=True,
              help="Worker counts to measure, comma list (the smallest calibrates the model).")
@click.option("--samples", default=4000, show_default=True, type=int)
@click.option("--sample-bytes", default="4KB", show_default=True,
              help="Decoded bytes per sample (stored DEFLATE-compressed).")
@click.option("--decode-cost", default="0.2ms", show_default=True,
              help="Extra CPU time per sample after decompression (busy loop), 0..1s.")
@click.option("--batch-size", default=32, show_default=True, type=int)
@click.option("--shuffle-buffer", default=256, show_default=True, type=int,
              help="Samples in each worker's shuffle buffer (1: none).")
@click.option("--prefetch", default=2, show_default=True, type=int,
              help="Batches each worker may hold ready (prefetch_factor).")
@click.option("--shards", default=16, show_default=True, type=int,
              help="Tar shards / Parquet row groups.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--dir", "keep_dir", default=None, help="Write the dataset here and keep it.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def loader_command(fmt: str, workers: str, samples: int, sample_bytes: str, decode_cost: str,
                   batch_size: int, shuffle_buffer: int, prefetch: int, shards: int, seed: int,
                   keep_dir: str | None, as_json: bool) -> None:
    """Write a dataset, load it with 1..N worker processes, compare with the model."""
    if fmt not in FORMATS:
        raise InputError(f"--format(={fmt!r}) is unknown; known: {', '.join(FORMATS)}")
    counts = parse_workers(workers)
    spec = _spec(samples, sample_bytes, shards, seed)
    for option, value in (("--batch-size", batch_size), ("--shuffle-buffer", shuffle_buffer),
                          ("--prefetch", prefetch)):
        if value < 1:
            raise InputError(f"{option}(={value}) must be an integer >= 1")
    config = LoaderConfig(workers=counts[0], batch_size=batch_size,
                          shuffle_buffer=shuffle_buffer, prefetch_batches=prefetch,
                          decode_s=_seconds("--decode-cost", decode_cost), seed=seed)
    with _directory(keep_dir) as directory:
        dataset = write_dataset(spec, directory=directory, fmt=fmt)
        with _progress(not as_json, samples * len(counts)) as tick:
            study = sweep(dataset, config, workers=counts, on_batch=tick)
        document = payload(study, fmt=fmt, spec=spec, config=config,
                           stored_bytes=dataset.stored_bytes,
                           kept=str(dataset.root) if keep_dir is not None else None)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(document)
    else:
        render(document)


def payload(study: LoaderStudy, *, fmt: str, spec: DatasetSpec, config: LoaderConfig,
            stored_bytes: int, kept: str | None) -> dict[str, Any]:
    """The ``--json`` document."""
    costs = study.costs
    return {
        "fidelity": "run", "format": fmt, "cores": study.cores, "dataset_dir": kept,
        "dataset": {"samples": spec.samples, "sample_bytes": spec.sample_bytes,
                    "shards": len(spec.shard_bounds()), "stored_bytes": stored_bytes},
        "loader": {"batch_size": config.batch_size, "shuffle_buffer": config.shuffle_buffer,
                   "prefetch_batches": config.prefetch_batches, "decode_s": config.decode_s,
                   "seed": config.seed},
        "model": {"name": "mlfleet.storage.starvation.loader_samples_per_s (fidelity: model)",
                  "calibrated_on_workers": study.rows[0].point.workers,
                  "read_s_per_sample": costs.read_s_per_sample,
                  "decode_s_per_sample": costs.decode_s_per_sample,
                  "main_s_per_sample": costs.main_s_per_sample},
        "rows": [{"workers": r.point.workers, "samples": r.point.samples,
                  "samples_per_s": r.point.samples_per_s,
                  "samples_per_s_with_startup": r.point.samples_per_s_with_startup,
                  "worker_cpu_s_per_sample": r.point.worker_cpu_s_per_sample,
                  "main_cpu_s_per_sample": r.point.main_cpu_s_per_sample,
                  "background_threads": sum(r.point.background),
                  "background_groups": len(r.point.background),
                  "predicted_samples_per_s": r.predicted_samples_per_s,
                  "bottleneck": r.bottleneck, "model_error": r.error} for r in study.rows],
        "max_abs_model_error": study.max_abs_error,
    }


def render(document: dict[str, Any]) -> None:
    """The human table on stdout."""
    from mlfleet.report.terminal import print_table
    from mlfleet.units import format_bytes, format_duration

    rows = [[str(r["workers"]), f"{r['samples_per_s']:,.0f}",
             f"{r['predicted_samples_per_s']:,.0f}", f"{r['model_error']:+.0%}",
             r["bottleneck"], format_duration(r["worker_cpu_s_per_sample"]),
             format_duration(r["main_cpu_s_per_sample"]),
             f"{r['background_threads']:.1f} in {r['background_groups']}"]
            for r in document["rows"]]
    data = document["dataset"]
    title = (f"loader: {data['samples']:,} samples of {format_bytes(data['sample_bytes'])} as "
             f"{document['format']} ({format_bytes(data['stored_bytes'])} stored), "
             f"{document['cores']} cores; model calibrated on "
             f"{document['model']['calibrated_on_workers']} worker(s)")
    print_table(["workers", "samples/s", "model", "model err", "model bound",
                 "worker CPU/sample", "main CPU/sample", "others runnable"], rows,
                title=title)
    if document["dataset_dir"] is not None:
        click.echo(f"dataset kept in {document['dataset_dir']}")
