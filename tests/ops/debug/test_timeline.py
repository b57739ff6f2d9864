"""Timeline: clock alignment by causality, and the trace checked against the Trace Event Format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from debug_helpers import check_trace_format
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.ops.debug.log_reader import DebugInputError, Span
from mlfleet.ops.debug.timeline import clock_offsets, trace_events, write_trace


def _run(ranks: int, steps: int, *, skew_ns: dict[int, int], seed: int = 0) -> dict[int, list[Span]]:
    """Spans of a lockstep run: compute of random length, then an allreduce that every rank
    leaves within 50 us after the last one entered; rank r's clock reads ``skew_ns[r]`` ahead."""
    rng = np.random.default_rng(seed)
    spans: dict[int, list[Span]] = {r: [] for r in range(ranks)}
    t = 0
    for step in range(1, steps + 1):
        compute = rng.integers(1_000_000, 3_000_000, ranks)
        last_in = t + int(compute.max())
        for r in range(ranks):
            end = last_in + 20_000 + int(rng.integers(0, 30_000))
            start = t + int(compute[r])
            clock = skew_ns.get(r, 0)
            spans[r].append(Span(rank=r, step=step, phase="forward", start_ns=t + clock,
                                 dur_s=compute[r] / 1e9))
            spans[r].append(Span(rank=r, step=step, phase="allreduce", start_ns=start + clock,
                                 dur_s=(end - start) / 1e9))
        t = last_in + 100_000
    return spans


def test_no_correction_when_clocks_agree() -> None:
    offsets, phase = clock_offsets(_run(4, 30, skew_ns={}))
    assert phase == "allreduce" and offsets == {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0}


@given(st.integers(-20_000_000, 20_000_000), st.integers(0, 100))
def test_a_planted_skew_is_recovered_within_the_shortest_overlap(skew_ns: int, seed: int) -> None:
    offsets, _ = clock_offsets(_run(4, 30, skew_ns={2: skew_ns}, seed=seed))
    # The causal interval contains the true skew; its far edge is at most one collective's
    # shortest exit time (<= 50 us here) away, so the error is < 50 us, and 0 for rank 0.
    assert abs(offsets[2] * 1e9 - skew_ns) <= 50_000
    assert offsets[0] == 0.0


def test_trace_file_matches_the_format_and_keeps_every_span(tmp_path: Path) -> None:
    spans = _run(3, 5, skew_ns={1: 7_000_000})
    summary = write_trace(spans, tmp_path / "trace.json")
    complete = check_trace_format(json.loads((tmp_path / "trace.json").read_text()))
    assert summary.events == len(complete) == 3 * 5 * 2
    assert summary.offsets_s[1] == pytest.approx(7e-3, abs=50e-6)
    for rank in range(3):  # a rank's spans never overlap once aligned (sequential phases)
        own = sorted((e["ts"], e["dur"]) for e in complete if e["pid"] == rank)
        assert all(b[0] >= a[0] + a[1] - 1e-3 for a, b in zip(own, own[1:], strict=False))
    ends: dict[int, list[float]] = {e["args"]["step"]: [] for e in complete}
    for e in complete:
        if e["cat"] == "allreduce":
            ends[e["args"]["step"]].append(e["ts"] + e["dur"])
    assert max(max(v) - min(v) for v in ends.values() if v) < 60  # us, after alignment


def test_writing_is_atomic_and_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DebugInputError, match="is a directory"):
        write_trace(_run(2, 2, skew_ns={}), tmp_path)
    with pytest.raises(DebugInputError, match="cannot write"):
        write_trace(_run(2, 2, skew_ns={}), tmp_path / "missing" / "t.json")
    assert list(tmp_path.iterdir()) == []


def test_nonfinite_values_become_null_in_args() -> None:
    span = Span(rank=0, step=1, phase="backward", start_ns=0, dur_s=0.1, grad_norm=math.nan,
                nonfinite=True)
    events = trace_events({0: [span]}, {0: 0.0})
    assert events[-1]["args"] == {"step": 1, "grad_norm": None, "nonfinite": True}
