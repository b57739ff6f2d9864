"""The detectors on a real ``mlfleet run train`` with injected faults (one known answer each).

Four real ranks (torch.distributed, gloo) train with rank 2 slowed 3x, rank 1's gradient
made NaN at step 15 and rank 3's inputs scaled 30x at step 25, writing per-rank logs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from debug_helpers import check_trace_format

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.ops.debug.gradients import anomalies_from_logs
from mlfleet.ops.debug.log_reader import read_logs
from mlfleet.ops.debug.rank_log import PHASES
from mlfleet.ops.debug.stragglers import stragglers_from_logs
from mlfleet.ops.debug.timeline import clock_offsets

STEPS = 60
FAULTS = ("--inject", "slow:rank=2,factor=3", "--inject", "nan:rank=1,step=15",
          "--inject", "spike:rank=3,step=25,factor=30")

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # the straggler verdict times real ranks


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("logs") / "run"
    proc = run_cli("run", "train", "--ranks", "4", "--steps", str(STEPS), "--ckpt-every", "20",
                   *FAULTS, "--log-dir", str(out), "--json", timeout_s=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["injected"] == ["nan on rank 1 at step 15",
                                                   "spike on rank 3 at step 25"]
    return out


def test_every_rank_logs_every_phase_of_every_step(log_dir: Path) -> None:
    spans = read_logs(log_dir)
    assert sorted(spans) == [0, 1, 2, 3]
    for rank_spans in spans.values():
        assert {s.phase for s in rank_spans} <= set(PHASES)
        for phase in ("data", "forward", "backward", "allreduce", "optimizer"):
            assert sorted(s.step for s in rank_spans if s.phase == phase) == list(
                range(1, STEPS + 1))
        assert sorted(s.step for s in rank_spans if s.phase == "checkpoint") == [20, 40, 60]


def test_the_slowed_rank_and_only_it_is_a_straggler(log_dir: Path) -> None:
    found, steps = stragglers_from_logs(read_logs(log_dir))
    assert steps == STEPS
    assert [s.rank for s in found] == [2]  # precision 1, recall 1
    assert found[0].slowdown > 2.0


def test_the_nan_origin_and_the_spike_are_found_and_nothing_else(log_dir: Path) -> None:
    found = anomalies_from_logs(read_logs(log_dir))
    assert {(a.rank, a.step, a.kind) for a in found} == {(1, 15, "nonfinite"), (3, 25, "spike")}
    skipped = {(record["rank"], record["step"]) for path in log_dir.glob("rank-*.jsonl")
               for record in map(json.loads, path.read_text().splitlines())
               if record["phase"] == "optimizer" and record["skipped"]}
    assert skipped == {(rank, 15) for rank in range(4)}  # every rank skipped that update


def test_one_host_needs_no_clock_correction_and_the_trace_is_valid(log_dir: Path,
                                                                   tmp_path: Path) -> None:
    offsets, phase = clock_offsets(read_logs(log_dir))
    assert phase == "allreduce" and set(offsets.values()) == {0.0}
    proc = run_cli("ops", "debug", "timeline", str(log_dir), "--out", str(tmp_path / "t.json"),
                   "--json")
    assert proc.returncode == 0, proc.stderr
    complete = check_trace_format(json.loads((tmp_path / "t.json").read_text()))
    assert len(complete) == json.loads(proc.stdout)["events"] == 4 * (5 * STEPS + 3)


def test_log_dir_with_logs_is_refused_before_anything_starts(log_dir: Path) -> None:
    proc = run_cli("run", "train", "--ranks", "2", "--steps", "2", "--log-dir", str(log_dir))
    assert_one_line_error(proc, "--log-dir", "already holds rank logs")
