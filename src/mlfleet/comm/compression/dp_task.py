"""The small, deterministic learning task of the compression study.

Data: a seeded Gaussian mixture — ``n_classes`` classes, each the union of
``clusters_per_class`` isotropic Gaussian blobs in ``n_features`` dimensions —
so a linear model is not enough and a hidden layer helps. Model: a 2-layer MLP
(ReLU, softmax cross-entropy) with hand-written backprop in numpy float32, its
parameters one flat vector, the way a DDP gradient bucket looks on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """Sizes of the synthetic task and of the MLP."""

    n_features: int = 64
    """Input dimensions."""
    n_hidden: int = 64
    """Hidden ReLU units."""
    n_classes: int = 10
    """Output classes."""
    clusters_per_class: int = 2
    """Gaussian blobs per class."""
    cluster_sep: float = 0.5
    """Std of the blob centres (blob noise has std 1): smaller is harder."""
    n_train: int = 8192
    """Training samples (sharded over ranks)."""
    n_test: int = 2048
    """Held-out samples for accuracy."""

    def __post_init__(self) -> None:
        for name in (
            "n_features",
            "n_hidden",
            "n_classes",
            "clusters_per_class",
            "n_train",
            "n_test",
        ):
            if getattr(self, name) < 1:
                raise InputError(f"{name}(={getattr(self, name)}) must be >= 1")

    @property
    def n_params(self) -> int:
        """W1 (d·h) + b1 (h) + W2 (h·c) + b2 (c)."""
        d, h, c = self.n_features, self.n_hidden, self.n_classes
        return d * h + h + h * c + c


@dataclass(frozen=True)
class Dataset:
    """Features (N, d) float32 and integer labels (N,)."""

    x: np.ndarray
    y: np.ndarray


def make_data(spec: TaskSpec, seed: int) -> tuple[Dataset, Dataset]:
    """(train, test) drawn from the same seeded mixture."""
    rng = np.random.default_rng([seed, 0xDA7A])
    n_blobs = spec.n_classes * spec.clusters_per_class
    centres = rng.normal(0.0, spec.cluster_sep, (n_blobs, spec.n_features))

    def draw(n: int) -> Dataset:
        blob = rng.integers(0, n_blobs, n)
        x = centres[blob] + rng.normal(0.0, 1.0, (n, spec.n_features))
        return Dataset(x=x.astype(np.float32), y=blob % spec.n_classes)

    return draw(spec.n_train), draw(spec.n_test)


def init_params(spec: TaskSpec, seed: int) -> np.ndarray:
    """He-initialised weights, zero biases, as one flat float32 vector."""
    rng = np.random.default_rng([seed, 0x1417])
    d, h, c = spec.n_features, spec.n_hidden, spec.n_classes
    w1 = rng.normal(0.0, np.sqrt(2.0 / d), (d, h))
    w2 = rng.normal(0.0, np.sqrt(2.0 / h), (h, c))
    flat = np.concatenate([w1.ravel(), np.zeros(h), w2.ravel(), np.zeros(c)])
    return flat.astype(np.float32)


def _unflatten(spec: TaskSpec, flat: np.ndarray) -> tuple[np.ndarray, ...]:
    d, h, c = spec.n_features, spec.n_hidden, spec.n_classes
    sizes = np.cumsum([d * h, h, h * c])
    w1, b1, w2, b2 = np.split(flat, sizes)
    return w1.reshape(d, h), b1, w2.reshape(h, c), b2


def _forward(spec: TaskSpec, params: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    w1, b1, w2, b2 = _unflatten(spec, params)
    hidden = np.maximum(x @ w1 + b1, 0.0)  # (B, h)
    logits = hidden @ w2 + b2  # (B, c)
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return hidden, probs


def loss_and_grad(spec: TaskSpec, params: np.ndarray, batch: Dataset) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over ``batch`` and its gradient w.r.t. the flat parameters."""
    _, _, w2, _ = _unflatten(spec, params)
    hidden, probs = _forward(spec, params, batch.x)
    rows = np.arange(batch.y.size)
    loss = float(-np.mean(np.log(probs[rows, batch.y] + 1e-12)))
    d_logits = probs.copy()
    d_logits[rows, batch.y] -= 1.0
    d_logits /= batch.y.size  # (B, c)
    d_hidden = (d_logits @ w2.T) * (hidden > 0)  # (B, h)
    grads = [batch.x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_logits, d_logits.sum(0)]
    return loss, np.concatenate([g.ravel() for g in grads]).astype(np.float32)


def evaluate(spec: TaskSpec, params: np.ndarray, data: Dataset) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``params`` on ``data``."""
    _, probs = _forward(spec, params, data.x)
    rows = np.arange(data.y.size)
    loss = float(-np.mean(np.log(probs[rows, data.y] + 1e-12)))
    return loss, float(np.mean(probs.argmax(axis=1) == data.y))
