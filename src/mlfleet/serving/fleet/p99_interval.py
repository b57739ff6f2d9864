"""A 95 % prediction interval for the p99 that one real run shows, around the simulator's.

A p99 from a run of a few seconds is set by its few slowest requests, and on a shared
host those come in bursts: one stall of the machine delays every request of that moment
together. So the run's own p99 carries a sampling error far wider than the order
statistics of independent requests suggest (Conover §3.2 assumes independence). Two
errors separate a measured p99 from the simulator's:

* the real run's: estimated by a block bootstrap over time (Carlstein 1986, "The use of
  subseries values for estimating the variance of a general statistic from a stationary
  sequence", Ann. Statist. 14(3); Künsch 1989): the run cut into blocks of
  ``block_s``, blocks drawn with replacement, the p99 of each resample; a block keeps a
  stall's requests together, so a run whose tail came from one stall gets the wide
  interval it deserves;
* the simulator's: its pooled p99's own error, the spread of the per-replication p99s
  over √replications.

With e the sum of the two errors (drawn independently and paired: a Monte Carlo
convolution), the interval is ``[sim − e₉₇.₅, sim − e₂.₅]``: exactly the real p99 values
for which the simulator's p99 lies inside the real run's 95 % percentile-bootstrap
interval (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13) widened
by the simulator's error. The percentile interval is the one that suits a tail quantile:
when a run's tail came from one stall, resamples without that block show how much lower
the p99 of such runs goes, and a simulator that predicts the stall-free p99 is inside.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Interval = tuple[float, float]

BLOCK_S = 0.1
"""Block length: about a stall of the host (tens of ms); 30 blocks in a 3-s run."""


def block_bootstrap_quantiles(values: FloatArray, times_s: FloatArray, *, q: float,
                              block_s: float, resamples: int,
                              rng: np.random.Generator) -> FloatArray:
    """The ``q`` quantile (0-1) of ``resamples`` block-bootstrap resamples of ``values``
    (observed at ``times_s``): the span cut into blocks of ``block_s``, as many blocks
    drawn with replacement as there are, their values pooled."""
    block = np.floor((times_s - times_s.min()) / block_s).astype(np.int64)
    groups = [values[block == b] for b in np.unique(block)]
    out = np.empty(resamples)
    for r in range(resamples):
        picks = rng.integers(0, len(groups), size=len(groups))
        out[r] = np.quantile(np.concatenate([groups[i] for i in picks]), q)
    return out


def p99_prediction_interval(*, sim_p99_s: float, sim_replication_p99s_s: FloatArray,
                            real_latency_s: FloatArray, real_times_s: FloatArray,
                            rng: np.random.Generator, level: float = 0.95,
                            block_s: float = BLOCK_S, draws: int = 2000) -> Interval:
    """Where the p99 of the real run (latencies ``real_latency_s`` at ``real_times_s``)
    should fall if the simulator (pooled p99 ``sim_p99_s``, one p99 per replication in
    ``sim_replication_p99s_s``) is right, at ``level``. Seconds."""
    if real_latency_s.size == 0 or sim_replication_p99s_s.size == 0:
        return (math.nan, math.nan)
    real_p99 = float(np.quantile(real_latency_s, 0.99))
    real_error = block_bootstrap_quantiles(real_latency_s, real_times_s, q=0.99,
                                           block_s=block_s, resamples=draws // 4,
                                           rng=rng) - real_p99
    sim_error = ((sim_replication_p99s_s - sim_replication_p99s_s.mean())
                 / math.sqrt(sim_replication_p99s_s.size))
    total = (real_error[rng.integers(0, real_error.size, size=draws)]
             + sim_error[rng.integers(0, sim_error.size, size=draws)])
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(total, [tail, 1.0 - tail])
    return (sim_p99_s - float(hi), sim_p99_s - float(lo))
