"""The cost of a real training run from its logs: ``mlfleet run train --json`` and the
per-rank logs of ``--log-dir``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.ops.cost.from_rank_logs import rank_allocations
from mlfleet.ops.cost.from_run import RunLogError, train_allocation
from mlfleet.ops.cost.resources import Resource
from mlfleet.ops.debug.log_reader import Span


def test_used_is_ranks_times_the_useful_share_of_the_wall() -> None:
    a = train_allocation({"ranks": 4, "wall_s": 100.0, "useful_s": 25.0}, team="t",
                         model="m", device="gpu")
    assert a.requested[Resource.GPU] == 4 and a.used[Resource.GPU] == pytest.approx(1.0)
    assert a.duration_h == pytest.approx(100 / 3600)


@pytest.mark.parametrize(("doc", "fragment"), [
    ({"ranks": 2, "wall_s": 1.0}, "missing field(s) useful_s"),
    ({"ranks": 2, "wall_s": -1.0, "useful_s": 0.5}, "wall_s(=-1.0)"),
    ({"ranks": 0, "wall_s": 1.0, "useful_s": 0.5}, "must be > 0"),
])
def test_bad_logs(doc: dict[str, float], fragment: str) -> None:
    with pytest.raises(RunLogError) as info:
        train_allocation(doc, team="t", model="m")
    assert fragment in str(info.value)


def span(rank: int, start_s: float, dur_s: float) -> Span:
    return Span(rank=rank, step=1, phase="forward", start_ns=int(start_s * 1e9), dur_s=dur_s)


def test_rank_logs_give_each_rank_its_busy_share() -> None:
    spans = {0: [span(0, 10.0, 1.0), span(0, 13.0, 1.0)],  # held 10..14 s, busy 2 s
             1: [span(1, 10.0, 4.0)]}
    a0, a1 = rank_allocations(spans, team="t", model="m", device="gpu")
    assert a0.duration_h == pytest.approx(4 / 3600) and a0.used[Resource.GPU] == pytest.approx(0.5)
    assert a1.used[Resource.GPU] == pytest.approx(1.0)
    with pytest.raises(RunLogError, match="rank 0 logged no span"):
        rank_allocations({0: []}, team="t", model="m")


@pytest.mark.slow
def test_a_real_training_run_is_charged(tmp_path: Path) -> None:
    """Runs ``mlfleet run train`` (2 gloo processes, 4 steps), then charges its logs."""
    proc = run_cli("run", "train", "--ranks", "2", "--steps", "4", "--ckpt-dir",
                   str(tmp_path / "ckpt"), "--log-dir", str(tmp_path / "logs"), "--json")
    assert proc.returncode == 0, proc.stderr
    log = tmp_path / "train.json"
    log.write_text(proc.stdout)
    run = json.loads(proc.stdout)
    billed = run_cli("ops", "cost", "run", str(log), "--team", "vision", "--cpu-price", "$1/h",
                     "--json")
    assert billed.returncode == 0, billed.stderr
    doc = json.loads(billed.stdout)
    want = run["ranks"] * run["wall_s"] / 3600 * 1.0
    assert doc["charges"][0]["tenant"] == "vision"
    assert doc["breakdown"]["workload_usd"]["cpu"] == pytest.approx(want, rel=1e-9)
    ranks = run_cli("ops", "cost", "run", str(tmp_path / "logs"), "--cpu-price", "$1/h",
                    "--json")
    assert ranks.returncode == 0, ranks.stderr
    per_rank_h = json.loads(ranks.stdout)["breakdown"]["workload_usd"]["cpu"]  # $1/core-h
    # every rank's logged spans lie inside the supervisor's wall time
    assert 0 < per_rank_h <= run["ranks"] * run["wall_s"] / 3600
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"ranks": 2}))
    assert_one_line_error(run_cli("ops", "cost", "run", str(bad)), "missing field(s)")
