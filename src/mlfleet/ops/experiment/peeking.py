"""The peeking problem: a fixed-horizon z-test looked at k times, against the mSPRT.

Armitage, McPherson and Rowe, "Repeated significance tests on accumulating data", J. R.
Stat. Soc. A 132(2), 1969, Table 2: a two-sided test at nominal α = 0.05 applied after each
of k equally spaced groups of normal observations (known variance), stopping at the first
significant look, rejects a true null with probability 0.050, 0.083, 0.107, 0.126, 0.142,
0.193, 0.247, 0.320, 0.373 for k = 1, 2, 3, 4, 5, 10, 20, 50, 100.

Two computations of the same quantity: :func:`exact_type_one_error` integrates the density of
the running sum look by look, as the paper did (Gauss-Legendre quadrature on each look's
continuation region), and :func:`simulate_peeking` draws seeded random walks. In the
simulation one walk serves every k (looks at multiples of grid/k on a grid of lcm(k) steps)
and the mSPRT (:mod:`mlfleet.ops.experiment.msprt`) is applied to the same walks at the same
looks, so the two tests are compared on common random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.ops.experiment.msprt import rejection_threshold, walk_log_lr

ARMITAGE_1969: dict[int, float] = {1: 0.050, 2: 0.083, 3: 0.107, 4: 0.126, 5: 0.142,
                                   10: 0.193, 20: 0.247, 50: 0.320, 100: 0.373}
"""Type-I error of k looks at nominal α = 0.05 (Armitage, McPherson and Rowe 1969, Table 2)."""
PUBLISHED_ROUNDING = 0.0005
"""The published values have three decimals: each is within this of the value it rounds."""
MAX_GRID = 3000
"""The most steps one simulated walk may have (the lcm of the look counts)."""
CHUNK_CELLS = 1_000_000
"""Walk steps drawn at once (8 MB of float64): memory stays flat, Ctrl-C waits one chunk."""


def exact_type_one_error(looks: int, *, alpha: float = 0.05, nodes: int = 200) -> float:
    """P(some |S_j| / sqrt(j) ≥ z_{1-α/2}, j = 1..looks) for a standard normal random walk
    S_j: the recursion of Armitage et al. (1969) with ``nodes`` Gauss-Legendre points per
    look. The density of S_j on the continuation region (−c√j, c√j) is carried to look j+1
    by convolving with the N(0, 1) increment."""
    positive_int("looks", looks)
    c = float(stats.norm.ppf(1 - fraction("alpha", alpha, open_low=True, open_high=True) / 2))
    t, w = np.polynomial.legendre.leggauss(positive_int("nodes", nodes, minimum=8))
    x = c * t
    density = stats.norm.pdf(x)  # S_1 ~ N(0, 1), at the nodes of look 1
    weights = c * w
    for j in range(2, looks + 1):
        half = c * math.sqrt(j)
        y = half * t
        density = stats.norm.pdf(y[:, None] - x[None, :]) @ (weights * density)
        x, weights = y, half * w
    return float(1.0 - weights @ density)


@dataclass(frozen=True, kw_only=True)
class PeekingRow:
    """Type-I error of k equally spaced looks: the fixed-horizon z-test and the mSPRT."""

    looks: int
    fixed_type_one: float
    """Fraction of null walks the z-test rejects at some look (simulated)."""
    fixed_se: float
    """Its Monte-Carlo standard error, sqrt(p(1-p)/sims)."""
    msprt_type_one: float
    """Fraction of the same walks the mSPRT rejects at one of the same looks."""
    msprt_se: float
    exact: float
    """:func:`exact_type_one_error` for this k."""
    armitage: float | None
    """The published value (None for a k the paper's table lacks)."""


@dataclass(frozen=True, kw_only=True)
class PeekingStudy:
    """The table, and the mSPRT checked after every step of the walk."""

    rows: tuple[PeekingRow, ...]
    sims: int
    grid_steps: int
    """Steps per walk: the lcm of the look counts; continuous monitoring looks at each."""
    msprt_continuous: float
    msprt_continuous_se: float
    alpha: float
    tau_se: float
    """The mSPRT's mixing sd τ in units of the fixed-horizon estimate's standard error."""
    seed: int


def look_steps(looks: int, grid: int) -> np.ndarray:
    """0-based indices of ``looks`` equally spaced looks on a walk of ``grid`` steps."""
    return (grid // looks) * np.arange(1, looks + 1) - 1


def grid_for(looks: Sequence[int]) -> int:
    """The lcm of the look counts, refused above :data:`MAX_GRID`."""
    grid = math.lcm(*looks)
    if grid > MAX_GRID:
        raise InputError(f"looks(={','.join(map(str, looks))}) need walks of lcm = {grid} steps;"
                         f" allowed: look counts whose lcm is <= {MAX_GRID}")
    return grid


def _count_rejections(walks: np.ndarray, looks: Sequence[int], *, z: float, tau_se: float,
                      alpha: float) -> tuple[np.ndarray, np.ndarray, int]:
    grid = walks.shape[1]
    t = np.arange(1, grid + 1, dtype=np.float64)
    fixed = np.abs(walks) >= z * np.sqrt(t)
    msprt = walk_log_lr(walks, tau=tau_se / math.sqrt(grid)) >= rejection_threshold(alpha)
    fixed_counts = np.array([fixed[:, look_steps(k, grid)].any(axis=1).sum() for k in looks])
    msprt_counts = np.array([msprt[:, look_steps(k, grid)].any(axis=1).sum() for k in looks])
    return fixed_counts, msprt_counts, int(msprt.any(axis=1).sum())


def _se(p: float, sims: int) -> float:
    return math.sqrt(p * (1 - p) / sims)


def simulate_peeking(*, looks: Sequence[int], sims: int, seed: int, alpha: float = 0.05,
                     tau_se: float | None = None,
                     progress: Callable[[int, int], None] | None = None) -> PeekingStudy:
    """Type-I error of each k in ``looks`` for the z-test and the mSPRT on ``sims`` seeded null
    walks. ``tau_se`` defaults to z_{1-α/2} + z_{0.8}: τ is then the effect the fixed-horizon
    test detects with 80 % power. Raises InputError for bad arguments."""
    looks = sorted({positive_int("looks", k) for k in looks})
    if not looks:
        raise InputError("looks(='') must name at least one look count")
    positive_int("sims", sims)
    fraction("alpha", alpha, open_low=True, open_high=True)
    z = float(stats.norm.ppf(1 - alpha / 2))
    tau_se = positive("tau_se", z + float(stats.norm.ppf(0.8)) if tau_se is None else tau_se)
    grid = grid_for(looks)
    rng = np.random.default_rng(positive_int("seed", seed, minimum=0))
    per_chunk = max(1, CHUNK_CELLS // grid)
    fixed, msprt, continuous, done = np.zeros(len(looks)), np.zeros(len(looks)), 0, 0
    while done < sims:
        n = min(per_chunk, sims - done)
        walks = np.cumsum(rng.standard_normal((n, grid)), axis=1)
        f, m, c = _count_rejections(walks, looks, z=z, tau_se=tau_se, alpha=alpha)
        fixed, msprt, continuous, done = fixed + f, msprt + m, continuous + c, done + n
        if progress is not None:
            progress(done, sims)
    fixed_rate, msprt_rate = [float(c) / sims for c in fixed], [float(c) / sims for c in msprt]
    rows = tuple(PeekingRow(looks=k, fixed_type_one=fixed_rate[i],
                            fixed_se=_se(fixed_rate[i], sims), msprt_type_one=msprt_rate[i],
                            msprt_se=_se(msprt_rate[i], sims),
                            exact=exact_type_one_error(k, alpha=alpha),
                            armitage=ARMITAGE_1969.get(k) if alpha == 0.05 else None)
                 for i, k in enumerate(looks))
    return PeekingStudy(rows=rows, sims=sims, grid_steps=grid, msprt_continuous=continuous / sims,
                        msprt_continuous_se=_se(continuous / sims, sims), alpha=alpha,
                        tau_se=tau_se, seed=seed)
