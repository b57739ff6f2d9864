"""Allocation files: one CSV row per workload and period, read and checked.

Columns (header names; order free):

* required: ``name``, ``team``, ``model``, ``gpu_requested``, ``gpu_used``, and the period
  as ``duration_h`` or as ``start_s`` and ``end_s``;
* optional, 0 when absent: ``cpu_requested``/``cpu_used`` (cores),
  ``ram_gb_requested``/``ram_gb_used``, ``storage_gb_requested``/``storage_gb_used``,
  ``network_gb``; ``node``; ``mig`` (``A100-80GB:1g.10gb``: the GPU request becomes the
  slice's fraction, :mod:`.fractional`);
* metric columns named by the caller (e.g. ``requests`` for ``--split metric:requests``).

Bad input raises :class:`AllocationFileError` naming the file, line, column and value.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from mlfleet.errors import InputError
from mlfleet.ops.cost.allocation import Allocation
from mlfleet.ops.cost.fractional import mig_gpu_fraction
from mlfleet.ops.cost.resources import Resource

REQUIRED = ("name", "team", "model", "gpu_requested", "gpu_used")


class AllocationFileError(InputError):
    """An allocation file that cannot be read: the message names file, line and value."""


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line, column -> text)]) of the non-blank rows of a CSV file."""
    if not path.is_file():
        raise AllocationFileError(f"{str(path)!r} is not a file")
    try:
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AllocationFileError(f"{path.name}: not a readable CSV file ({exc})") from None
    if not rows:
        raise AllocationFileError(f"{path.name}: empty file; want a header and data rows")
    header = [h.strip() for h in rows[0]]
    body = [(i, dict(zip(header, (c.strip() for c in row), strict=False)))
            for i, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)]
    return header, body


def _check_header(file: str, header: list[str], metrics: Sequence[str]) -> None:
    has_period = "duration_h" in header or {"start_s", "end_s"} <= set(header)
    wanted = [*REQUIRED, *([] if has_period else ["duration_h (or start_s and end_s)"]),
              *metrics]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise AllocationFileError(f"{file}: missing column(s) {', '.join(missing)}; "
                                  f"columns: {', '.join(header)}")


def _number(file: str, line: int, row: dict[str, str], column: str) -> float:
    text = row.get(column, "")
    if text == "":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise AllocationFileError(f"{file}: line {line}: {column}(={text!r}) must be a "
                                  "finite number >= 0")
    return value


def _duration_h(file: str, line: int, row: dict[str, str]) -> float:
    if row.get("duration_h", "") != "":
        hours = _number(file, line, row, "duration_h")
    else:
        hours = (_number(file, line, row, "end_s") - _number(file, line, row, "start_s")) / 3600
    if hours <= 0:
        raise AllocationFileError(f"{file}: line {line}: the period must be > 0 hours "
                                  "(duration_h, or end_s after start_s)")
    return hours


def _allocation(file: str, line: int, row: dict[str, str], metrics: Sequence[str]) -> Allocation:
    def num(column: str) -> float:
        return _number(file, line, row, column)

    requested = {r: num(f"{r.value}_requested") for r in Resource}
    if row.get("mig", ""):
        try:
            requested[Resource.GPU] = mig_gpu_fraction(row["mig"])
        except InputError as exc:
            raise AllocationFileError(f"{file}: line {line}: {exc}") from None
    for column in ("name", "team", "model"):
        if not row.get(column, ""):
            raise AllocationFileError(f"{file}: line {line}: {column} is empty")
    return Allocation(name=row["name"], team=row["team"], model=row["model"],
                      duration_h=_duration_h(file, line, row), requested=requested,
                      used={r: num(f"{r.value}_used") for r in Resource},
                      network_gb=num("network_gb"), node=row.get("node", ""),
                      metrics={m: num(m) for m in metrics})


def read_allocations(path: Path, *, metrics: Sequence[str] = ()) -> list[Allocation]:
    """The allocations of ``path``, with the ``metrics`` columns (which must exist)."""
    header, body = read_rows(path)
    _check_header(path.name, header, metrics)
    if not body:
        raise AllocationFileError(f"{path.name}: no allocations")
    return [_allocation(path.name, line, row, metrics) for line, row in body]
