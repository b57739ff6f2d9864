"""M/M/c through the engine, checked against Erlang C.

Poisson arrivals at rate λ = ρ·c·μ into one :class:`RequestLevelReplica` with c servers
and exponential service of mean 1/μ is exactly the M/M/c queue, whose waiting time W
has P(W > 0) = C(c, a) (Erlang C), E[W] = C/(cμ - λ) and P(W > t) = C·e^{-(cμ-λ)t}
(:mod:`mlfleet.serving.models.queueing`). The simulation's 95 % confidence intervals
come from batch means (Law, "Simulation Modeling and Analysis", 5th ed., §9.5.3): the
first ``warmup_fraction`` of requests is dropped (the queue starts empty), the rest is
cut into ``batches`` consecutive batches, and each statistic's CI is a t-interval
from the spread of its per-batch values (see :func:`batch_means`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError
from mlfleet.serving.models import queueing
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica

STATISTICS = ("mean_wait_s", "p_wait", "p50_wait_s", "p99_wait_s")
"""What is compared: mean wait, P(wait > 0), median and 99th percentile of the wait."""
T_SERIES_MAX_DF = 1000
"""Degrees of freedom up to which :func:`t_quantile` sums the exact series."""
BYTES_PER_REQUEST = 400
"""Peak memory per simulated request (the engine keeps every request's columns and
the lane its lists): ``mlfleet sim mmc`` peaked at 354 MB for 10⁶ requests and
0.98 GB for 3·10⁶ here (``ru_maxrss``), 322 bytes per extra request; rounded up."""


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A simulated statistic with its 95 % confidence interval (batch means)."""

    value: float
    ci95_half_width: float

    @property
    def low(self) -> float:
        return self.value - self.ci95_half_width

    @property
    def high(self) -> float:
        return self.value + self.ci95_half_width

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


@dataclass(frozen=True, kw_only=True)
class MmcComparison:
    """Simulated vs Erlang C waiting-time statistics of one M/M/c run."""

    servers: int
    utilization: float
    requests: int
    seed: int
    simulated: dict[str, Estimate]
    erlang_c: dict[str, float]
    wall_s: float
    """Wall time of the simulation (arrivals, engine, results)."""

    def as_dict(self) -> dict[str, Any]:
        rows = {name: {"simulated": self.simulated[name].value,
                       "ci95_half_width": self.simulated[name].ci95_half_width,
                       "erlang_c": self.erlang_c[name],
                       "within_ci": self.simulated[name].contains(self.erlang_c[name])}
                for name in STATISTICS}
        return {"servers": self.servers, "utilization": self.utilization,
                "requests": self.requests, "seed": self.seed, "wall_s": self.wall_s,
                "requests_per_wall_s": self.requests / self.wall_s if self.wall_s else None,
                "statistics": rows}


def erlang_c_waits(*, servers: int, utilization: float,
                   service_mean_s: float = 1.0) -> dict[str, float]:
    """The M/M/c waiting-time statistics of :data:`STATISTICS` from Erlang C."""
    mu = 1.0 / service_mean_s
    lam = utilization * servers * mu
    args = (servers, lam, mu)
    return {"mean_wait_s": float(queueing.mean_wait_s(*args)),
            "p_wait": float(queueing.erlang_c(*args)),
            "p50_wait_s": float(queueing.wait_percentile_s(0.5, *args)),
            "p99_wait_s": float(queueing.wait_percentile_s(0.99, *args))}


def _statistics(w: npt.NDArray[np.float64]) -> dict[str, float]:
    p50, p99 = np.percentile(w, (50.0, 99.0))
    return {"mean_wait_s": float(w.mean()), "p_wait": float(np.mean(w > 0)),
            "p50_wait_s": float(p50), "p99_wait_s": float(p99)}


def _t_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with ``df`` degrees of freedom, t >= 0: the finite
    series of Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df)."""
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    term, total = 1.0, 1.0
    for k in range(2 + df % 2, df - 1, 2):  # ratios (k-1)/k of the series' coefficients
        term *= c2 * (k - 1) / k
        total += term
    if df % 2 == 0:
        return math.sin(theta) * total
    tail = math.sin(theta) * math.cos(theta) * total if df > 1 else 0.0
    return 2.0 / math.pi * (theta + tail)


def t_quantile(p: float, df: int) -> float:
    """The p-quantile (0.5 < p < 1) of Student's t with ``df`` >= 1 degrees of freedom.

    Bisection on the exact series up to :data:`T_SERIES_MAX_DF` degrees of freedom, the
    Cornish-Fisher expansion to 1/df⁴ above it (A&S 26.7.5); within 1e-13 of
    ``scipy.stats.t.ppf`` for every df (tested), without importing scipy.stats, which
    costs about a second, or scipy.special, a fifth of that: ``sim mmc`` needs one
    quantile.
    """
    if df > T_SERIES_MAX_DF:
        x = NormalDist().inv_cdf(p)
        g = ((x**3 + x) / 4, (5 * x**5 + 16 * x**3 + 3 * x) / 96,
             (3 * x**7 + 19 * x**5 + 17 * x**3 - 15 * x) / 384,
             (79 * x**9 + 776 * x**7 + 1482 * x**5 - 1920 * x**3 - 945 * x) / 92160)
        return x + sum(gk / float(df) ** (k + 1) for k, gk in enumerate(g))
    target, low, high = 2.0 * p - 1.0, 0.0, 1.0
    while _t_two_sided(high, df) < target:
        low, high = high, 2.0 * high
    while low < (mid := 0.5 * (low + high)) < high:  # until the interval is one ulp
        low, high = (mid, high) if _t_two_sided(mid, df) < target else (low, mid)
    return 0.5 * (low + high)


def batch_means(waits: npt.NDArray[np.float64], *, batches: int) -> dict[str, Estimate]:
    """Each statistic of :data:`STATISTICS` with a 95 % CI from ``batches`` batches.

    The interval is centred on the estimate from all the waits and its half-width is
    the t-quantile times the batches' standard error ("sectioning", Asmussen & Glynn,
    "Stochastic Simulation", §IV.5): for a quantile the whole-run estimate is less
    biased than the mean of the batch quantiles.
    """
    pooled = _statistics(waits)
    per_batch = [_statistics(part) for part in np.array_split(waits, batches)]
    t = t_quantile(0.975, batches - 1)
    return {name: Estimate(value=pooled[name], ci95_half_width=t * float(
                np.std([b[name] for b in per_batch], ddof=1)) / math.sqrt(batches))
            for name in STATISTICS}


def simulate_mmc(*, servers: int, utilization: float, requests: int, seed: int,
                 service_mean_s: float = 1.0, warmup_fraction: float = 0.1,
                 batches: int = 20,
                 progress: Callable[[int, int], None] | None = None) -> MmcComparison:
    """Run M/M/c through the engine and compare its waits with Erlang C.

    Raises InputError for servers < 1, a utilisation outside (0, 1), too few requests
    for the batches, more requests than memory holds (:data:`BYTES_PER_REQUEST`), or
    a warm-up fraction outside [0, 1).
    """
    _check(servers, utilization, requests, warmup_fraction, batches)
    check_memory(requests, available_bytes())
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    r_stream, r_engine = rng.spawn(2)
    rate = utilization * servers / service_mean_s
    stream = make_requests(requests, arrivals=PoissonArrivals(rate_per_s=rate), rng=r_stream,
                           service=Exponential(mean_s=service_mean_s))
    engine = Engine(requests=stream, replicas=[RequestLevelReplica(servers=servers)],
                    rng=r_engine, progress=progress)
    result = engine.run()
    waits = (result.start_s - result.arrival_s)[int(warmup_fraction * requests):]
    simulated = batch_means(waits, batches=batches)
    wall = time.perf_counter() - start
    return MmcComparison(servers=servers, utilization=utilization, requests=requests,
                         seed=seed, simulated=simulated,
                         erlang_c=erlang_c_waits(servers=servers, utilization=utilization,
                                                 service_mean_s=service_mean_s),
                         wall_s=wall)


def available_bytes() -> int:
    """Memory this process may still use (Linux ``MemAvailable``; else all of RAM)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(requests: int, available: int) -> None:
    """InputError, before anything is drawn, for a run that cannot fit in memory."""
    need = requests * BYTES_PER_REQUEST
    if need > available:
        raise InputError(f"requests(={requests:_}) needs about {need / 1e9:.3g} GB "
                         f"({BYTES_PER_REQUEST} bytes per request) and {available / 1e9:.3g} "
                         f"GB is available: at most {available // BYTES_PER_REQUEST:_}")


def _check(servers: int, utilization: float, requests: int, warmup: float,
           batches: int) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise InputError(f"servers(={servers!r}) must be an integer >= 1")
    if not (isinstance(utilization, int | float) and 0 < utilization < 1):
        raise InputError(f"utilization(={utilization!r}) must be in (0, 1): at 1 or "
                         "above the queue grows without bound")
    if not 0 <= warmup < 1:
        raise InputError(f"warmup_fraction(={warmup!r}) must be in [0, 1)")
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 2:
        raise InputError(f"batches(={batches!r}) must be an integer >= 2")
    if isinstance(requests, bool) or not isinstance(requests, int) \
            or requests * (1 - warmup) < 10 * batches:
        raise InputError(f"requests(={requests!r}) must be an integer with at least "
                         f"{10 * batches} after the warm-up")
