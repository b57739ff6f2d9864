"""Numeric columns of a CSV file with a header (a metric series, a feature sample).

Bad input is one :class:`~mlfleet.ops.debug.log_reader.DebugInputError`: a missing
file, no header, a missing column (the message lists the columns there are), a value that
is not a finite number (named by file, line and column).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mlfleet.ops.debug.log_reader import DebugInputError


def read_columns(path: Path, columns: Sequence[str] | None = None, *,
                 positive: bool = False) -> dict[str, npt.NDArray[np.float64]]:
    """``{column: values}`` for ``columns`` (None: every column of the header)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise DebugInputError(f"cannot read {str(path)!r}: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DebugInputError(f"{str(path)!r} has no header line (column names)")
    header = [cell.strip() for cell in rows[0]]
    wanted = list(header) if columns is None else list(columns)
    missing = [c for c in wanted if c not in header]
    if missing:
        raise DebugInputError(f"{str(path)!r} has no column {missing[0]!r}; it has: "
                              f"{', '.join(header)}")
    out = {}
    for name in wanted:
        index = header.index(name)
        values = [_number(row, index, f"{path}:{line}", name, positive=positive)
                  for line, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)]
        if not values:
            raise DebugInputError(f"{str(path)!r} has no values in column {name!r}")
        out[name] = np.asarray(values, dtype=np.float64)
    return out


def _number(row: list[str], index: int, where: str, name: str, *, positive: bool) -> float:
    text = row[index].strip() if index < len(row) else ""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (positive and value <= 0):
        allowed = "a finite number > 0" if positive else "a finite number"
        raise DebugInputError(f"{where}: {name}={text!r} must be {allowed}")
    return value
