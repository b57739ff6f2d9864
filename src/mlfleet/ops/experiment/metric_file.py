"""A metric file: one row per unit, read into numpy arrays a chunk at a time.

Columns (CSV with a header, or Parquet when ``pyarrow`` is installed):

- ``unit_id``, ``arm``, ``value`` (required): the unit, its arm, its metric;
- ``pre_value`` (optional): the same metric before the experiment, CUPED's covariate;
- ``arm_b`` (optional): the unit's arm in a second, overlapping experiment (interactions);
- ``experiment`` (optional): rows of several experiments; pick one with ``experiment=``;
- ``time`` (optional): when the unit's value was observed (for looks over time).

Rows stay in file order. Only numbers reach Python objects one at a time and go straight
into typed buffers, so memory is about 30 bytes a row (a 1 GiB CSV of 30 M rows fits in
about 1 GiB); files over :data:`MAX_FILE_BYTES` are refused. Every problem is one
:class:`ExperimentInputError` line naming the file, the line and the value.
"""

from __future__ import annotations

import csv
import math
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mlfleet.ops.experiment.errors import ExperimentInputError

REQUIRED = ("unit_id", "arm", "value")
"""Columns every metric file has."""
OPTIONAL = ("pre_value", "arm_b", "experiment", "time")
"""Columns a metric file may have."""
NUMERIC = ("value", "pre_value", "time")
"""Columns that must hold finite numbers."""
MAX_FILE_BYTES = 8 * 2 ** 30
"""Files larger than 8 GiB are refused (about 250 M rows; memory ~30 bytes a row)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class MetricData:
    """A metric file's rows as arrays, in file order."""

    path: str
    """The file read."""
    arms: tuple[str, ...]
    """Arm names in order of first appearance."""
    arm_index: IntArray
    """Per row, the index of its arm in :attr:`arms`."""
    value: FloatArray
    """Per row, the metric."""
    pre_value: FloatArray | None = None
    """Per row, the pre-period covariate (None without the column)."""
    arms_b: tuple[str, ...] | None = None
    """Arm names of the second experiment (None without ``arm_b``)."""
    arm_b_index: IntArray | None = None
    """Per row, the index of its arm in :attr:`arms_b`."""
    time: FloatArray | None = None
    """Per row, the ``time`` column (None without it)."""

    @property
    def rows(self) -> int:
        """Number of units."""
        return int(self.value.size)

    def counts(self) -> IntArray:
        """Units per arm, in the order of :attr:`arms`."""
        return np.bincount(self.arm_index, minlength=len(self.arms)).astype(np.int64)

    def arm_values(self, arm: str) -> FloatArray:
        """The ``value`` of every unit in ``arm``."""
        picked: FloatArray = self.value[self.arm_index == self.arms.index(arm)]
        return picked


class _Columns:
    """Typed buffers the rows are appended to, one per column present."""

    def __init__(self, header: Sequence[str]) -> None:
        self.present = [c for c in (*REQUIRED, *OPTIONAL) if c in header]
        self.numbers: dict[str, array[float]] = {c: array("d") for c in NUMERIC if c in self.present}
        self.labels: dict[str, array[int]] = {c: array("q") for c in ("arm", "arm_b")
                                              if c in self.present}
        self.names: dict[str, dict[str, int]] = {c: {} for c in self.labels}

    def add(self, row: dict[str, str], where: str) -> None:
        for column, buf in self.numbers.items():
            buf.append(_number(row[column], column, where))
        for column, codes in self.labels.items():
            label = row[column].strip()
            if not label:
                raise ExperimentInputError(f"{where}: column {column!r} is empty; every unit "
                                           "needs an arm")
            codes.append(self.names[column].setdefault(label, len(self.names[column])))


def _number(text: str, column: str, where: str) -> float:
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise ExperimentInputError(f"{where}: {column}(={text!r}) must be a number") from None
    if not math.isfinite(number):
        raise ExperimentInputError(f"{where}: {column}(={text!r}) must be a finite number "
                                   "(no NaN or inf)")
    return number


def _check_header(header: Sequence[str], path: str) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ExperimentInputError(
            f"{path}: column {missing[0]!r} is missing; required: {', '.join(REQUIRED)} "
            f"(optional: {', '.join(OPTIONAL)}); found: {', '.join(header) or 'none'}")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of a CSV file; the header is checked first."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        _check_header([h.strip() for h in reader.fieldnames or []], str(path))
        reader.fieldnames = [h.strip() for h in reader.fieldnames or []]
        for row in reader:
            if None in row.values() or None in row:
                raise ExperimentInputError(f"{path}, line {reader.line_num}: expected "
                                           f"{len(reader.fieldnames)} fields")
            yield reader.line_num, row


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row as text) for each row of a Parquet file, a batch at a time."""
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise ExperimentInputError(f"{path}: not a readable Parquet file ({exc})") from None
    header = handle.schema_arrow.names
    _check_header(header, str(path))
    wanted = [c for c in (*REQUIRED, *OPTIONAL) if c in header]
    line = 0
    for batch in handle.iter_batches(batch_size=65536, columns=wanted):
        columns = {c: batch.column(c).to_pylist() for c in wanted}
        for i in range(batch.num_rows):
            line += 1
            yield line, {c: "" if columns[c][i] is None else str(columns[c][i]) for c in wanted}


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    if path.suffix.lower() in (".parquet", ".pq"):
        return _parquet_rows(path)
    return _csv_rows(path)


def _open_checks(path: Path) -> None:
    if not path.is_file():
        raise ExperimentInputError(f"metric file {str(path)!r} does not exist or is not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ExperimentInputError(f"metric file {str(path)!r} is {size} bytes; at most "
                                   f"{MAX_FILE_BYTES} bytes (8 GiB) are read")


def _collect(path: Path, experiment: str | None) -> _Columns:
    columns: _Columns | None = None
    seen: set[str] = set()
    kind = "line" if path.suffix.lower() not in (".parquet", ".pq") else "row"
    try:
        for line, row in _rows(path):
            columns = columns or _Columns(list(row))
            name = row.get("experiment")
            if name is not None:
                seen.add(name)
                if experiment is not None and name != experiment:
                    continue
            columns.add(row, f"{path}, {kind} {line}")
    except UnicodeDecodeError:
        raise ExperimentInputError(f"{path}: not a UTF-8 CSV file") from None
    except csv.Error as exc:
        raise ExperimentInputError(f"{path}: not a CSV file ({exc})") from None
    if columns is None:
        raise ExperimentInputError(f"{path}: no rows; a metric file has a header "
                                   f"({', '.join(REQUIRED)}) and one row per unit")
    _check_experiment(path, columns, seen, experiment)
    return columns


def _check_experiment(path: Path, columns: _Columns, seen: set[str],
                      experiment: str | None) -> None:
    if experiment is not None and experiment not in seen:
        raise ExperimentInputError(f"experiment(={experiment!r}) is not in {path}; found: "
                                   f"{', '.join(sorted(seen)) or 'no experiment column'}")
    if experiment is None and len(seen) > 1:
        raise ExperimentInputError(f"{path} holds {len(seen)} experiments "
                                   f"({', '.join(sorted(seen))}); pick one")


def _labels(columns: _Columns, column: str) -> tuple[tuple[str, ...], IntArray]:
    names = tuple(columns.names[column])
    return names, np.frombuffer(columns.labels[column], dtype=np.int64).copy()


def read_metric_file(path: str | Path, *, experiment: str | None = None,
                     min_arms: int = 2) -> MetricData:
    """Read ``path`` (CSV, or Parquet by its suffix) into :class:`MetricData`.

    ``experiment`` keeps the rows of one experiment (a file with several must name one).
    Raises :class:`ExperimentInputError` for a missing file or column, a value that is not a
    finite number (with its line), an empty arm label, an empty file, or fewer than
    ``min_arms`` arms.
    """
    path = Path(path)
    _open_checks(path)
    columns = _collect(path, experiment)
    arms, arm_index = _labels(columns, "arm")
    if len(arms) < min_arms:
        raise ExperimentInputError(f"{path}: {len(arms)} arm ({', '.join(arms) or 'none'}); "
                                   f"an experiment needs at least {min_arms} arms")
    numbers = {c: np.frombuffer(buf, dtype=np.float64).copy()
               for c, buf in columns.numbers.items()}
    arms_b, arm_b_index = _labels(columns, "arm_b") if "arm_b" in columns.labels else (None, None)
    return MetricData(path=str(path), arms=arms, arm_index=arm_index, value=numbers["value"],
                      pre_value=numbers.get("pre_value"), arms_b=arms_b,
                      arm_b_index=arm_b_index, time=numbers.get("time"))


def require_arms(data: MetricData, arms: Sequence[str]) -> None:
    """Raise :class:`ExperimentInputError` naming the first of ``arms`` with zero units."""
    for arm in arms:
        if arm not in data.arms:
            raise ExperimentInputError(f"arm {arm!r} has zero users in {data.path}; arms "
                                       f"found: {', '.join(data.arms)}")
