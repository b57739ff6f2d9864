"""A process SIGKILLed anywhere in a checkpoint leaves the previous checkpoint loadable."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mlfleet.storage.checkpoint import CheckpointStore

CHILD = Path(__file__).with_name("ckpt_crash_child.py")


def _run_child(root: Path, point: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHILD), str(root), point], capture_output=True,
                          text=True, timeout=120)


def _loads(store: CheckpointStore, step: int) -> None:
    tensors, _ = store.load_shard(step, "rank-00000")
    assert int(tensors["step"]) == step and float(tensors["w"][0, 0]) == step


@pytest.mark.slow
@pytest.mark.parametrize(("point", "latest"), [
    ("mid-shard", 20), ("before-commit", 20), ("before-manifest-rename", 20),
    ("before-publish", 20), ("mid-retention", 40),
])
def test_kill_at_each_point_keeps_a_loadable_checkpoint(tmp_path: Path, point: str,
                                                        latest: int) -> None:
    done = _run_child(tmp_path, point)
    assert done.returncode == -signal.SIGKILL, done.stderr
    if point == "mid-shard":  # the kill landed inside the write: a partial temp file is there
        partial = list(tmp_path.glob(".staging-step-00000040/.rank-00000.safetensors.tmp-*"))
        assert len(partial) == 1 and 0 < partial[0].stat().st_size < 64 * 1024 * 4
    store = CheckpointStore(tmp_path, keep_last=1)
    good = store.latest_good()
    assert good is not None and good.step == latest
    _loads(store, latest)
    # the run resumes: committing step 40 again works and cleans what the crash left
    store.write_shard(40, "rank-00000", {"w": torch.full((64, 1024), 40.0),
                                         "step": torch.tensor(40)})
    store.commit(40, ["rank-00000"])
    assert store.steps() == [40]
    _loads(store, 40)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers
    assert sorted(p.name for p in (tmp_path / "step-00000040").iterdir()) == [
        "MANIFEST.json", "rank-00000.json", "rank-00000.safetensors"]


WRITER = """
import sys, torch
from mlfleet.storage.checkpoint import CheckpointStore
s = CheckpointStore(sys.argv[1], keep_last=1)
s.write_shard(20, "rank-00000", {"w": torch.ones(1024)}); s.commit(20, ["rank-00000"])
print("committed", flush=True)
big = {"w": torch.ones(64 << 20, dtype=torch.uint8)}
step = 40
while True:
    s.write_shard(step, "rank-00000", big); step += 20
"""


@pytest.mark.slow
def test_kill_from_outside_while_writing_a_large_shard(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "committed"
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".staging-*/.rank-00000.safetensors.tmp-*")):
            assert time.monotonic() < deadline, "the writer never started a shard"
            time.sleep(0.005)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    store = CheckpointStore(tmp_path, keep_last=1)
    good = store.latest_good()
    assert good is not None and good.step == 20
    assert store.load_shard(20, "rank-00000")[0]["w"].sum() == 1024
