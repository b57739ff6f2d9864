"""How much one replica can take under an SLO, from M/M/c (Erlang C).

Each replica is c servers with exponential service of mean ``service_s``, and a
request is routed to a ready replica uniformly at random (kube-proxy's iptables mode),
so each replica sees a Poisson share of the load: exactly M/M/c. The tail of the
response time W + S is :func:`mlfleet.serving.models.queueing.response_sf`.
"""

from __future__ import annotations

import math

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.serving.models.queueing import response_sf


def violation_probability(rate_per_s: float, *, servers: int, service_s: float,
                          slo_s: float) -> float:
    """P(response > SLO) at one replica with ``rate_per_s`` (1.0 when unstable)."""
    if rate_per_s <= 0.0:
        return math.exp(-slo_s / service_s)  # an idle replica: the service tail alone
    if rate_per_s * service_s >= servers:
        return 1.0
    return float(response_sf(slo_s, servers, rate_per_s, 1.0 / service_s))


def slo_capacity_per_s(*, servers: int, service_s: float, slo_s: float,
                       quantile: float = 0.99) -> float:
    """The highest per-replica rate whose ``quantile`` of response time meets the SLO
    (bisection on the rate, 60 halvings); 0 when even an idle replica misses it."""
    positive_int("servers", servers)
    positive("service_s", service_s)
    positive("slo_s", slo_s)
    miss = 1.0 - fraction("quantile", quantile, open_low=True, open_high=True)
    if violation_probability(0.0, servers=servers, service_s=service_s, slo_s=slo_s) > miss:
        return 0.0
    lo, hi = 0.0, servers / service_s
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        ok = violation_probability(mid, servers=servers, service_s=service_s,
                                   slo_s=slo_s) <= miss
        lo, hi = (mid, hi) if ok else (lo, mid)
    return lo


def replicas_for_peak(peak_rate_per_s: float, *, per_replica_per_s: float) -> int:
    """The fewest replicas keeping each at or below ``per_replica_per_s`` at the peak."""
    positive("per_replica_per_s", per_replica_per_s)
    return max(1, math.ceil(peak_rate_per_s / per_replica_per_s - 1e-9))
