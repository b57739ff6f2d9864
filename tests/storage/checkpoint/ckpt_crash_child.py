"""Child process for the crash tests: commits step 20, then SIGKILLs itself at a chosen point.

Usage: python ckpt_crash_child.py ROOT POINT. The points patch a library function so that
the kill lands exactly there; the kill itself is a real SIGKILL of this process.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path
from typing import IO, Any

import torch

from mlfleet.storage.checkpoint import CheckpointStore, shard_file
from mlfleet.storage.checkpoint import store as store_module


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def state(step: int) -> dict[str, torch.Tensor]:
    return {"w": torch.full((64, 1024), float(step)), "step": torch.tensor(step)}


class KillingFile:
    """A file whose 6th write kills the process: the shard is half on disk."""

    def __init__(self, f: IO[Any]) -> None:
        self.f, self.writes = f, 0

    @classmethod
    def open(cls, path: Any, mode: str) -> KillingFile:
        return cls(open(path, mode))  # noqa: SIM115 (closed by __exit__)

    def write(self, data: Any) -> int:
        self.writes += 1
        if self.writes == 6:
            self.f.flush()
            die()
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()

    def fileno(self) -> int:
        return self.f.fileno()

    def __enter__(self) -> KillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


def arm(point: str) -> None:
    real_replace, real_rmtree = os.replace, shutil.rmtree
    if point == "mid-shard":
        shard_file.CHUNK_BYTES = 4096
        store_module.open = KillingFile.open  # type: ignore[attr-defined]

    def replace(src: Any, dst: Any) -> None:
        name = Path(dst).name
        if (point == "before-manifest-rename" and name == "MANIFEST.json") or (
                point == "before-publish" and name == "step-00000040"):
            die()
        real_replace(src, dst)
    os.replace = replace  # type: ignore[assignment]

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        if point == "mid-retention" and Path(path).name.startswith(".trash-step-00000020"):
            (Path(path) / "rank-00000.safetensors").unlink()
            die()
        real_rmtree(path, *args, **kwargs)
    shutil.rmtree = rmtree  # type: ignore[assignment]


def main(root: str, point: str) -> None:
    store = CheckpointStore(root, keep_last=1)
    store.write_shard(20, "rank-00000", state(20))
    store.commit(20, ["rank-00000"], {"step": 20})
    arm(point)
    store.write_shard(40, "rank-00000", state(40))
    if point == "before-commit":
        die()
    store.commit(40, ["rank-00000"], {"step": 40})
    print("not killed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
