"""Each injected fault is detected, reported and recovered from (issue 11 item 4), and a
slow rank is found by the straggler detectors (item 5, real run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from train_helpers import fork_server, run_supervised

from mlfleet.reliability.train.job import BALLAST_NAME
from mlfleet.reliability.train.ranks import ForkServer
from mlfleet.reliability.train.report import TrainReport

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    with fork_server(tmp_path_factory.mktemp("forkserver")) as running:
        yield running


@pytest.fixture(scope="module")
def reference(server: ForkServer, tmp_path_factory: pytest.TempPathFactory) -> TrainReport:
    report: TrainReport = run_supervised(server, tmp_path_factory.mktemp("reference"), ranks=2, steps=40, ckpt_every=10)
    return report


def test_a_hung_rank_is_found_by_its_silent_heartbeat(server: ForkServer, tmp_path: Path,
                                                      reference: TrainReport) -> None:
    report = run_supervised(server, tmp_path, ranks=2, steps=40, ckpt_every=10, injections=("hang:rank=1,step=25",),
                            hang_timeout_s=1.0)
    failure, = report.failures
    assert (failure.kind, failure.rank, failure.resumed_from_step) == ("hung", 1, 20)
    assert "no heartbeat" in failure.message
    assert failure.detection_s is not None and failure.detection_s >= 1.0
    assert report.sha256 == reference.sha256


def test_a_corrupt_checkpoint_is_skipped_for_the_previous_good_one(
        server: ForkServer, tmp_path: Path, reference: TrainReport) -> None:
    report = run_supervised(server, tmp_path, ranks=2, steps=40, ckpt_every=10,
                            injections=("corrupt:step=20", "kill:rank=0,step=25"))
    failure, = report.failures
    assert failure.resumed_from_step == 10
    skipped, = report.skipped_checkpoints
    assert "step-00000020" in skipped and "rank-00000" in skipped
    assert report.sha256 == reference.sha256


def _mount_tmpfs(path: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        if os.environ.get("CI"):
            pytest.fail("the disk-full test needs root and mount(8) in CI")
        pytest.skip("needs root to mount a small tmpfs")
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True)


def test_a_full_disk_fails_one_checkpoint_keeps_the_previous_and_the_run_recovers(
        server: ForkServer, tmp_path: Path, reference: TrainReport) -> None:
    root = tmp_path / "small"
    _mount_tmpfs(root, "2m")
    try:
        report = run_supervised(server, root, ranks=2, steps=40, ckpt_every=10,
                                injections=("disk-full:step=20", "kill:rank=1,step=25"))
        error, = report.checkpoint_errors
        assert error.startswith("step 20: ") and "No space left on device" in error
        assert report.failures[0].resumed_from_step == 10
        assert report.sha256 == reference.sha256
        assert not (root / BALLAST_NAME).exists()
        assert report.checkpoints_committed == 4  # 10; 20 (redone), 30, 40 after the restart
    finally:
        subprocess.run(["umount", str(root)], check=True)


def test_async_checkpoints_write_the_same_state(server: ForkServer, tmp_path: Path,
                                                reference: TrainReport) -> None:
    """A checkpoint counts once every shard is durable: the step-30 write may still be in
    flight when the kill at step 33 strikes, and then the run resumes from step 20."""
    report = run_supervised(server, tmp_path, ranks=2, steps=40, ckpt_every=10, injections=("kill:rank=1,step=33",),
                            async_ckpt=True)
    assert report.failures[0].resumed_from_step in (20, 30)
    assert report.ckpt_stall_s is not None
    assert report.sha256 == reference.sha256


def test_elastic_shrinks_after_a_death_and_grows_back_with_the_lr_rescaled(
        server: ForkServer, tmp_path: Path) -> None:
    """Linear scaling rule: on 2 of 3 ranks the learning rate is 2/3 of the same step's
    rate without --rescale-lr, and back to it when the world grows again."""
    runs = {rescale: run_supervised(server, tmp_path / str(rescale), ranks=3, steps=40,
                                    ckpt_every=10, injections=("kill:rank=2,step=15",),
                                    elastic=True, rescale_lr=rescale, rejoin_after=10)
            for rescale in (True, False)}
    for report in runs.values():
        assert [(s, w) for s, w, _ in report.world_sizes] == [(0, 3), (10, 2), (20, 3)]
        assert report.restarts == 1 and report.steps_executed == 40 + 4
    scaled, plain = ([lr or 0.0 for _, _, lr in runs[r].world_sizes] for r in (True, False))
    assert scaled[0] == plain[0] > 0
    assert scaled[1] == pytest.approx(plain[1] * 2 / 3, rel=1e-12)
    assert scaled[2] == pytest.approx(plain[2], rel=1e-12)


def test_a_slow_rank_is_reported_as_a_straggler(server: ForkServer, tmp_path: Path) -> None:
    report = run_supervised(server, tmp_path, ranks=3, steps=60, ckpt_every=30,
                            injections=("slow:rank=2,factor=3",))
    relative = [f for f in report.stragglers if f.method == "relative"]
    assert [f.rank for f in relative] == [2]
    assert relative[0].ratio > 2.0
