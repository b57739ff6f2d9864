"""Merge per-rank logs into one timeline and write it as a Chrome/Perfetto trace.

**Clock alignment.** Every rank stamps its spans with its own wall clock. A collective
gives a causality constraint: no rank leaves it before every rank has entered it, so with
rank ``r``'s offset ``θ_r`` from the reference rank (corrected time ``t - θ_r``), for every
step ``end_r - θ_r >= start_ref`` and ``end_ref >= start_r - θ_r``::

    max_s (start_r - end_ref)  <=  θ_r  <=  min_s (end_r - start_ref)

We take the smallest correction inside that interval (0 when the clocks already agree with
causality, as on one host; the nearer bound otherwise; the midpoint if the interval is
empty, as a drifting clock can make it), in the spirit of the controlled logical clock of
trace analysers (Rabenseifner 1997; Becker et al., "Implications of non-constant clock
drifts for the timestamps of concurrent events", IEEE Cluster 2008). The error is at most
the interval's width: the shortest time between one rank entering a collective and the
other leaving it (the test plants a known skew and measures it).

**Trace format.** The Trace Event Format (Duffy, "Trace Event Format", Google, 2016,
docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU), which
ui.perfetto.dev and chrome://tracing open: a JSON object whose ``traceEvents`` list holds
complete events ``{"ph": "X", "name", "cat", "ts", "dur", "pid", "tid", "args"}`` with
``ts``/``dur`` in microseconds, one ``pid`` per rank (named by a ``process_name`` metadata
event, ``ph: "M"``) and ``tid`` 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet.atomic import write_text_atomically
from mlfleet.ops.debug.log_reader import DebugInputError, RankSpans, Span

SYNC_PHASES = ("allreduce", "collective")
"""Phases whose end all ranks share (the first one present is used)."""


@dataclass(frozen=True, kw_only=True)
class TraceSummary:
    """What :func:`write_trace` wrote."""

    path: str
    ranks: int
    events: int
    """Complete (``X``) events."""
    span_s: float
    """First start to last end, seconds."""
    offsets_s: dict[int, float]
    """Each rank's estimated clock offset from the reference rank (subtracted)."""
    sync_phase: str | None
    """The phase the offsets come from (None: no shared phase, offsets 0)."""


def _bounds_by_step(spans: list[Span] | tuple[Span, ...], phase: str) -> dict[int, tuple[int, int]]:
    """step -> (start_ns, end_ns) of the rank's ``phase`` span (the last one of a step)."""
    return {s.step: (s.start_ns, s.start_ns + round(s.dur_s * 1e9)) for s in spans
            if s.phase == phase}


def causal_offset_s(rank: dict[int, tuple[int, int]], ref: dict[int, tuple[int, int]]) -> float:
    """The smallest offset of ``rank``'s clock from ``ref``'s that keeps every shared
    collective causal (see the module docstring); 0 when they share no step."""
    steps = rank.keys() & ref.keys()
    if not steps:
        return 0.0
    low = max(rank[s][0] - ref[s][1] for s in steps)
    high = min(rank[s][1] - ref[s][0] for s in steps)
    offset_ns = (low + high) / 2 if low > high else min(max(0, low), high)
    return float(offset_ns) / 1e9


def clock_offsets(spans: RankSpans, *, reference: int | None = None) -> tuple[
        dict[int, float], str | None]:
    """``({rank: offset_s}, phase)``: each rank's clock minus the reference rank's.

    The reference is the lowest rank unless given; the phase is the first of
    :data:`SYNC_PHASES` it logged (None and all offsets 0 when none).
    """
    ranks = sorted(spans)
    ref = ranks[0] if reference is None else reference
    phase = next((p for p in SYNC_PHASES if any(s.phase == p for s in spans[ref])), None)
    if phase is None:
        return {r: 0.0 for r in ranks}, None
    ref_bounds = _bounds_by_step(list(spans[ref]), phase)
    return {r: causal_offset_s(_bounds_by_step(list(spans[r]), phase), ref_bounds)
            for r in ranks}, phase


def trace_events(spans: RankSpans, offsets_s: Mapping[int, float]) -> list[dict[str, Any]]:
    """Trace Event Format events: a ``process_name`` per rank, a complete event per span."""
    shifted = {r: [(s, s.start_ns - round(offsets_s.get(r, 0.0) * 1e9)) for s in rank_spans
                   if s.phase != "start"] for r, rank_spans in spans.items()}
    origin = min((t for rows in shifted.values() for _, t in rows), default=0)
    events: list[dict[str, Any]] = []
    for rank in sorted(shifted):
        events.append({"name": "process_name", "ph": "M", "pid": rank, "tid": 0,
                       "args": {"name": f"rank {rank}"}})
        events.append({"name": "process_sort_index", "ph": "M", "pid": rank, "tid": 0,
                       "args": {"sort_index": rank}})
        for span, t_ns in shifted[rank]:
            events.append({"name": span.phase if span.op is None else f"{span.op}",
                           "cat": span.phase, "ph": "X", "ts": (t_ns - origin) / 1e3,
                           "dur": span.dur_s * 1e6, "pid": rank, "tid": 0,
                           "args": _args(span)})
    return events


def _args(span: Span) -> dict[str, Any]:
    args: dict[str, Any] = {"step": span.step}
    for key in ("loss", "grad_norm", "bytes"):
        value = getattr(span, key)
        if value is not None:
            args[key] = value if not isinstance(value, float) or math.isfinite(value) else None
    if span.nonfinite:
        args["nonfinite"] = True
    return args


def write_trace(spans: RankSpans, out: Path) -> TraceSummary:
    """Align the clocks, write the trace to ``out`` atomically; what was written."""
    offsets, phase = clock_offsets(spans)
    events = trace_events(spans, offsets)
    complete = [e for e in events if e["ph"] == "X"]
    document = {"traceEvents": events, "displayTimeUnit": "ms",
                "otherData": {"producer": "mlfleet ops debug timeline",
                              "clock_offsets_s": {str(r): o for r, o in offsets.items()},
                              "sync_phase": phase}}
    write_text_atomic(out, json.dumps(document, allow_nan=False))
    span_s = max((e["ts"] + e["dur"] for e in complete), default=0.0) / 1e6
    return TraceSummary(path=str(out), ranks=len(spans), events=len(complete), span_s=span_s,
                        offsets_s=offsets, sync_phase=phase)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (DebugInputError when it cannot)."""
    write_text_atomically(path, text, error=DebugInputError)
