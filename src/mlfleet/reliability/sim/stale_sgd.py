"""What staleness costs in updates: SGD on a least-squares problem with delayed gradients.

A toy, measured rather than cited: update ``k`` applies the minibatch gradient taken at
the parameters ``delays[k]`` updates old, ``w_{k+1} = w_k - lr * g(w_{k - delays[k]})``,
with the delays an SSP run produced (:func:`~.ssp.simulate_ssp`). The excess loss of a
least-squares problem is exact, ``||X (w - w_hat)||^2 / 2n`` with ``w_hat`` its solution,
so "updates until the excess loss is 1 % of the start's" is a clean measure. Delayed SGD
is stable only while ``lr x curvature x delay`` stays small, so large staleness at a
fixed learning rate can diverge (reported as not reaching the target). It is a convex
toy: it shows the direction and the mechanism, not a deep network's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import fraction, positive, positive_int


@dataclass(frozen=True, kw_only=True)
class LeastSquares:
    """A seeded least-squares problem and the SGD that solves it."""

    dim: int = 20
    """Parameters."""
    samples: int = 2000
    """Rows of the design matrix (standard normal)."""
    batch: int = 8
    """Rows per minibatch gradient."""
    lr: float = 0.02
    """Learning rate."""
    noise: float = 0.1
    """Standard deviation of the label noise."""

    def __post_init__(self) -> None:
        positive_int("dim", self.dim)
        positive_int("samples", self.samples, minimum=self.dim)
        positive_int("batch", self.batch)
        positive("lr", self.lr)
        positive("noise", self.noise)


def updates_to_target(problem: LeastSquares, delays: np.ndarray, *, target: float = 0.01,
                      seed: int = 0) -> int | None:
    """The first update after which the excess loss is at most ``target`` times the
    initial one; None when ``len(delays)`` updates do not get there (or diverge)."""
    fraction("target", target, open_low=True, open_high=True)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((problem.samples, problem.dim))
    y = x @ rng.standard_normal(problem.dim) + problem.noise * rng.standard_normal(problem.samples)
    w_hat = np.linalg.lstsq(x, y, rcond=None)[0]
    depth = int(delays.max(initial=0)) + 1
    history = np.zeros((depth, problem.dim))  # ring buffer of the last `depth` iterates
    w = np.zeros(problem.dim)
    start = _excess(x, w, w_hat)
    rows = rng.integers(0, problem.samples, size=(len(delays), problem.batch))
    for k, delay in enumerate(delays):
        history[k % depth] = w
        stale = history[(k - int(delay)) % depth] if delay <= k else history[0]
        xb = x[rows[k]]  # (batch, dim)
        w = w - problem.lr * xb.T @ (xb @ stale - y[rows[k]]) / problem.batch
        excess = _excess(x, w, w_hat)
        if not np.isfinite(excess) or excess > 1e6 * start:
            return None
        if excess <= target * start:
            return k + 1
    return None


def _excess(x: np.ndarray, w: np.ndarray, w_hat: np.ndarray) -> float:
    r = x @ (w - w_hat)
    return float(r @ r) / (2 * len(x))
