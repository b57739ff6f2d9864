"""Streaming statistics of a load-generator run, in memory that does not grow with it.

A run of ``rate × duration`` requests cannot keep one record per request (10⁶ req/s for
a second of records was 4.3 GB). :class:`LoadStats` keeps counters and exact sums, and
one :class:`LogHistogram` per latency: fixed logarithmic bins from 1 µs to 10⁵ s, so a
percentile read from it is within ``RELATIVE_ERROR`` (1 %) of the exact nearest-rank
percentile of the same samples (the DDSketch bound, Masson et al., VLDB 2019), whatever
the run's length. Means are exact. :func:`summarize` is the exact report of a list of
records (calibration keeps its records); both produce a :class:`LoadReport`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlfleet.serving.sim.results import PERCENTILES, LatencyStats

if TYPE_CHECKING:
    from mlfleet.serving.loadgen_spec import LoadSpec, RequestRecord

RELATIVE_ERROR = 0.01
"""Bound on the relative error of a histogram percentile (values in [1 µs, 10⁵ s])."""
MIN_S = 1e-6
MAX_S = 1e5
DROPPED = "dropped"
"""Status of a scheduled arrival the client did not send (over its in-flight cap, or too
late to send on schedule): counted, never queued."""


class LogHistogram:
    """Counts in bins ``(γ^(i-1), γ^i]`` with ``γ = (1+α)/(1-α)``; mergeable by addition.

    Values below ``MIN_S`` (including 0 and negative clock noise) count in bin 0 and read
    back as 0; values above ``MAX_S`` count in an overflow bin and read back as ``MAX_S``.
    """

    def __init__(self, relative_error: float = RELATIVE_ERROR) -> None:
        self._log_gamma = math.log((1 + relative_error) / (1 - relative_error))
        self._offset = math.floor(math.log(MIN_S) / self._log_gamma)
        top = math.ceil(math.log(MAX_S) / self._log_gamma) - self._offset
        self.counts = np.zeros(top + 2, dtype=np.int64)  # + underflow and overflow bins
        self.total = 0
        self.sum_s = 0.0

    def add(self, value_s: float) -> None:
        """Count one sample (seconds); NaN is ignored."""
        if math.isnan(value_s):
            return
        self.total += 1
        self.sum_s += value_s
        if value_s < MIN_S:
            self.counts[0] += 1
        elif value_s > MAX_S:
            self.counts[-1] += 1
        else:
            index = math.ceil(math.log(value_s) / self._log_gamma) - self._offset
            self.counts[max(index, 1)] += 1

    def merge(self, other: LogHistogram) -> None:
        """Add ``other``'s counts (same relative error) into this one."""
        self.counts += other.counts
        self.total += other.total
        self.sum_s += other.sum_s

    def quantile(self, q: float) -> float:
        """The nearest-rank ``q``-quantile (0 < q <= 1) within the relative error; NaN if empty."""
        if self.total == 0:
            return math.nan
        rank = max(1, math.ceil(q * self.total))
        index = int(np.searchsorted(np.cumsum(self.counts), rank))
        if index == 0:
            return 0.0
        if index == self.counts.size - 1:
            return MAX_S
        gamma = math.exp(self._log_gamma)
        upper = math.exp((index + self._offset) * self._log_gamma)
        return 2 * upper / (gamma + 1)  # the bin's point of least relative error

    def stats(self) -> LatencyStats:
        """Mean (exact) and the report's percentiles (within the relative error)."""
        if self.total == 0:
            return LatencyStats.of(np.array([], dtype=np.float64))
        p50, p99, p999 = (self.quantile(p / 100) for p in PERCENTILES)
        return LatencyStats(mean_s=self.sum_s / self.total, p50_s=p50, p99_s=p99, p999_s=p999)


@dataclass(frozen=True, kw_only=True)
class LoadReport:
    """The simulator's metric set (``serving/sim/results.py``), measured at the client.

    Latencies cover successful (200) requests; ``e2e`` is from the scheduled arrival to
    the last byte, ``ttft``/``tpot`` are measured on the streamed tokens (generate).
    """

    route: str
    requested_rps: float
    """The mean arrival rate asked for (``--rate``)."""
    offered_rps: float
    """Requests actually sent per second of the run: below ``requested_rps`` when the
    client dropped arrivals it could not send on schedule."""
    duration_s: float
    requests: int
    """Scheduled arrivals (sent or dropped)."""
    dropped: int
    """Scheduled arrivals the client did not send (in-flight cap reached, or too late)."""
    completed: int
    """200 responses."""
    rejected: int
    """429 responses (shed by admission control)."""
    failed: int
    """Everything else that was sent: other statuses, timeouts, transport errors."""
    status_counts: dict[str, int]
    throughput_per_s: float
    """Completed requests per second of offered load."""
    goodput_per_s: float
    """Completed requests within the SLO per second (= throughput without an SLO)."""
    tokens_per_s: float
    """Generated tokens of completed requests per second (generate)."""
    slo_s: float | None
    """Latency SLO (generate: on TTFT)."""
    slo_attainment: float
    """Fraction of all scheduled requests that completed within the SLO."""
    e2e: LatencyStats
    ttft: LatencyStats
    tpot: LatencyStats
    client_lag_p99_s: float
    """How late the client sent (sent - scheduled), p99: should be far below latencies."""
    percentile_relative_error: float = 0.0
    """Bound on the percentiles' relative error: 0 when exact (from records), else the
    streaming histogram's ``RELATIVE_ERROR``."""
    attempts: int = 0
    """HTTP attempts sent, retries included: the load the server saw."""
    attempted_rps: float = 0.0
    """Attempts per second of the run (``offered_rps`` plus retries)."""
    retries: int = 0
    """Attempts after a request's first (within ``--retries`` and the retry budget)."""
    retry_budget_exhausted: int = 0
    """Requests that wanted a retry the client's retry budget refused."""
    served_by_counts: dict[str, int] = field(default_factory=dict)
    """Final replies by their ``X-Served-By`` header (``primary`` or a fallback tier)."""
    fallbacks: int = 0
    """Successful (200) replies a fallback tier served, not the primary model."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class RetryTotals:
    """Retries, budget refusals and who served the replies, over a run's requests."""

    retries: int = 0
    exhausted: int = 0
    served_by: Counter[str] = field(default_factory=Counter)
    fallbacks: int = 0

    def add(self, rec: RequestRecord) -> None:
        self.retries += rec.retries
        self.exhausted += rec.budget_denied
        if rec.served_by:
            self.served_by[rec.served_by] += 1
            self.fallbacks += rec.status == "200" and rec.served_by != "primary"


class LoadStats:
    """Accumulates a run's report one finished (or dropped) request at a time."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.counts: Counter[str] = Counter()
        self.good = 0
        self.tokens = 0
        self.e2e, self.ttft, self.tpot, self.lag = (LogHistogram() for _ in range(4))
        self.retry = RetryTotals()

    def add(self, rec: RequestRecord) -> None:
        """Count one request; ``rec`` can be dropped afterwards."""
        self.counts[rec.status] += 1
        self.retry.add(rec)
        if not math.isnan(rec.sent_s):
            self.lag.add(rec.sent_s - rec.intended_s)
        if rec.status != "200":
            return
        self.e2e.add(rec.latency_s)
        self.ttft.add(rec.ttft_s)
        if rec.tokens > 1:
            self.tpot.add(rec.tpot_s)
        self.tokens += rec.tokens
        slo_metric_s = rec.ttft_s if self.spec.route == "generate" else rec.latency_s
        self.good += self.spec.slo_s is None or slo_metric_s <= self.spec.slo_s

    @property
    def scheduled(self) -> int:
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        return self.scheduled - self.counts[DROPPED]

    def report(self) -> LoadReport:
        """The report of the requests added so far."""
        return _report(self.spec, self.counts, good=self.good, tokens=self.tokens,
                       e2e=self.e2e.stats(), ttft=self.ttft.stats(), tpot=self.tpot.stats(),
                       lag_p99_s=self.lag.quantile(0.99), error=RELATIVE_ERROR,
                       retry=self.retry)


def summarize(records: list[RequestRecord], spec: LoadSpec) -> LoadReport:
    """The exact report of one run's records."""
    ok = [r for r in records if r.status == "200"]
    ttft = np.array([r.ttft_s for r in ok], dtype=np.float64)
    e2e = np.array([r.latency_s for r in ok], dtype=np.float64)
    slo_metric = ttft if spec.route == "generate" else e2e
    good = int(np.sum(slo_metric <= spec.slo_s)) if spec.slo_s is not None else len(ok)
    lag = np.array([r.sent_s - r.intended_s for r in records if not math.isnan(r.sent_s)])
    retry = RetryTotals()
    for rec in records:
        retry.add(rec)
    return _report(
        spec, Counter(r.status for r in records), good=good, tokens=sum(r.tokens for r in ok),
        e2e=LatencyStats.of(e2e), ttft=LatencyStats.of(ttft),
        tpot=LatencyStats.of(np.array([r.tpot_s for r in ok if r.tokens > 1], dtype=np.float64)),
        lag_p99_s=float(np.percentile(lag, 99)) if lag.size else math.nan, error=0.0,
        retry=retry)


def _report(spec: LoadSpec, counts: Counter[str], *, good: int, tokens: int, e2e: LatencyStats,
            ttft: LatencyStats, tpot: LatencyStats, lag_p99_s: float, error: float,
            retry: RetryTotals) -> LoadReport:
    scheduled, dropped = sum(counts.values()), counts.get(DROPPED, 0)
    attempts = scheduled - dropped + retry.retries
    completed, rejected = counts.get("200", 0), counts.get("429", 0)
    return LoadReport(
        route=spec.route, requested_rps=spec.rate_rps,
        offered_rps=(scheduled - dropped) / spec.duration_s, duration_s=spec.duration_s,
        requests=scheduled, dropped=dropped, completed=completed, rejected=rejected,
        failed=scheduled - dropped - completed - rejected, status_counts=dict(sorted(counts.items())),
        throughput_per_s=completed / spec.duration_s, goodput_per_s=good / spec.duration_s,
        tokens_per_s=tokens / spec.duration_s, slo_s=spec.slo_s,
        slo_attainment=good / scheduled if scheduled else math.nan,
        e2e=e2e, ttft=ttft, tpot=tpot, client_lag_p99_s=lag_p99_s,
        percentile_relative_error=error, attempts=attempts,
        attempted_rps=attempts / spec.duration_s, retries=retry.retries,
        retry_budget_exhausted=retry.exhausted, served_by_counts=dict(sorted(retry.served_by.items())),
        fallbacks=retry.fallbacks)


def format_report(report: LoadReport) -> str:
    """A short human-readable rendering."""
    ms = 1e3

    def stats(name: str, s: LatencyStats) -> str:
        return (f"{name} p50 {s.p50_s * ms:.2f} ms, p99 {s.p99_s * ms:.2f} ms, "
                f"p99.9 {s.p999_s * ms:.2f} ms, mean {s.mean_s * ms:.2f} ms")

    lines = [
        f"route {report.route}: requested {report.requested_rps:g} req/s for "
        f"{report.duration_s:g} s, offered {report.offered_rps:.1f} req/s; "
        f"{report.requests} scheduled, {report.dropped} dropped by the client",
        "status: " + ", ".join(f"{k}={v}" for k, v in report.status_counts.items()),
        f"throughput {report.throughput_per_s:.1f} req/s, goodput {report.goodput_per_s:.1f} req/s"
        + (f" (SLO {report.slo_s * ms:g} ms, attained by {report.slo_attainment:.1%})"
           if report.slo_s is not None else ""),
        stats("latency", report.e2e),
    ]
    if report.route == "generate":
        lines += [stats("TTFT", report.ttft), stats("TPOT", report.tpot),
                  f"tokens {report.tokens_per_s:.1f}/s"]
    if report.retries or report.retry_budget_exhausted:
        lines.append(f"retries {report.retries} ({report.attempted_rps:.1f} attempts/s), "
                     f"retry budget exhausted for {report.retry_budget_exhausted} requests")
    if report.fallbacks:
        lines.append(f"fallback replies {report.fallbacks}: " + ", ".join(
            f"{k}={v}" for k, v in report.served_by_counts.items()))
    lines.append(f"client lag p99 {report.client_lag_p99_s * ms:.2f} ms")
    if report.percentile_relative_error:
        lines.append(f"percentiles within {report.percentile_relative_error:.0%} (log histogram)")
    return "\n".join(lines)
