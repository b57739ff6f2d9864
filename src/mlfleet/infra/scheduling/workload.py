"""Workload files: jobs (specs) and their speed models, read and checked.

Three CSV layouts, told apart by their header:

- **Pollux workload** (``name,time,application,num_replicas,batch_size``): profiled
  jobs; ``time`` is the submit second; speed from the application's profiles.
- **Philly trace** (``timestamp,duration,num_gpus,...``): the artifact's
  ``traces/philly.csv``; submit times relative to the first timestamp.
- **Trace** (``name,submit_s,gpus,duration_s`` and optionally ``team``, ``priority``,
  ``partition``, ``time_limit_s``): jobs with a packed run time.

Bad input raises :class:`WorkloadError` naming the file, line, column and value.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.pollux_data import PHILLY, workload_path
from mlfleet.infra.scheduling.speed.model import JobSpeed
from mlfleet.infra.scheduling.speed.profile import APPLICATIONS, profile
from mlfleet.infra.scheduling.speed.profiled import ProfiledSpeed
from mlfleet.infra.scheduling.speed.trace import LocalityModel, TraceSpeed
from mlfleet.infra.scheduling.types import JobSpec

POLLUX_COLUMNS = ("name", "time", "application", "num_replicas", "batch_size")
PHILLY_COLUMNS = ("timestamp", "duration", "num_gpus")
TRACE_COLUMNS = ("name", "submit_s", "gpus", "duration_s")


class WorkloadError(InputError):
    """A workload file that cannot be read: the message names file, line and value."""


@dataclass(frozen=True, kw_only=True)
class Workload:
    """Jobs to simulate and, for each, a factory of its speed model."""

    name: str
    specs: tuple[JobSpec, ...]
    kind: str
    """'pollux', 'philly' or 'trace'."""

    def speeds(self, *, gpus_per_node: int,
               locality: LocalityModel | None = None) -> list[JobSpeed]:
        """A fresh speed model per job (models hold progress: one set per run)."""
        loc = locality or LocalityModel(gpus_per_node=gpus_per_node)
        return [speed_of(s, gpus_per_node=gpus_per_node, locality=loc) for s in self.specs]

    @property
    def max_gpus(self) -> int:
        """GPUs of the largest job."""
        return max((s.gpus for s in self.specs), default=0)


def speed_of(spec: JobSpec, *, gpus_per_node: int, locality: LocalityModel) -> JobSpeed:
    """The speed model of one job."""
    if spec.application is not None:
        assert spec.batch_size is not None
        return ProfiledSpeed(profile(spec.application), batch_size=spec.batch_size,
                             gpus=spec.gpus, gpus_per_node=gpus_per_node)
    assert spec.duration_s is not None
    return TraceSpeed(duration_s=spec.duration_s, gpus=spec.gpus, locality=locality,
                      share=spec.gpu_fraction)


def load_workload(source: str) -> Workload:
    """A workload from a CSV path or a bundled name (``workload-3``, ``workload-3@0.5``,
    ``philly``)."""
    if source == "philly":
        path = PHILLY
    elif Path(source).suffix.lower() == ".csv" or Path(source).exists():
        path = Path(source)
    else:
        path = workload_path(source)
    if not path.is_file():
        raise WorkloadError(f"workload(={source!r}) is not a file")
    try:
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise WorkloadError(f"{path.name}: not a readable CSV file ({exc})") from None
    if not rows:
        raise WorkloadError(f"{path.name}: empty file; want a header and one row per job")
    header = [h.strip() for h in rows[0]]
    kind, reader = _layout(path, header)
    body = [(line, row) for line, row in enumerate(rows[1:], start=2)
            if any(cell.strip() for cell in row)]  # blank lines are not jobs
    specs = reader(path.name, header, body)
    if not specs:
        raise WorkloadError(f"{path.name}: no jobs")
    return Workload(name=path.stem, specs=tuple(specs), kind=kind)


Lines = list[tuple[int, list[str]]]
"""(line number, fields) of each non-blank data row."""
Reader = Callable[[str, list[str], Lines], list[JobSpec]]


def _layout(path: Path, header: list[str]) -> tuple[str, Reader]:
    for kind, columns, reader in (("pollux", POLLUX_COLUMNS, _pollux_jobs),
                                  ("philly", PHILLY_COLUMNS, _philly_jobs),
                                  ("trace", TRACE_COLUMNS, _trace_jobs)):
        if set(columns) <= set(header):
            return kind, reader
    best = max((POLLUX_COLUMNS, PHILLY_COLUMNS, TRACE_COLUMNS),
               key=lambda cols: len(set(cols) & set(header)))
    missing = [c for c in best if c not in header]
    raise WorkloadError(
        f"{path.name}: missing column(s) {', '.join(missing)}; a workload has "
        f"{','.join(POLLUX_COLUMNS)} (profiled jobs) or {','.join(TRACE_COLUMNS)} (trace)")


class _Row:
    """Typed access to one CSV row with one-line errors."""

    def __init__(self, file: str, line: int, header: list[str], row: list[str]) -> None:
        if len(row) != len(header):
            raise WorkloadError(f"{file} line {line}: {len(row)} fields, header has "
                                f"{len(header)}")
        self.file, self.line, self.cells = file, line, dict(zip(header, row, strict=True))

    def text(self, column: str) -> str:
        return self.cells[column].strip()

    def number(self, column: str, *, integer: bool = False, minimum: float = 0.0,
               strict: bool = True) -> float:
        raw = self.text(column)
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
        if not ok or (integer and value != int(value)):
            kind = "an integer" if integer else "a number"
            bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
            raise WorkloadError(f"{self.file} line {self.line}: {column}(={raw!r}) must be "
                                f"{kind} {bound}")
        return value


def _pollux_jobs(file: str, header: list[str], rows: Lines) -> list[JobSpec]:
    specs = []
    for i, raw in rows:
        row = _Row(file, i, header, raw)
        app = row.text("application")
        if app not in APPLICATIONS:
            raise WorkloadError(f"{file} line {i}: application(={app!r}) is not profiled; "
                                f"known: {', '.join(APPLICATIONS)}")
        prof = profile(app)
        batch = int(row.number("batch_size", integer=True))
        if not prof.init_batch_size <= batch <= prof.max_batch_size:
            raise WorkloadError(f"{file} line {i}: batch_size(={batch}) of {app} must lie in "
                                f"{prof.init_batch_size}..{prof.max_batch_size} (profiled)")
        gpus = int(row.number("num_replicas", integer=True))
        # Elastic bounds as the artifact's Optimus sees them (ncf runs on one GPU).
        most = 1 if app == "ncf" else max(1, batch // prof.min_local_bsz)
        specs.append(JobSpec(name=row.text("name"), submit_s=row.number("time", strict=False),
                             gpus=gpus, application=app, batch_size=batch, min_gpus=1,
                             max_gpus=most))
    return specs


def _philly_jobs(file: str, header: list[str], rows: Lines) -> list[JobSpec]:
    parsed = []
    for i, raw in rows:
        row = _Row(file, i, header, raw)
        try:
            when = datetime.fromisoformat(row.text("timestamp")).timestamp()
        except ValueError:
            raise WorkloadError(f"{file} line {i}: timestamp(={row.text('timestamp')!r}) "
                                "must be an ISO date-time") from None
        parsed.append((when, row.number("duration"), int(row.number("num_gpus", integer=True)),
                       i - 2))
    start = min(p[0] for p in parsed) if parsed else 0.0
    return [JobSpec(name=f"philly-{k}", submit_s=when - start, gpus=gpus, duration_s=dur)
            for when, dur, gpus, k in parsed]


def _trace_jobs(file: str, header: list[str], rows: Lines) -> list[JobSpec]:
    specs = []
    for i, raw in rows:
        row = _Row(file, i, header, raw)
        limit = row.number("time_limit_s") if row.cells.get("time_limit_s", "").strip() else None
        specs.append(JobSpec(
            name=row.text("name"), submit_s=row.number("submit_s", strict=False),
            gpus=int(row.number("gpus", integer=True)), duration_s=row.number("duration_s"),
            time_limit_s=limit, team=row.cells.get("team", "").strip() or "default",
            priority=int(row.number("priority", integer=True, minimum=-1e18))
            if row.cells.get("priority", "").strip() else 0,
            partition=row.cells.get("partition", "").strip() or "default"))
    return specs
