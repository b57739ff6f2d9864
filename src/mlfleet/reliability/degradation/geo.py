"""Geographic redundancy: N regions with outages, DNS/GSLB failover, the latency of a far region.

Clients sit next to region i (equal shares). A region fails and recovers as an
alternating renewal process (:mod:`.outages`), independently of the others. After the
region serving a client goes down, the client is unserved for ``failover_s`` (health
check detection + DNS TTL), then served by the nearest region that is up.

* **active-active**: each client is served by its own region while it is up;
* **active-passive**: every client is served by region 0 (the primary); the others are
  standbys.

Latency = service latency (lognormal, median and σ of its log) + the client's RTT to the
serving region. Availability closed form for one client whose serving region has
unavailability p and outage rate λ: ``U = λ·MTTR·(1 − e^(−W/MTTR)) + λ·MTTR·e^(−W/MTTR)·p^(N−1)``
(the failover window W, then all other regions down: independence, one failover per
outage, second-order overlaps neglected). Without failover U = p.

The default RTTs are stated assumptions, round numbers of the order of public
inter-region ping medians between US-East, US-West and EU-West cloud regions (e.g. the
tables at cloudping.co): 65, 75 and 130 ms, and 5 ms from a client to its own region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq
from scipy.stats import norm

from mlfleet.checks import non_negative, one_of, positive
from mlfleet.reliability.degradation.outages import outage_edges, state_at, unavailability
from mlfleet.reliability.errors import ReliabilityInputError as Bad

MODES = ("active-active", "active-passive")
DEFAULT_RTT_S = ((0.005, 0.065, 0.075), (0.065, 0.005, 0.130), (0.075, 0.130, 0.005))
"""us-east, us-west, eu-west (stated assumptions, see the module doc)."""


@dataclass(frozen=True, kw_only=True)
class GeoSpec:
    """Regions, their failures, the failover and the latencies."""

    rtt_s: tuple[tuple[float, ...], ...] = DEFAULT_RTT_S
    """RTT from clients of region i (row) to region j (column), seconds."""
    mtbf_s: float = 7 * 86400.0
    mttr_s: float = 2 * 3600.0
    failover_s: float = 300.0
    """Detection + DNS TTL before clients move (0: instant)."""
    mode: str = "active-active"
    failover: bool = True
    """False: clients wait for their region to come back."""
    service_median_s: float = 0.050
    service_sigma: float = 0.5
    regions: int = field(init=False)

    def __post_init__(self) -> None:
        rtt = np.asarray(self.rtt_s, dtype=np.float64)
        if rtt.ndim != 2 or rtt.shape[0] != rtt.shape[1] or rtt.shape[0] < 1 \
                or not np.all(np.isfinite(rtt)) or np.any(rtt < 0):
            raise Bad(f"rtt_s(={self.rtt_s!r}) must be a square table of finite RTTs >= 0")
        object.__setattr__(self, "regions", rtt.shape[0])
        positive("mtbf_s", self.mtbf_s, error=Bad)
        positive("mttr_s", self.mttr_s, error=Bad)
        non_negative("failover_s", self.failover_s, error=Bad)
        one_of("mode", self.mode, MODES, error=Bad)
        positive("service_median_s", self.service_median_s, error=Bad)
        positive("service_sigma", self.service_sigma, error=Bad)

    def home(self, client: int) -> int:
        """The region serving ``client`` while it is up."""
        return client if self.mode == "active-active" else 0

    def backups(self, client: int) -> list[int]:
        """Regions the client fails over to, nearest to the client first."""
        home = self.home(client)
        return sorted((j for j in range(self.regions) if j != home),
                      key=lambda j: (self.rtt_s[client][j], j))


@dataclass(frozen=True, kw_only=True)
class GeoOutcome:
    """Availability and latency of the fleet as its clients see it."""

    availability: float
    remote_share: float
    """Share of answered requests served by a region other than the usual one."""
    p50_s: float
    p99_s: float


def _serving_weights(spec: GeoSpec) -> tuple[float, list[tuple[float, float]]]:
    """(unavailability, [(weight, RTT)] of answered requests) averaged over clients."""
    p = unavailability(mtbf_s=spec.mtbf_s, mttr_s=spec.mttr_s)
    late = p * float(np.exp(-spec.failover_s / spec.mttr_s)) if spec.failover else 0.0
    unavailable, parts = 0.0, []
    for c in range(spec.regions):
        share = 1.0 / spec.regions
        parts.append((share * (1 - p), spec.rtt_s[c][spec.home(c)]))
        reach = late  # P(home down past the window); then the first backup that is up
        for j in spec.backups(c):
            parts.append((share * reach * (1 - p), spec.rtt_s[c][j]))
            reach *= p
        unavailable += share * (p - late + reach)
    return unavailable, parts


def _quantile(parts: list[tuple[float, float]], q: float, spec: GeoSpec) -> float:
    total = sum(w for w, _ in parts)
    if total <= 0:
        return math.nan  # nothing is ever answered
    mu, s = np.log(spec.service_median_s), spec.service_sigma

    def cdf(x: float) -> float:
        return sum(w * float(norm.cdf((np.log(x - r) - mu) / s)) for w, r in parts if x > r) \
            / total - q

    # Past every RTT plus ten σ of service latency the CDF is 1 to double precision.
    top = max(r for _, r in parts) + spec.service_median_s * math.exp(10 * s) + 1.0
    return float(brentq(cdf, 1e-12, top, xtol=1e-9))


def geo_outcome(spec: GeoSpec) -> GeoOutcome:
    """The closed form (module doc); percentiles of the lognormal-plus-RTT mixture."""
    unavailable, parts = _serving_weights(spec)
    usual = sum(w for w, r in parts[::spec.regions])  # each client's first row is its usual region
    total = sum(w for w, _ in parts)
    return GeoOutcome(availability=1.0 - unavailable,
                      remote_share=1.0 - usual / total if total > 0 else math.nan,
                      p50_s=_quantile(parts, 0.5, spec), p99_s=_quantile(parts, 0.99, spec))


def simulated_outcome(spec: GeoSpec, *, n: int, horizon_s: float,
                      rng: np.random.Generator) -> GeoOutcome:
    """Monte Carlo: region timelines, ``n`` requests uniform over ``horizon_s`` from
    uniformly chosen clients, each routed as the module doc says."""
    t = np.sort(rng.uniform(0.0, positive("horizon_s", horizon_s, error=Bad), n))
    client = rng.integers(0, spec.regions, n)
    states = [state_at(outage_edges(horizon_s=horizon_s, mtbf_s=spec.mtbf_s,
                                    mttr_s=spec.mttr_s, rng=rng), t)
              for _ in range(spec.regions)]
    rtt = np.full(n, np.nan)
    remote = np.zeros(n, dtype=bool)
    for c in range(spec.regions):
        mine = client == c
        home_down, since = states[spec.home(c)]
        ok = mine & ~home_down
        rtt[ok] = spec.rtt_s[c][spec.home(c)]
        moved = mine & home_down & (since >= spec.failover_s) if spec.failover \
            else np.zeros(n, dtype=bool)
        for j in spec.backups(c):
            here = moved & ~states[j][0] & np.isnan(rtt)
            rtt[here] = spec.rtt_s[c][j]
            remote |= here
    served = ~np.isnan(rtt)
    if not served.any():
        return GeoOutcome(availability=0.0, remote_share=math.nan, p50_s=math.nan,
                          p99_s=math.nan)
    latency = rtt[served] + spec.service_median_s * np.exp(spec.service_sigma
                                                           * rng.standard_normal(int(served.sum())))
    return GeoOutcome(availability=float(served.mean()), remote_share=float(remote[served].mean()),
                      p50_s=float(np.quantile(latency, 0.5)), p99_s=float(np.quantile(latency, 0.99)))


def rtt_table(values_ms: npt.ArrayLike) -> tuple[tuple[float, ...], ...]:
    """A square RTT table in seconds from milliseconds (the CLI's ``--rtt-ms``)."""
    arr = np.asarray(values_ms, dtype=np.float64) / 1000.0
    return tuple(tuple(float(v) for v in row) for row in np.atleast_2d(arr))
