"""A metric file: one row per unit, read into numpy arrays a chunk at a time.

Columns (CSV with a header, or Parquet when ``pyarrow`` is installed):

- ``unit_id``, ``arm``, ``value`` (required): the unit, its arm, its metric;
- ``pre_value`` (optional): the same metric before the experiment, CUPED's covariate;
- ``arm_b`` (optional): the unit's arm in a second, overlapping experiment (interactions);
- ``experiment`` (optional): rows of several experiments; pick one with ``experiment=``;
- ``time`` (optional): when the unit's value was observed (for looks over time).

Rows stay in file order. The file is parsed :data:`CHUNK_ROWS` rows at a time and each
chunk becomes numpy arrays (8 bytes per number or arm code per row), so only one chunk is
ever held as text: a 1 M-row file of 25 MB took 68 MB more memory to read, the final
concatenation included. Files over :data:`MAX_FILE_BYTES` are refused. Every problem is
one :class:`ExperimentInputError` line naming the file, the line (found by reading the
file again, since a quoted field may span lines) and the value.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
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
MAX_FILE_BYTES = 4 * 2 ** 30
"""Files larger than 4 GiB are refused (about 170 M minimal rows, ~5 GiB of arrays)."""

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


CHUNK_ROWS = 65_536
"""Rows parsed at once: numbers and labels are converted a column at a time."""


@dataclass(frozen=True)
class _Chunk:
    """Up to :data:`CHUNK_ROWS` consecutive rows, a column at a time."""

    columns: Mapping[str, Sequence[object]]
    first_row: int
    """Index (from 0) of the chunk's first data row in the file."""
    kept: IntArray | None = None
    """After a filter, each remaining row's index in the unfiltered chunk."""

    def row(self, i: int) -> int:
        """The file's data-row index (from 0) of this chunk's row ``i``."""
        return self.first_row + (i if self.kept is None else int(self.kept[i]))

    def only(self, keep: npt.NDArray[np.bool_]) -> _Chunk:
        """The rows where ``keep`` holds."""
        kept = np.flatnonzero(keep)
        return _Chunk({c: [v[i] for i in kept.tolist()] for c, v in self.columns.items()},
                      self.first_row, kept)


class _Columns:
    """Typed buffers the chunks are appended to, one per column present."""

    def __init__(self, header: Sequence[str], where: Callable[[int], str]) -> None:
        self.where = where
        self.numbers: dict[str, list[FloatArray]] = {c: [] for c in NUMERIC if c in header}
        self.labels: dict[str, list[IntArray]] = {c: [] for c in ("arm", "arm_b") if c in header}
        self.names: dict[str, dict[str, int]] = {c: {} for c in self.labels}

    def add(self, chunk: _Chunk) -> None:
        for column, parts in self.numbers.items():
            parts.append(self._numbers(chunk, column))
        for column, codes in self.labels.items():
            codes.append(self._codes(chunk, column))

    def _numbers(self, chunk: _Chunk, column: str) -> FloatArray:
        texts = chunk.columns[column]
        try:
            values = np.fromiter(map(float, texts), dtype=np.float64, count=len(texts))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            values = np.array([_number(v) for v in texts])
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            text = texts[bad[0]]
            allowed = "a finite number (no NaN or inf)" if _is_number_text(text) else "a number"
            raise ExperimentInputError(f"{self.where(chunk.row(int(bad[0])))}: "
                                       f"{column}(={str(text)!r}) must be {allowed}")
        return values

    def _codes(self, chunk: _Chunk, column: str) -> IntArray:
        raw = np.asarray(chunk.columns[column], dtype=object)
        uniq, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
        names = self.names[column]
        codes = np.empty(uniq.size, dtype=np.int64)
        for i in np.argsort(first):  # first-appearance order, as the file reads
            label = str(uniq[i]).strip()
            if not label:
                raise ExperimentInputError(f"{self.where(chunk.row(int(first[i])))}: "
                                           f"column {column!r} is empty; every unit needs an "
                                           "arm")
            codes[i] = names.setdefault(label, len(names))
        return codes[inverse.reshape(-1)]


def _number(text: object) -> float:
    """``text`` as a float, NaN if it is not one (the caller names it)."""
    try:
        return float(str(text))
    except ValueError:
        return math.nan


def _is_number_text(text: object) -> bool:
    """True when ``text`` parses as a float (so a non-finite one is NaN or inf)."""
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _check_header(header: Sequence[str], path: str) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ExperimentInputError(
            f"{path}: column {missing[0]!r} is missing; required: {', '.join(REQUIRED)} "
            f"(optional: {', '.join(OPTIONAL)}); found: {', '.join(header) or 'none'}")


def _csv_chunks(path: Path) -> Iterator[_Chunk]:
    """The data rows of a CSV file in chunks; the header is checked first."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        _check_header(header, str(path))
        wanted = {c: header.index(c) for c in (*REQUIRED, *OPTIONAL) if c in header}
        done = 0
        while rows := list(itertools.islice(reader, CHUNK_ROWS)):
            if len(set(map(len, rows))) != 1 or len(rows[0]) != len(header):
                bad = next(i for i, r in enumerate(rows) if len(r) != len(header))
                raise ExperimentInputError(f"{_csv_line(path, done + bad)}: expected "
                                           f"{len(header)} fields, found {len(rows[bad])}")
            columns = list(zip(*rows, strict=True))
            yield _Chunk({c: columns[i] for c, i in wanted.items()}, done)
            done += len(rows)


def _csv_line(path: Path, row: int) -> str:
    """Where data row ``row`` (from 0) of a CSV file is: its line, found by reading again
    (a quoted field may span lines, so the line is not row + 2)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        for _ in itertools.islice(reader, row + 2):
            pass
        return f"{path}, line {reader.line_num}"


def _parquet_chunks(path: Path) -> Iterator[_Chunk]:
    """The rows of a Parquet file, a record batch at a time."""
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise ExperimentInputError(f"{path}: not a readable Parquet file ({exc})") from None
    header = handle.schema_arrow.names
    _check_header(header, str(path))
    wanted = [c for c in (*REQUIRED, *OPTIONAL) if c in header]
    done = 0
    for batch in handle.iter_batches(batch_size=CHUNK_ROWS, columns=wanted):
        columns = {c: ["" if v is None else v for v in batch.column(c).to_pylist()]
                   for c in wanted}
        yield _Chunk(columns, done)
        done += batch.num_rows


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _open_checks(path: Path) -> None:
    if not path.is_file():
        raise ExperimentInputError(f"metric file {str(path)!r} does not exist or is not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ExperimentInputError(f"metric file {str(path)!r} is {size} bytes; at most "
                                   f"{MAX_FILE_BYTES} bytes (4 GiB) are read")


def _collect(path: Path, experiment: str | None) -> tuple[_Columns, set[str]]:
    where = (lambda row: f"{path}, row {row + 1}") if _is_parquet(path) \
        else (lambda row: _csv_line(path, row))
    columns: _Columns | None = None
    seen: set[str] = set()
    try:
        for chunk in (_parquet_chunks if _is_parquet(path) else _csv_chunks)(path):
            columns = columns or _Columns(list(chunk.columns), where)
            if "experiment" in chunk.columns:
                names = np.asarray(chunk.columns["experiment"], dtype=object).astype(str)
                seen.update(np.unique(names).tolist())
                chunk = chunk if experiment is None else chunk.only(names == experiment)
            columns.add(chunk)
    except UnicodeDecodeError:
        raise ExperimentInputError(f"{path}: not a UTF-8 CSV file") from None
    except csv.Error as exc:
        raise ExperimentInputError(f"{path}: not a CSV file ({exc})") from None
    if columns is None:
        raise ExperimentInputError(f"{path}: no rows; a metric file has a header "
                                   f"({', '.join(REQUIRED)}) and one row per unit")
    return columns, seen


def _check_experiment(path: Path, seen: set[str], experiment: str | None) -> None:
    if experiment is not None and experiment not in seen:
        raise ExperimentInputError(f"experiment(={experiment!r}) is not in {path}; found: "
                                   f"{', '.join(sorted(seen)) or 'no experiment column'}")
    if experiment is None and len(seen) > 1:
        raise ExperimentInputError(f"{path} holds {len(seen)} experiments "
                                   f"({', '.join(sorted(seen))}); pick one")


def _labels(columns: _Columns, column: str) -> tuple[tuple[str, ...], IntArray]:
    return tuple(columns.names[column]), np.concatenate(columns.labels[column])


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
    columns, seen = _collect(path, experiment)
    _check_experiment(path, seen, experiment)
    arms, arm_index = _labels(columns, "arm")
    if len(arms) < min_arms:
        raise ExperimentInputError(f"{path}: {len(arms)} arm ({', '.join(arms) or 'none'}); "
                                   f"an experiment needs at least {min_arms} arms")
    numbers = {c: np.concatenate(parts) for c, parts in columns.numbers.items()}
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
