"""M/M/c simulated in bounded memory, checked against Erlang C.

Poisson arrivals at rate λ = ρ·c·μ into c servers with exponential service of mean
1/μ and one FIFO queue is exactly the M/M/c queue, whose waiting time W
has P(W > 0) = C(c, a) (Erlang C), E[W] = C/(cμ - λ) and P(W > t) = C·e^{-(cμ-λ)t}
(:mod:`mlfleet.serving.models.queueing`). The simulation's 95 % confidence intervals
come from batch means (Law, "Simulation Modeling and Analysis", 5th ed., §9.5.3): the
first ``warmup_fraction`` of requests is dropped (the queue starts empty), the rest is
cut into ``batches`` consecutive batches, and each statistic's CI is a t-interval
from the spread of its per-batch values (see :func:`batch_means`).

The run is streamed in chunks of :data:`CHUNK` requests. The FIFO state one chunk
hands the next is the c servers' next-free times (the recursion of the engine's FIFO
lane, ``request_lane._serve_fifo``), and the draws come from the generators
``make_requests`` uses, in the same order, so the waits are the engine's one-shot
run's bit for bit (tested). The statistics are accumulated per batch
(:mod:`mlfleet.serving.sim.streaming_stats`: mean and P(wait > 0) exact, percentiles
within :data:`PERCENTILE_RELATIVE_ERROR`), so memory does not grow with the request
count, and a Ctrl-C is seen within one chunk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from heapq import heapreplace
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError
from mlfleet.serving.models import queueing
from mlfleet.serving.sim.streaming_stats import BatchedSummary, LogBins, Summary

STATISTICS = ("mean_wait_s", "p_wait", "p50_wait_s", "p99_wait_s")
"""What is compared: mean wait, P(wait > 0), median and 99th percentile of the wait."""
T_SERIES_MAX_DF = 1000
"""Degrees of freedom up to which :func:`t_quantile` sums the exact series."""
CHUNK = 1 << 16
"""Requests simulated per chunk: a few tens of milliseconds of Python, so a Ctrl-C is
seen well within a second, and a few MB of arrays."""
PERCENTILE_RELATIVE_ERROR = 1e-3
"""Largest relative error of a simulated percentile for waits in [1e-9, 1e9) mean
services (the histogram's bin half-width, :class:`LogBins`)."""
MAX_REQUESTS = 10**11
"""Largest request count: at about 10⁶ requests per wall-second that is more than a
day. Memory no longer grows with the count; this is a sanity cap."""
ENGINE_BYTES_PER_REQUEST = 400
"""Peak memory per request through the engine (its columns and the result arrays):
354 MB for 10⁶ requests and 0.98 GB for 3·10⁶ (``benchmarks/bench_sim_mmc.py``), rounded up."""
Floats = npt.NDArray[np.float64]


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
    batches: int = 20
    """Batches of the batch-means intervals."""
    service_mean_s: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        rows = {name: {"simulated": self.simulated[name].value,
                       "ci95_half_width": self.simulated[name].ci95_half_width,
                       "erlang_c": self.erlang_c[name],
                       "within_ci": self.simulated[name].contains(self.erlang_c[name])}
                for name in STATISTICS}
        return {"servers": self.servers, "utilization": self.utilization,
                "requests": self.requests, "seed": self.seed, "wall_s": self.wall_s,
                "requests_per_wall_s": self.requests / self.wall_s if self.wall_s else None,
                "statistics": judge_statistics(rows, requests=self.requests,
                                               batches=self.batches,
                                               service_mean_s=self.service_mean_s)}


MIN_WAITS_PER_BATCH = 10
"""Requests that waited, per batch, below which a run is too short to judge a wait
statistic whose interval misses Erlang C."""


def judge_statistics(rows: dict[str, dict[str, Any]], *, requests: int, batches: int,
                     service_mean_s: float = 1.0) -> dict[str, dict[str, Any]]:
    """``sim mmc``'s rows with values below resolution read as zero on both sides
    (:func:`mlfleet.serving.models.queueing.resolved`) and ``within_ci`` null, with a
    reason, where the run is too short for its interval: the batch means do not vary,
    or fewer than :data:`MIN_WAITS_PER_BATCH` requests per batch waited."""
    waited = rows["p_wait"]["simulated"] * requests
    out: dict[str, dict[str, Any]] = {}
    for name, row in rows.items():
        step = queueing.PROBABILITY_RESOLUTION if name == "p_wait" \
            else queueing.RELATIVE_TIME_RESOLUTION * service_mean_s
        sim, erl = queueing.resolved(row["simulated"], step), queueing.resolved(row["erlang_c"], step)
        half = row["ci95_half_width"]
        judged: dict[str, Any] = {**row, "simulated": sim, "erlang_c": erl,
                                  "within_ci": sim - half <= erl <= sim + half}
        if not judged["within_ci"] and (half == 0 or waited < MIN_WAITS_PER_BATCH * batches):
            judged["within_ci"] = None
            judged["within_ci_null_reason"] = (
                f"about {waited:.0f} of {requests:_} requests waited "
                f"(fewer than {MIN_WAITS_PER_BATCH} per batch of {batches})"
                if half else "the batch means do not vary (no request waited)")
        out[name] = judged
    return out


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
    return _sectioned(_statistics(waits),
                      [_statistics(part) for part in np.array_split(waits, batches)])


def streamed_batch_means(summary: BatchedSummary) -> dict[str, Estimate]:
    """:func:`batch_means` from per-batch summaries: the same mean and P(wait > 0) (to
    rounding: sums are correctly rounded), percentiles read from the histograms."""
    pooled = _summary_statistics(summary.pooled())
    per_batch = [_summary_statistics(part) for part in summary.parts]
    return _sectioned(pooled, per_batch)


def _summary_statistics(s: Summary) -> dict[str, float]:
    return {"mean_wait_s": s.mean(), "p_wait": s.fraction_positive(),
            "p50_wait_s": s.percentile(50.0), "p99_wait_s": s.percentile(99.0)}


def _sectioned(pooled: dict[str, float],
               per_batch: list[dict[str, float]]) -> dict[str, Estimate]:
    batches = len(per_batch)
    t = t_quantile(0.975, batches - 1)
    return {name: Estimate(value=pooled[name], ci95_half_width=t * float(
                np.std([b[name] for b in per_batch], ddof=1)) / math.sqrt(batches))
            for name in STATISTICS}


def fifo_starts(arrival_s: list[float], service_s: list[float],
                free_s: list[float]) -> list[float]:
    """Start time (s) of each request of a FIFO queue in front of identical servers;
    ``free_s`` is the heap of the servers' next-free times, updated in place."""
    starts = [0.0] * len(arrival_s)
    for i, (t, svc) in enumerate(zip(arrival_s, service_s, strict=True)):
        earliest = free_s[0]
        begin = t if t > earliest else earliest
        starts[i] = begin
        heapreplace(free_s, begin + svc)
    return starts


def mmc_waits(*, servers: int, rate_per_s: float, service_mean_s: float, requests: int,
              seed: int, chunk: int = CHUNK) -> Iterator[Floats]:
    """The waits (s) of an M/M/c run, ``chunk`` requests at a time, drawn as
    :func:`make_requests` draws them for ``Engine`` (the seed's first spawned child,
    its first and fourth children for the gaps and the services)."""
    r_time, _, _, r_service = np.random.default_rng(seed).spawn(2)[0].spawn(4)
    free_s = [-math.inf] * servers
    last_s = np.zeros(1)
    for low in range(0, requests, chunk):
        n = min(chunk, requests - low)
        gaps_s = r_time.exponential(1.0 / rate_per_s, n)
        # np.cumsum adds in order, so carrying the last arrival keeps the sums exact
        arrival_s = np.cumsum(np.concatenate((last_s, gaps_s)))[1:] if low else \
            np.cumsum(gaps_s)
        last_s = arrival_s[-1:]
        service_s = r_service.exponential(service_mean_s, n)
        starts = fifo_starts(arrival_s.tolist(), service_s.tolist(), free_s)
        yield np.array(starts) - arrival_s


def simulate_mmc(*, servers: int, utilization: float, requests: int, seed: int,
                 service_mean_s: float = 1.0, warmup_fraction: float = 0.1,
                 batches: int = 20, engine: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> MmcComparison:
    """Simulate M/M/c in bounded memory and compare its waits with Erlang C.

    ``engine``: run it through the serving engine on the kernel instead (the same waits,
    bit for bit, every request kept in memory, exact percentiles): slower, and refused
    up front when the requests would not fit in memory.

    Raises InputError for servers < 1, a utilisation outside (0, 1), too few requests
    for the batches, more than :data:`MAX_REQUESTS`, a warm-up fraction outside
    [0, 1), or (``engine``) more requests than memory holds.
    """
    _check(servers, utilization, requests, warmup_fraction, batches)
    if engine:
        return _simulate_on_engine(servers=servers, utilization=utilization,
                                   requests=requests, seed=seed,
                                   service_mean_s=service_mean_s,
                                   warmup_fraction=warmup_fraction, batches=batches,
                                   progress=progress)
    start = time.perf_counter()
    skip = int(warmup_fraction * requests)
    bins = LogBins(low=1e-9 * service_mean_s, high=1e9 * service_mean_s,
                   relative_error=PERCENTILE_RELATIVE_ERROR)
    summary = BatchedSummary(total=requests - skip, batches=batches, bins=bins)
    done = 0
    for waits in mmc_waits(servers=servers, rate_per_s=utilization * servers / service_mean_s,
                           service_mean_s=service_mean_s, requests=requests, seed=seed):
        summary.add(waits[max(0, skip - done):])
        done += len(waits)
        if progress is not None:
            progress(done, requests)
    simulated = streamed_batch_means(summary)
    return MmcComparison(servers=servers, utilization=utilization, requests=requests,
                         seed=seed, simulated=simulated,
                         erlang_c=erlang_c_waits(servers=servers, utilization=utilization,
                                                 service_mean_s=service_mean_s),
                         wall_s=time.perf_counter() - start, batches=batches,
                         service_mean_s=service_mean_s)


def _simulate_on_engine(*, servers: int, utilization: float, requests: int, seed: int,
                        service_mean_s: float, warmup_fraction: float, batches: int,
                        progress: Callable[[int, int], None] | None) -> MmcComparison:
    """:func:`simulate_mmc` through the serving engine: one request-level replica with
    ``servers`` servers, every request's record kept."""
    from mlfleet.host_memory import available_bytes
    from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
    from mlfleet.serving.sim.engine import Engine
    from mlfleet.serving.sim.memory import check_memory
    from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica

    check_memory(requests, available_bytes(), bytes_per_request=ENGINE_BYTES_PER_REQUEST)
    start = time.perf_counter()
    r_stream, r_engine = np.random.default_rng(seed).spawn(2)
    rate = utilization * servers / service_mean_s
    stream = make_requests(requests, arrivals=PoissonArrivals(rate_per_s=rate), rng=r_stream,
                           service=Exponential(mean_s=service_mean_s))
    result = Engine(requests=stream, replicas=[RequestLevelReplica(servers=servers)],
                    rng=r_engine, progress=progress).run()
    waits = (result.start_s - result.arrival_s)[int(warmup_fraction * requests):]
    return MmcComparison(servers=servers, utilization=utilization, requests=requests,
                         seed=seed, simulated=batch_means(waits, batches=batches),
                         erlang_c=erlang_c_waits(servers=servers, utilization=utilization,
                                                 service_mean_s=service_mean_s),
                         wall_s=time.perf_counter() - start, batches=batches,
                         service_mean_s=service_mean_s)


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
    if isinstance(requests, int) and not isinstance(requests, bool) \
            and requests > MAX_REQUESTS:
        raise InputError(f"requests(={requests:_}) must be at most {MAX_REQUESTS:_}: at "
                         "about 10⁶ requests per second that is more than a day")
    if isinstance(requests, bool) or not isinstance(requests, int) \
            or requests * (1 - warmup) < 10 * batches:
        raise InputError(f"requests(={requests!r}) must be an integer with at least "
                         f"{10 * batches} after the warm-up")
