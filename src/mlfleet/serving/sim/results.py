"""What a simulation run produced: per-request records as numpy arrays, and the metrics.

Latency metrics (all seconds, per answered request — completed by a replica, or
coalesced into a request that was):

* TTFT — time to first token: first_token - arrival (for a non-LLM request, its
  response time);
* TPOT — time per output token after the first: (finish - first_token)/(output - 1),
  for requests with more than one output token;
* end-to-end: finish - arrival, split into queue (start - arrival) and service
  (finish - start) time;

reported as mean, p50, p99 and p99.9 (numpy ``percentile``, linear interpolation). A
percentile p needs at least 1 / (1 - p) samples (2 for p50, 100 for p99, 1000 for
p99.9; :func:`min_samples`): with fewer, the JSON holds null and a reason in its place.
Throughput is answered requests (and output tokens) per second over the run's span
(first arrival to last finish); goodput counts only requests meeting every SLO given.
Queue and service times exist only for requests a replica served.
Utilisation is each replica's busy time over its capacity × the span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError

STATUS = ("pending", "done", "rejected", "failed", "coalesced")
"""Request status names; ``SimResult.status`` holds indices into this tuple. 'coalesced':
answered with the response of an identical request in flight (never dispatched)."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
PERCENTILES = (50.0, 99.0, 99.9)
_PERCENTILE_KEYS = {50.0: "p50_s", 99.0: "p99_s", 99.9: "p999_s"}
GROWTH_MIN_REQUESTS = 300
"""Answered requests below which :meth:`SimResult.latency_growth` is not estimated (each
tenth needs enough requests for its median)."""


@dataclass(frozen=True, kw_only=True)
class Slo:
    """Per-request latency objectives (None: not part of the goodput test)."""

    e2e_s: float | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("e2e_s", "ttft_s", "tpot_s"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(f"slo {name}(={value!r}) must be a finite number > 0")


def min_samples(percentile: float) -> int:
    """Fewest samples whose ``percentile`` (in %, 0 < p < 100) is not just the maximum:
    1 / (1 - p/100), so p99.9 needs 1000."""
    return math.ceil(round(100.0 / (100.0 - percentile), 9))


@dataclass(frozen=True, kw_only=True)
class LatencyStats:
    """Mean and percentiles of one latency over the completed requests (NaN if none)."""

    mean_s: float
    p50_s: float
    p99_s: float
    p999_s: float
    samples: int | None = None
    """How many values the figures come from (None: not counted)."""

    @classmethod
    def of(cls, values: FloatArray) -> LatencyStats:
        v = values[~np.isnan(values)]
        if v.size == 0:
            return cls(mean_s=math.nan, p50_s=math.nan, p99_s=math.nan, p999_s=math.nan,
                       samples=0)
        p50, p99, p999 = np.percentile(v, PERCENTILES)
        return cls(mean_s=float(v.mean()), p50_s=float(p50), p99_s=float(p99),
                   p999_s=float(p999), samples=int(v.size))

    def too_few_samples(self, percentile: float) -> str | None:
        """Why ``percentile`` (one of :data:`PERCENTILES`) is not reported, or None."""
        if self.samples is None or self.samples == 0 or self.samples >= min_samples(percentile):
            return None
        return (f"{self.samples} samples; p{percentile:g} needs at least "
                f"{min_samples(percentile)}")

    def as_dict(self) -> dict[str, Any]:
        """Mean, percentiles and sample count; null and ``<key>_null_reason`` for a
        percentile with too few samples."""
        out: dict[str, Any] = {"mean_s": self.mean_s, "samples": self.samples}
        for p in PERCENTILES:
            key = _PERCENTILE_KEYS[p]
            reason = self.too_few_samples(p)
            out[key] = getattr(self, key) if reason is None else None
            if reason is not None:
                out[key + "_null_reason"] = reason
        return out


@dataclass(frozen=True, kw_only=True)
class ServingMetrics:
    """The summary of a run (or of one group / selection of its requests)."""

    requests: int
    completed: int
    """Answered requests: served by a replica, or coalesced (counted in ``coalesced``)."""
    coalesced: int
    rejected: int
    failed: int
    span_s: float
    """First arrival to last finish."""
    throughput_per_s: float
    tokens_per_s: float
    """Output tokens of completed requests per second."""
    goodput_per_s: float
    """Completed requests meeting every SLO, per second (= throughput without an SLO)."""
    slo_attainment: float
    """Fraction of all requests (not only completed) that met the SLO."""
    ttft: LatencyStats
    tpot: LatencyStats
    e2e: LatencyStats
    queue: LatencyStats
    service: LatencyStats
    utilization: float
    """Mean busy fraction of the replicas."""
    preemptions: int
    failed_over: int
    """Requests dispatched more than once (a replica died under them)."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.as_dict() if isinstance(value, LatencyStats) else value
        return out


@dataclass(frozen=True, kw_only=True)
class SimResult:
    """Per-request records (one row per request, shadow copies last) and replica totals."""

    arrival_s: FloatArray
    start_s: FloatArray
    first_token_s: FloatArray
    finish_s: FloatArray
    prompt_tokens: IntArray
    output_tokens: IntArray
    replica: IntArray
    """Replica that served (or last held) the request; -1 if never dispatched."""
    status: IntArray
    """Index into :data:`STATUS`."""
    attempts: IntArray
    preemptions: IntArray
    shadow_of: IntArray
    """Id of the request this is a shadow copy of; -1 for real requests."""
    replica_group: tuple[str, ...]
    """Traffic group of each replica."""
    replica_kind: tuple[str, ...]
    replica_busy_s: FloatArray
    replica_capacity: IntArray

    # ------------------------------------------------------------ per-request latencies

    @property
    def done(self) -> npt.NDArray[np.bool_]:
        """Served to completion by a replica."""
        done: npt.NDArray[np.bool_] = self.status == STATUS.index("done")
        return done

    @property
    def answered(self) -> npt.NDArray[np.bool_]:
        """Done, or coalesced into a request that was: the user got a response."""
        answered: npt.NDArray[np.bool_] = self.done | (self.status == STATUS.index("coalesced"))
        return answered

    @property
    def ttft_s(self) -> FloatArray:
        return np.where(self.answered, self.first_token_s - self.arrival_s, np.nan)

    @property
    def tpot_s(self) -> FloatArray:
        steps = self.output_tokens - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.answered & (steps > 0),
                            (self.finish_s - self.first_token_s) / steps, np.nan)

    @property
    def e2e_s(self) -> FloatArray:
        return np.where(self.answered, self.finish_s - self.arrival_s, np.nan)

    @property
    def queue_s(self) -> FloatArray:
        return np.where(self.done, self.start_s - self.arrival_s, np.nan)

    @property
    def service_s(self) -> FloatArray:
        return np.where(self.done, self.finish_s - self.start_s, np.nan)

    def group_of_request(self) -> npt.NDArray[np.str_]:
        """Traffic group of the replica each request went to ('' if none)."""
        groups = np.array([*self.replica_group, ""])
        return groups[np.where(self.replica >= 0, self.replica, len(self.replica_group))]

    # ------------------------------------------------------------ summaries

    def meets(self, slo: Slo | None) -> npt.NDArray[np.bool_]:
        """Answered requests that meet every objective of ``slo``."""
        ok = self.answered.copy()
        if slo is None:
            return ok
        for limit, values in ((slo.e2e_s, self.e2e_s), (slo.ttft_s, self.ttft_s),
                              (slo.tpot_s, self.tpot_s)):
            if limit is not None:
                ok &= np.nan_to_num(values, nan=0.0) <= limit
        return ok

    def summary(self, *, slo: Slo | None = None, group: str | None = None,
                include_shadow: bool = False) -> ServingMetrics:
        """Metrics over the real requests (or one replica group's; shadows on request)."""
        mask = np.ones(self.arrival_s.size, dtype=bool) if include_shadow \
            else self.shadow_of < 0
        replicas = np.ones(len(self.replica_group), dtype=bool)
        if group is not None:
            mask &= self.group_of_request() == group
            replicas = np.array([g == group for g in self.replica_group], dtype=bool)
        return _summarise(self, mask, replicas, slo)

    def latency_growth(self) -> float:
        """Median end-to-end latency of the last tenth of the answered real requests (by
        arrival) over that of the first tenth: about 1 for a stable system, growing with
        the run for an overloaded one; NaN with fewer than :data:`GROWTH_MIN_REQUESTS`."""
        real = self.answered & (self.shadow_of < 0)
        if int(real.sum()) < GROWTH_MIN_REQUESTS:
            return math.nan
        e2e = self.e2e_s[real][np.argsort(self.arrival_s[real], kind="stable")]
        tenth = e2e.size // 10
        early, late = float(np.median(e2e[:tenth])), float(np.median(e2e[-tenth:]))
        return late / early if early > 0 else math.inf

    def histogram(self, values: FloatArray, *, bins: int = 50) -> tuple[FloatArray, FloatArray]:
        """(counts, edges) of ``values`` (e.g. ``result.e2e_s``) on log-spaced bins."""
        v = values[np.isfinite(values) & (values > 0)]
        if v.size == 0:
            return np.zeros(bins), np.zeros(bins + 1)
        edges = np.geomspace(v.min(), v.max() * (1 + 1e-12), bins + 1)
        counts, _ = np.histogram(v, bins=edges)
        return counts.astype(np.float64), edges


def _summarise(res: SimResult, mask: npt.NDArray[np.bool_], replicas: npt.NDArray[np.bool_],
               slo: Slo | None) -> ServingMetrics:
    done = res.answered & mask
    n_done = int(done.sum())
    finished = res.finish_s[mask & ~np.isnan(res.finish_s)]
    start = float(res.arrival_s[mask].min()) if mask.any() else 0.0
    span = float(finished.max()) - start if finished.size else 0.0
    rate = (lambda x: x / span) if span > 0 else (lambda x: math.nan)
    good = res.meets(slo) & mask
    busy = res.replica_busy_s[replicas] / np.maximum(res.replica_capacity[replicas], 1)
    util = float(np.mean(busy) / span) if span > 0 and busy.size else math.nan

    def stats(values: FloatArray) -> LatencyStats:
        return LatencyStats.of(values[done])

    return ServingMetrics(
        requests=int(mask.sum()), completed=n_done,
        coalesced=int((mask & (res.status == STATUS.index("coalesced"))).sum()),
        rejected=int((mask & (res.status == STATUS.index("rejected"))).sum()),
        failed=int((mask & (res.status == STATUS.index("failed"))).sum()),
        span_s=span, throughput_per_s=rate(n_done),
        tokens_per_s=rate(float(res.output_tokens[done].sum())),
        goodput_per_s=rate(float(good.sum())),
        slo_attainment=float(good.sum() / max(int(mask.sum()), 1)),
        ttft=stats(res.ttft_s), tpot=stats(res.tpot_s), e2e=stats(res.e2e_s),
        queue=stats(res.queue_s), service=stats(res.service_s), utilization=util,
        preemptions=int(res.preemptions[mask].sum()),
        failed_over=int((res.attempts[mask] > 1).sum()))
