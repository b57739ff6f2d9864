"""A full disk (a 2 MiB tmpfs mounted by the test) is one line, and the previous checkpoint stays."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from mlfleet.storage.checkpoint import CheckpointStore, CheckpointWriteError

_ROOT = os.geteuid() == 0
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(not _ROOT and not os.environ.get("CI"),
                       reason="mounting a tmpfs needs root (under CI this test fails instead)"),
]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_full_disk_is_reported_and_previous_checkpoint_kept(small_disk: Path,
                                                            compression: str | None) -> None:
    store = CheckpointStore(small_disk / "ckpt", compression=compression)
    store.write_shard(20, "rank-00000", {"w": torch.ones(128 << 10, dtype=torch.uint8)})
    store.commit(20, ["rank-00000"])
    too_big = {"w": torch.randint(0, 255, (3 << 20,), dtype=torch.uint8,
                                  generator=torch.Generator().manual_seed(0))}
    with pytest.raises(CheckpointWriteError) as err:
        store.write_shard(40, "rank-00000", too_big)
    message = str(err.value)
    assert "\n" not in message and "No space left on device" in message
    assert "rank-00000.safetensors" in message
    assert [p.name for p in (small_disk / "ckpt" / ".staging-step-00000040").iterdir()] == []
    assert store.steps() == [20]
    assert store.load_shard(20, "rank-00000")[0]["w"].sum() == 128 << 10
