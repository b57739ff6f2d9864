"""A percentile-bootstrap confidence interval for the difference in means.

Each resample draws n_C control and n_T treatment units with replacement from their own
arm (a stratified bootstrap: the arms' sizes are fixed by design) and records the
difference of the resampled means; the interval is the α/2 and 1 − α/2 quantiles of
those differences (Efron and Tibshirani, *An Introduction to the Bootstrap*, 1993,
ch. 13). Resamples are drawn in batches of bounded memory, from the caller's seeded
generator, so the same seed gives the same interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive_int
from mlfleet.ops.experiment.errors import ExperimentInputError

FloatArray = npt.NDArray[np.float64]
BATCH_ELEMENTS = 2 ** 22
"""Indices drawn at once (32 MiB of int64): bounds memory for any arm size."""


@dataclass(frozen=True, kw_only=True)
class BootstrapInterval:
    """The observed difference in means and its percentile-bootstrap interval."""

    diff: float
    """x̄_T − x̄_C on the data."""
    ci_low: float
    """α/2 quantile of the resampled differences."""
    ci_high: float
    """1 − α/2 quantile of the resampled differences."""
    resamples: int
    """Bootstrap resamples drawn."""


def resampled_means(values: FloatArray, *, resamples: int, rng: np.random.Generator,
                    progress: Callable[[int], None] | None = None) -> FloatArray:
    """``resamples`` means of ``values`` resampled with replacement, in bounded batches."""
    n = values.size
    per_batch = max(1, BATCH_ELEMENTS // n)
    means = np.empty(resamples)
    for start in range(0, resamples, per_batch):
        stop = min(resamples, start + per_batch)
        idx = rng.integers(0, n, size=(stop - start, n))  # (batch, n)
        means[start:stop] = values[idx].mean(axis=1)
        if progress is not None:
            progress(stop - start)
    return means


def bootstrap_diff(control: npt.ArrayLike, treatment: npt.ArrayLike, *, resamples: int,
                   rng: np.random.Generator, alpha: float = 0.05,
                   progress: Callable[[int, int], None] | None = None) -> BootstrapInterval:
    """Percentile interval of x̄_T − x̄_C from ``resamples`` stratified resamples.

    ``progress(done, total)`` is called after each batch (done counts both arms' resamples).
    """
    positive_int("resamples", resamples, minimum=10, error=ExperimentInputError)
    fraction("alpha", alpha, open_low=True, open_high=True, error=ExperimentInputError)
    c = np.asarray(control, dtype=np.float64)
    t = np.asarray(treatment, dtype=np.float64)
    if c.size == 0 or t.size == 0:
        raise ExperimentInputError("an arm has zero users; the bootstrap needs both arms")
    done = [0]

    def tick(batch: int) -> None:
        done[0] += batch
        if progress is not None:
            progress(done[0], 2 * resamples)

    diffs = (resampled_means(t, resamples=resamples, rng=rng, progress=tick)
             - resampled_means(c, resamples=resamples, rng=rng, progress=tick))
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return BootstrapInterval(diff=float(t.mean() - c.mean()), ci_low=float(low),
                             ci_high=float(high), resamples=resamples)
