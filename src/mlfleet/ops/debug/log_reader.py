"""Read a directory of per-rank logs (:mod:`mlfleet.ops.debug.rank_log`) into typed spans.

Bad input is one :class:`DebugInputError` naming the file and line: a directory without
``rank-*.jsonl`` files, a line that is not a JSON object, a missing or mistyped field, a
rank that differs from the file's name.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError

_NAME = re.compile(r"rank-(\d+)\.jsonl")


class DebugInputError(InputError):
    """A log directory, log line or series file ``mlfleet ops debug`` cannot use."""


@dataclass(frozen=True, kw_only=True)
class Span:
    """One phase of one step on one rank."""

    rank: int
    step: int
    phase: str
    start_ns: int
    """Wall clock at the start, ns since the epoch (the rank's own clock)."""
    dur_s: float
    loss: float | None = None
    grad_norm: float | None = None
    """The rank's gradient norm before the allreduce; NaN when it was not finite."""
    nonfinite: bool = False
    op: str | None = None
    bytes: int | None = None


RankSpans = Mapping[int, Sequence[Span]]
"""rank -> its spans in file order."""


def read_logs(log_dir: Path) -> dict[int, list[Span]]:
    """Every rank's spans from ``log_dir`` (DebugInputError when it holds none or a bad line)."""
    if not log_dir.is_dir():
        raise DebugInputError(f"log directory {str(log_dir)!r} does not exist or is not a "
                              "directory")
    files = sorted(p for p in log_dir.iterdir() if _NAME.fullmatch(p.name))
    if not files:
        raise DebugInputError(f"log directory {str(log_dir)!r} holds no rank-NNNNN.jsonl files "
                              "(write them with --log-dir of mlfleet run train or run collective)")
    spans = {}
    for path in files:
        rank = int(_NAME.fullmatch(path.name).group(1))  # type: ignore[union-attr]
        spans[rank] = _read_file(path, rank)
    return spans


def _read_file(path: Path, rank: int) -> list[Span]:
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DebugInputError(f"cannot read {str(path)!r}: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            out.append(_span(line, f"{path}:{number}", rank))
    return out


def _span(line: str, where: str, rank: int) -> Span:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DebugInputError(f"{where}: not a JSON line ({exc.msg})") from None
    if not isinstance(record, dict):
        raise DebugInputError(f"{where}: a line must be a JSON object, not {line[:40]!r}")
    if _field(record, "rank", int, where) != rank:
        raise DebugInputError(f"{where}: rank {record['rank']!r} differs from the file name's "
                              f"rank {rank}")
    dur_s = float(_field(record, "dur_s", (int, float), where))
    if not dur_s >= 0:
        raise DebugInputError(f"{where}: dur_s(={dur_s!r}) must be >= 0 seconds")
    return Span(rank=rank, step=_field(record, "step", int, where),
                phase=_field(record, "phase", str, where),
                start_ns=_field(record, "t_ns", int, where), dur_s=dur_s,
                loss=_optional_float(record, "loss", where),
                grad_norm=_optional_float(record, "grad_norm", where),
                nonfinite=bool(record.get("nonfinite", False)), op=record.get("op"),
                bytes=record.get("bytes"))


def _field(record: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = record.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise DebugInputError(f"{where}: field {key!r}(={value!r}) is missing or not a "
                              f"{getattr(kind, '__name__', 'number')}")
    return value


def _optional_float(record: dict[str, Any], key: str, where: str) -> float | None:
    if key not in record:
        return None
    value = record[key]
    if value is None:  # the writer's form of NaN/Inf
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DebugInputError(f"{where}: field {key!r}(={value!r}) must be a number or null")
    return float(value)


def phase_matrix(spans: RankSpans, phases: Sequence[str]) -> tuple[
        list[int], list[int], npt.NDArray[np.float64]]:
    """``(ranks, steps, seconds)``: each rank's summed ``phases`` time per step, (ranks, steps).

    Only steps every rank logged count; a step a restarted rank repeated keeps its last run.
    """
    per_rank: dict[int, dict[int, float]] = {}
    for rank, rank_spans in spans.items():
        totals: dict[int, float] = {}
        seen: set[tuple[int, str]] = set()
        for span in rank_spans:
            if span.phase in phases:
                key = (span.step, span.phase)
                totals[span.step] = (0.0 if key in seen and span.phase == phases[0]
                                     else totals.get(span.step, 0.0)) + span.dur_s
                seen.add(key)
        per_rank[rank] = totals
    ranks = sorted(per_rank)
    common = set.intersection(*(set(per_rank[r]) for r in ranks)) if ranks else set()
    steps = sorted(common)
    matrix = np.array([[per_rank[r][s] for s in steps] for r in ranks], dtype=np.float64)
    return ranks, steps, matrix.reshape(len(ranks), len(steps))
