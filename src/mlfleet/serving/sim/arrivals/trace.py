"""Trace replay: a CSV of requests with their arrival times and lengths.

Required columns ``arrival_s, prompt_tokens, output_tokens``; optional ``session``,
``user``, ``priority``, ``service_s``. Rows may come in any order (they are sorted by
arrival time, stably). ``time_scale`` stretches time (2.0 halves the rate).
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from mlfleet.errors import InputError
from mlfleet.serving.sim.arrivals.stream import RequestStream

REQUIRED = ("arrival_s", "prompt_tokens", "output_tokens")
OPTIONAL_INT = ("session", "user", "priority")
OPTIONAL_FLOAT = ("service_s",)


def read_trace(path: str | os.PathLike[str], *, time_scale: float = 1.0,
               limit: int | None = None) -> RequestStream:
    """The trace at ``path`` as a :class:`RequestStream` (first ``limit`` rows by time).

    Raises InputError naming the file, line and value for a missing file, a file that
    is not UTF-8 CSV text, a missing column or a value that is not a number of the
    right kind.
    """
    if not (math.isfinite(time_scale) and time_scale > 0):
        raise InputError(f"time_scale(={time_scale!r}) must be a finite number > 0")
    p = Path(path)
    try:
        with p.open(newline="") as fh:
            columns = _parse(csv.DictReader(fh), p)
    except OSError as exc:
        raise InputError(f"trace {str(p)!r} cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"trace {str(p)!r} is not a UTF-8 CSV file ({exc}); expected a "
                         f"header with {', '.join(REQUIRED)} and one row per request") from None
    order = np.argsort(columns["arrival_s"], kind="stable")[:limit]
    pick = {k: np.asarray(v)[order] for k, v in columns.items()}
    n = len(order)
    return RequestStream(
        arrival_s=pick["arrival_s"].astype(np.float64) * time_scale,
        prompt_tokens=pick["prompt_tokens"].astype(np.int64),
        output_tokens=pick["output_tokens"].astype(np.int64),
        service_s=pick["service_s"].astype(np.float64) if "service_s" in pick
        else np.full(n, np.nan),
        **{k: pick[k].astype(np.int64) for k in OPTIONAL_INT if k in pick})


def _parse(reader: csv.DictReader[str], path: Path) -> dict[str, list[float]]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"trace {str(path)!r} lacks column(s) {', '.join(missing)}; "
                         f"needs {', '.join(REQUIRED)}")
    wanted = [c for c in (*REQUIRED, *OPTIONAL_INT, *OPTIONAL_FLOAT) if c in header]
    columns: dict[str, list[float]] = {c: [] for c in wanted}
    for line, row in enumerate(reader, start=2):
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        for c in wanted:
            columns[c].append(_value(clean.get(c, ""), c, path, line))
    if not columns["arrival_s"]:
        raise InputError(f"trace {str(path)!r} has no rows")
    return columns


def _value(text: str, column: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    integral = column not in ("arrival_s", "service_s")
    if not math.isfinite(value) or (integral and value != int(value)) \
            or (column == "arrival_s" and value < 0):
        kind = "an integer" if integral else "a finite number >= 0"
        raise InputError(f"trace {str(path)!r} line {line}: {column}(={text!r}) "
                         f"must be {kind}")
    return value
