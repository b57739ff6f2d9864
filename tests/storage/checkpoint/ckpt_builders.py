"""Builders for the checkpoint-store tests: small states and a store under a temp dir."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlfleet.storage.checkpoint import CheckpointStore


def make_store(root: Path, **overrides: Any) -> CheckpointStore:
    kwargs: dict[str, Any] = {"keep_last": 3, "keep_every": 0, "compression": None}
    kwargs.update(overrides)
    return CheckpointStore(root, **kwargs)


def tensors(seed: int = 0, *, rows: int = 8) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"w": torch.randn(rows, 4, generator=g), "b": torch.randn(4, generator=g).bfloat16(),
            "i": torch.arange(rows, dtype=torch.int64), "scalar": torch.tensor(seed)}


def training_state(seed: int = 0) -> dict[str, Any]:
    """A real training state after two optimizer steps: model, Adam, scheduler, every RNG."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(2):
        model(torch.randn(3, 4)).sum().backward()
        opt.step()
        sched.step()
    return {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state(),
            "numpy_rng": np.random.default_rng(seed).bit_generator.state,
            "legacy_rng": np.random.RandomState(seed).get_state(),
            "python_rng": random.Random(seed).getstate(), "loader": {"epoch": 1, "index": 37},
            "step": 120}


def assert_same(a: Any, b: Any) -> None:
    """Exact equality of nested states: tensors bit for bit, containers with their types."""
    if isinstance(a, dict):  # an OrderedDict (state_dict) comes back as a plain dict, in order
        assert isinstance(b, dict)
    else:
        assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b
