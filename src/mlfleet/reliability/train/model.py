"""The job ``mlfleet run train`` trains: a small MLP on seeded synthetic data.

Everything that decides a bit of the final weights comes from the spec's seed and the
step number, so that a run restarted from a checkpoint retraces the run that never failed:

* the dataset is a fixed teacher problem drawn from ``seed`` (features ~ N(0, 1), labels
  = argmax of a random linear teacher);
* the loader walks a per-epoch permutation drawn from ``(seed, epoch)``; its state is
  ``(epoch, position)``, the global batch of a step is the next ``world * per_rank_batch``
  samples and rank ``r`` takes the ``r``-th slice (re-sharding to another world size is a
  change of slice, nothing else);
* per-rank randomness (dropout: torch; augmentation noise: numpy; label noise: python
  ``random``) comes from generators seeded by ``(seed, rank)`` whose states are
  checkpointed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from torch import nn


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Shape of the problem and of the MLP."""

    features: int = 32
    """Input features per sample."""
    hidden: int = 64
    """Width of the hidden layer."""
    classes: int = 8
    """Output classes."""
    samples: int = 4096
    """Samples in the synthetic dataset (one epoch)."""
    dropout: float = 0.1
    """Dropout probability (makes the torch RNG state matter)."""


def build_model(spec: ModelSpec, *, seed: int) -> nn.Module:
    """The MLP with weights drawn from ``seed`` (identical on every rank)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(spec.features, spec.hidden), nn.ReLU(),
                         nn.Dropout(spec.dropout), nn.Linear(spec.hidden, spec.classes))


def synthetic_dataset(spec: ModelSpec, *, seed: int) -> tuple[npt.NDArray[np.float32],
                                                               npt.NDArray[np.int64]]:
    """``(x, y)``: ``x`` of shape (samples, features), ``y`` the teacher's class per sample."""
    rng = np.random.default_rng([seed, 0xDA7A])
    x = rng.standard_normal((spec.samples, spec.features)).astype(np.float32)
    teacher = rng.standard_normal((spec.features, spec.classes)).astype(np.float32)
    y = np.argmax(x @ teacher, axis=1).astype(np.int64)
    return x, y


class ShardedLoader:
    """Deterministic sharded batches; state ``{"epoch", "position"}`` (position in samples)."""

    def __init__(self, n_samples: int, *, seed: int, epoch: int = 0, position: int = 0) -> None:
        self.n_samples, self.seed = n_samples, seed
        self.epoch, self.position = epoch, position

    def state(self) -> dict[str, int]:
        """What a checkpoint stores to resume at the same sample."""
        return {"epoch": self.epoch, "position": self.position}

    def next_indices(self, *, world: int, rank: int, per_rank_batch: int) -> npt.NDArray[np.int64]:
        """Sample indices of this rank's slice of the next global batch; advances the loader."""
        global_batch = world * per_rank_batch
        take: list[npt.NDArray[np.int64]] = []
        while sum(len(t) for t in take) < global_batch:
            if self.position >= self.n_samples:
                self.epoch, self.position = self.epoch + 1, 0
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n_samples)
            need = global_batch - sum(len(t) for t in take)
            take.append(order[self.position:self.position + need])
            self.position += len(take[-1])
        batch = np.concatenate(take)  # (world * per_rank_batch,)
        return batch[rank * per_rank_batch:(rank + 1) * per_rank_batch]


@dataclass
class RankRandomness:
    """The generators of one rank besides torch's global one."""

    numpy_rng: np.random.Generator
    """Augmentation noise."""
    python_rng: random.Random
    """Label noise."""


def rank_randomness(*, seed: int, rank: int) -> RankRandomness:
    """Fresh per-rank generators (torch's global generator is seeded here too)."""
    torch.manual_seed(seed * 1000 + rank + 1)
    return RankRandomness(numpy_rng=np.random.default_rng([seed, rank, 0xA06]),
                          python_rng=random.Random(seed * 1000 + rank))


def make_batch(x: npt.NDArray[np.float32], y: npt.NDArray[np.int64],
               indices: npt.NDArray[np.int64], rand: RankRandomness, *,
               classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The rank's batch with augmentation noise and one noisy label (both from its RNGs)."""
    xb = x[indices] + 0.05 * rand.numpy_rng.standard_normal(x[indices].shape).astype(np.float32)
    yb = y[indices].copy()
    flip = rand.python_rng.randrange(len(yb))
    yb[flip] = (yb[flip] + 1) % classes
    return torch.from_numpy(xb), torch.from_numpy(yb)


def weights_sha256(model: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, in state-dict order, as raw bytes."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()
