"""Per-rank event logs of real runs: one JSON-lines file per rank, ``rank-00003.jsonl``.

Each line is one span of one phase of one step on one rank::

    {"rank": 3, "step": 17, "phase": "backward", "t_ns": 1765000000123456789,
     "dur_s": 0.0021, "loss": 2.07, "grad_norm": 1.3, "nonfinite": false}

``t_ns`` is the span's start on the wall clock in ns since the Unix epoch, read as a
``perf_counter`` offset from one ``time.time_ns()`` anchor taken when the log opens: monotonic
within a rank, comparable across ranks up to their clocks' offsets (which
:mod:`mlfleet.ops.debug.timeline` estimates). Optional fields: ``loss``, ``grad_norm`` (the
rank's own gradient before the allreduce), ``nonfinite`` (NaN/Inf in it), ``skipped`` (the
optimizer step was skipped), ``op`` and ``bytes`` (a collective's name and message size).

Writes are buffered in memory, at most :data:`BUFFER_LINES` lines or :data:`FLUSH_EVERY_S`
seconds, and flushed on :meth:`RankLog.close` and at interpreter exit: a rank that dies by
an exception loses nothing, one killed by SIGKILL loses at most that buffer.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Protocol

from mlfleet.errors import InputError

BUFFER_LINES = 256
"""Lines held in memory before a write."""
FLUSH_EVERY_S = 1.0
"""Longest a line stays in memory."""
PHASES = ("start", "data", "forward", "backward", "allreduce", "optimizer", "checkpoint",
          "barrier", "collective")
"""Phase names the real runs write (a reader accepts any name)."""


def check_log_dir(text: str | None) -> Path | None:
    """``--log-dir``: a directory without rank logs yet (InputError otherwise; nothing is
    created: :func:`make_log_dir` does that when the run starts)."""
    if text is None:
        return None
    path = Path(text)
    if not text.strip() or (path.exists() and not path.is_dir()):
        raise InputError(f"--log-dir {text!r} must name a directory")
    if path.is_dir() and any(path.glob("rank-*.jsonl")):
        raise InputError(f"--log-dir {text!r} already holds rank logs; choose an empty directory")
    return path


def make_log_dir(path: Path) -> None:
    """Create ``path`` (and its parents); InputError when that is impossible or the
    directory is not writable."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--log-dir {str(path)!r}: cannot create it "
                         f"({exc.strerror or exc})") from None
    probe = path / f".probe-{os.getpid()}"
    try:  # root passes os.access checks on /proc and read-only mounts: try for real
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as exc:
        raise InputError(f"--log-dir {str(path)!r} is not writable "
                         f"({exc.strerror or exc})") from None


def log_path(log_dir: Path, rank: int) -> Path:
    """``LOG_DIR/rank-00003.jsonl``."""
    return log_dir / f"rank-{rank:05d}.jsonl"


class SpanLog(Protocol):
    """What a run writes its spans to: a :class:`RankLog`, or :class:`NoLog`."""

    def span(self, phase: str, step: int, start_ns: int, end_ns: int, **fields: Any) -> None:
        """One span from ``start_ns`` to ``end_ns`` (``time.perf_counter_ns`` readings)."""

    def close(self) -> None:
        """Write what is buffered."""


class NoLog:
    """A run without ``--log-dir``: spans go nowhere."""

    def span(self, phase: str, step: int, start_ns: int, end_ns: int, **fields: Any) -> None:
        """Nothing."""

    def close(self) -> None:
        """Nothing."""


class RankLog:
    """The log of one rank, appended to (a restarted rank continues its file)."""

    def __init__(self, log_dir: Path, rank: int, *, world: int) -> None:
        self.rank = rank
        self.path = log_path(log_dir, rank)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lines: list[str] = []
        self._flushed_s = time.monotonic()
        self._anchor_wall_ns, self._anchor_perf_ns = time.time_ns(), time.perf_counter_ns()
        atexit.register(self.close)
        now = time.perf_counter_ns()
        self.span("start", 0, now, now, world=world, pid=os.getpid())

    def wall_ns(self, perf_ns: int) -> int:
        """The wall-clock time (ns since the epoch) of a ``perf_counter_ns`` reading."""
        return self._anchor_wall_ns + perf_ns - self._anchor_perf_ns

    def span(self, phase: str, step: int, start_ns: int, end_ns: int, **fields: Any) -> None:
        finite = {k: None if isinstance(v, float) and not math.isfinite(v) else v
                  for k, v in fields.items()}  # NaN/Inf: null (the run sets ``nonfinite``)
        record = {"rank": self.rank, "step": step, "phase": phase,
                  "t_ns": self.wall_ns(start_ns), "dur_s": (end_ns - start_ns) / 1e9, **finite}
        self._lines.append(json.dumps(record, allow_nan=False))
        if len(self._lines) >= BUFFER_LINES or time.monotonic() - self._flushed_s > FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Write the buffered lines (one ``write``, appended whole)."""
        if self._lines and self._fd >= 0:
            os.write(self._fd, ("\n".join(self._lines) + "\n").encode())
        self._lines.clear()
        self._flushed_s = time.monotonic()

    def close(self) -> None:
        if self._fd < 0:
            return
        self.flush()
        os.close(self._fd)
        self._fd = -1
        atexit.unregister(self.close)
