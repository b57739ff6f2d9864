"""A metric series file: one row per interval, one column per metric (CSV with a header).

The first column is ``time_s`` (the interval's start, seconds); every other column is a
metric named by its header. An empty cell, ``nan`` or ``NaN`` is a missing value (the
judge's NaN strategy decides). Every problem is one :class:`CanaryInputError` line naming
the file, the line and the value.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mlfleet.ops.canary.errors import CanaryInputError

FloatArray = npt.NDArray[np.float64]
TIME_COLUMN = "time_s"


def _number(cell: str, where: str) -> float:
    text = cell.strip()
    if text == "" or text.lower() == "nan":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise CanaryInputError(f"{where}(={cell!r}) must be a number or empty") from None
    if math.isinf(value):
        raise CanaryInputError(f"{where}(={cell!r}) must be finite")
    return value


def _header(reader: object, path: Path) -> list[str]:
    header = next(reader, None)  # type: ignore[call-overload]
    if not header:
        raise CanaryInputError(f"{path}: the file is empty; it needs a header row "
                               f"{TIME_COLUMN},METRIC,...")
    names = [h.strip() for h in header]
    if TIME_COLUMN not in names:
        raise CanaryInputError(f"{path}: column {TIME_COLUMN!r} is missing; header: "
                               f"{','.join(names)}")
    if len(set(names)) != len(names) or "" in names:
        raise CanaryInputError(f"{path}: header(={','.join(names)}) must name distinct columns")
    return names


def read_series(path: str | Path) -> dict[str, FloatArray]:
    """Metric name -> values per interval, in file order (``time_s`` included).

    Raises:
        CanaryInputError: unreadable file, no ``time_s`` column, a row with a missing or
            extra cell, or a cell that is not a number.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            names = _header(reader, path)
            columns: list[list[float]] = [[] for _ in names]
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if len(row) != len(names):
                    raise CanaryInputError(f"{where}: row has {len(row)} cells(={row!r}); the "
                                           f"header has {len(names)} columns")
                for col, name, cell in zip(columns, names, row, strict=True):
                    col.append(_number(cell, f"{where} {name}"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CanaryInputError(f"metric file {str(path)!r} cannot be read: "
                               f"{type(exc).__name__}") from exc
    return {n: np.asarray(c, dtype=float) for n, c in zip(names, columns, strict=True)}
