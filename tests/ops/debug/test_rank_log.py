"""Per-rank logs: what the writer writes, what the reader accepts and refuses."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.ops.debug import rank_log
from mlfleet.ops.debug.log_reader import DebugInputError, phase_matrix, read_logs
from mlfleet.ops.debug.rank_log import BUFFER_LINES, RankLog, log_path


def test_spans_round_trip_with_a_wall_clock_and_nan_as_null(tmp_path: Path) -> None:
    before = time.time_ns()
    log = RankLog(tmp_path, 3, world=4)
    t0 = time.perf_counter_ns()
    log.span("forward", 1, t0, t0 + 2_000_000, loss=math.nan)
    log.span("backward", 1, t0 + 2_000_000, t0 + 5_000_000, grad_norm=1.5, nonfinite=False)
    log.close()
    assert log_path(tmp_path, 3).name == "rank-00003.jsonl"
    spans = read_logs(tmp_path)[3]
    assert [s.phase for s in spans] == ["start", "forward", "backward"]
    forward = spans[1]
    assert before <= forward.start_ns <= time.time_ns()
    assert forward.dur_s == pytest.approx(0.002)
    assert forward.loss is not None and math.isnan(forward.loss)
    assert spans[2].grad_norm == 1.5


def test_the_buffer_is_bounded_and_close_flushes_it(tmp_path: Path, monkeypatch:
                                                     pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rank_log, "FLUSH_EVERY_S", 1e9)
    log = RankLog(tmp_path, 0, world=1)
    path = log_path(tmp_path, 0)
    for step in range(BUFFER_LINES - 2):
        log.span("forward", step, 0, 1)
    assert path.read_text() == ""  # all held in memory
    log.span("forward", 999, 0, 1)
    assert len(path.read_text().splitlines()) == BUFFER_LINES  # one write at the bound
    log.span("forward", 1000, 0, 1)
    log.close()
    assert len(path.read_text().splitlines()) == BUFFER_LINES + 1


def _write(tmp_path: Path, name: str, lines: list[str]) -> None:
    (tmp_path / name).write_text("\n".join(lines) + "\n")


GOOD = json.dumps({"rank": 0, "step": 1, "phase": "forward", "t_ns": 10, "dur_s": 0.1})


@pytest.mark.parametrize(("line", "fragment"), [
    ("{not json", "rank-00000.jsonl:2: not a JSON line"),
    ("[1, 2]", "rank-00000.jsonl:2: a line must be a JSON object"),
    ('{"rank": 0, "step": 1, "phase": "x", "dur_s": 0.1}', "rank-00000.jsonl:2: field 't_ns'"),
    ('{"rank": 5, "step": 1, "phase": "x", "t_ns": 1, "dur_s": 0.1}', "differs from the file"),
    ('{"rank": 0, "step": 1, "phase": "x", "t_ns": 1, "dur_s": -1}', "dur_s(=-1.0) must be"),
    ('{"rank": 0, "step": 1, "phase": "x", "t_ns": 1, "dur_s": 1, "loss": "a"}', "'loss'"),
])
def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    _write(tmp_path, "rank-00000.jsonl", [GOOD, line])
    with pytest.raises(DebugInputError, match=None) as info:
        read_logs(tmp_path)
    assert fragment in str(info.value)


def test_a_directory_without_rank_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.jsonl").write_text(GOOD + "\n")
    with pytest.raises(DebugInputError, match="holds no rank-NNNNN.jsonl"):
        read_logs(tmp_path)
    with pytest.raises(DebugInputError, match="does not exist"):
        read_logs(tmp_path / "missing")


def test_phase_matrix_keeps_common_steps_and_a_repeated_step_once(tmp_path: Path) -> None:
    for rank, steps in ((0, [1, 2, 3, 2]), (1, [1, 2, 3])):  # rank 0 repeated step 2
        _write(tmp_path, f"rank-{rank:05d}.jsonl", [json.dumps(
            {"rank": rank, "step": s, "phase": p, "t_ns": 1, "dur_s": 0.1 * s})
            for s in steps for p in ("forward", "backward")])
    ranks, steps, times = phase_matrix(read_logs(tmp_path), ("forward", "backward"))
    assert ranks == [0, 1] and steps == [1, 2, 3]
    assert times[0].tolist() == pytest.approx([0.2, 0.4, 0.6])


def test_cli_bad_log_dir_is_one_line_exit_2(tmp_path: Path) -> None:
    _write(tmp_path, "rank-00000.jsonl", [GOOD, "{oops"])
    for command in ("timeline", "stragglers", "gradients"):
        assert_one_line_error(run_cli("ops", "debug", command, str(tmp_path)),
                              "rank-00000.jsonl:2")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run_cli("ops", "debug", "stragglers", str(empty)), "no rank-")
