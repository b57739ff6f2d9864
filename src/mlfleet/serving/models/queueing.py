"""M/M/c queues for capacity planning: Erlang B and C, waiting and response times.

Poisson arrivals at rate λ, c identical servers with exponential service of rate μ,
one FCFS queue; offered load a = λ/μ (Erlangs), utilisation ρ = a/c < 1.

* Erlang B (blocking, M/M/c/c) by the recurrence B(0) = 1,
  B(k) = a·B(k-1) / (k + a·B(k-1)), every term in [0, 1], so it never overflows
  (Jagerman 1974, "Some properties of the Erlang loss function", BSTJ 53(3)); written on
  1/B: I(k) = 1 + (k/a)·I(k-1). O(c) per value, vectorised over a.
* Erlang C (probability of waiting): C = c·B / (c - a(1 - B))  (Kleinrock 1975,
  "Queueing Systems" vol. 1, §3.5; Gross & Harris, "Fundamentals of Queueing Theory").
* Waiting time W: P(W > t) = C·exp(-(cμ - λ)t), E[W] = C / (cμ - λ).
* Response time T = W + S, S ~ Exp(μ) independent of W:
  P(T > t) = (1 - C)e^(-μt) + C·e^(-μt)·[1 + μt·φ((θ - μ)t)], θ = cμ - λ,
  φ(x) = (1 - e^(-x))/x (the hypo-exponential tail, written to stay exact when θ ≈ μ).
  Percentiles are found by bisection on this closed form.
* Capacity: the fewest servers meeting a waiting- or response-time percentile, or a
  utilisation cap; and the square-root staffing rule c ≈ a + β√a (Halfin & Whitt 1981,
  "Heavy-traffic limits for queues with many exponential servers", Oper. Res. 29(3)),
  under which C → [1 + βΦ(β)/φ(β)]⁻¹.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.checks import (
    FloatArray,
    fraction,
    fraction_array,
    non_negative,
    non_negative_array,
    positive,
    positive_array,
    positive_int,
    whole_array,
)
from mlfleet.errors import ServingInputError

MAX_SERVERS = 1_000_000
"""Largest server count the O(c) recurrence is run to."""

PROBABILITY_RESOLUTION = 1e-15
"""Probabilities below this are reported as 0: a few ulps of 1.0 (2.2e-16), far below what
any simulation or measurement could resolve (1e15 requests to see one event)."""

RELATIVE_TIME_RESOLUTION = 1e-12
"""Times below this fraction of the mean service time are reported as 0 (below 1 ns for a
1 ms service; no clock or simulation resolves them)."""

_BISECTION_STEPS = 200


def _servers(c: npt.ArrayLike) -> FloatArray:
    arr = whole_array("servers", c, error=ServingInputError)
    if np.any(arr > MAX_SERVERS):
        raise ServingInputError(f"servers(={float(arr.max()):g}) must be <= {MAX_SERVERS:g}")
    return arr


def erlang_b(servers: npt.ArrayLike, offered_load: npt.ArrayLike) -> FloatArray:
    """Erlang B blocking probability B(c, a) (any a > 0), by the stable recurrence."""
    c = _servers(servers)
    a = positive_array("offered_load", offered_load, error=ServingInputError)
    c, a = np.broadcast_arrays(c, a)
    if c.size == 1:  # plain floats: ~10x faster than numpy for one value
        return np.full(c.shape, 1.0 / _inverse_b(int(c.flat[0]), float(a.flat[0])))
    inv = np.ones(a.shape)  # I(0) = 1/B(0)
    out = np.empty(a.shape)
    checkpoints = frozenset(int(v) for v in np.unique(c))
    with np.errstate(over="ignore"):  # elements past their own c may overflow: unused
        for k in range(1, int(c.max()) + 1):
            inv = 1.0 + (k / a) * inv
            if k in checkpoints:
                done = c == k
                out[done] = inv[done]
    return np.asarray(1.0 / out)


def _inverse_b(c: int, a: float) -> float:
    inv = 1.0
    for k in range(1, c + 1):
        inv = 1.0 + (k / a) * inv
    return inv


def _stable(servers: npt.ArrayLike, arrival_rate: npt.ArrayLike,
            service_rate: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(c, λ, μ) broadcast, ServingInputError unless λ < cμ everywhere."""
    c = _servers(servers)
    lam = positive_array("arrival_rate", arrival_rate, error=ServingInputError)
    mu = positive_array("service_rate", service_rate, error=ServingInputError)
    c, lam, mu = np.broadcast_arrays(c, lam, mu)
    rho = lam / (c * mu)
    if np.any(rho >= 1.0):
        bad = rho >= 1.0
        raise ServingInputError(f"utilization(={float(rho[bad].flat[0]):g}) = λ/(cμ) must be "
                                "< 1 for a stable M/M/c queue; add servers or lower the load")
    return c.astype(np.float64), lam.astype(np.float64), mu.astype(np.float64)


def erlang_c(servers: npt.ArrayLike, arrival_rate: npt.ArrayLike,
             service_rate: npt.ArrayLike) -> FloatArray:
    """P(an arrival waits) in M/M/c: C = c·B / (c - a(1 - B)); needs λ < cμ."""
    c, lam, mu = _stable(servers, arrival_rate, service_rate)
    a = lam / mu
    b = erlang_b(c, a)
    return np.asarray(np.clip(c * b / (c - a * (1.0 - b)), 0.0, 1.0))


def mean_wait_s(servers: npt.ArrayLike, arrival_rate: npt.ArrayLike,
                service_rate: npt.ArrayLike) -> FloatArray:
    """E[W] = C / (cμ - λ), seconds in queue."""
    c, lam, mu = _stable(servers, arrival_rate, service_rate)
    return np.asarray(erlang_c(c, lam, mu) / (c * mu - lam))


def wait_sf(t_s: npt.ArrayLike, servers: npt.ArrayLike, arrival_rate: npt.ArrayLike,
            service_rate: npt.ArrayLike) -> FloatArray:
    """P(W > t) = C·exp(-(cμ - λ)t) for t >= 0."""
    t = non_negative_array("t_s", t_s, error=ServingInputError)
    c, lam, mu = _stable(servers, arrival_rate, service_rate)
    return np.asarray(erlang_c(c, lam, mu) * np.exp(-(c * mu - lam) * t))


def wait_percentile_s(p: npt.ArrayLike, servers: npt.ArrayLike, arrival_rate: npt.ArrayLike,
                      service_rate: npt.ArrayLike) -> FloatArray:
    """The p-quantile of the waiting time: max(0, ln(C/(1-p)) / (cμ - λ))."""
    q = fraction_array("p", p, open_high=True, error=ServingInputError)
    c, lam, mu = _stable(servers, arrival_rate, service_rate)
    cw = erlang_c(c, lam, mu)
    with np.errstate(divide="ignore"):
        t = np.log(cw / (1.0 - q)) / (c * mu - lam)
    return np.asarray(np.maximum(t, 0.0))


def _phi(x: FloatArray) -> FloatArray:
    """(1 - e^-x)/x, 1 at x = 0, without cancellation."""
    small = np.abs(x) < 1e-8
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - x / 2.0, -np.expm1(-safe) / safe)


def _response_tail(t: FloatArray, cw: FloatArray, mu: FloatArray, theta: FloatArray) -> FloatArray:
    return np.asarray(np.exp(-mu * t) * (1.0 + cw * mu * t * _phi((theta - mu) * t)))


def response_sf(t_s: npt.ArrayLike, servers: npt.ArrayLike, arrival_rate: npt.ArrayLike,
                service_rate: npt.ArrayLike) -> FloatArray:
    """P(T > t) for the response time T = W + S of M/M/c (module docstring)."""
    t = non_negative_array("t_s", t_s, error=ServingInputError)
    c, lam, mu = _stable(servers, arrival_rate, service_rate)
    return _response_tail(t, erlang_c(c, lam, mu), mu, c * mu - lam)


def response_percentile_s(p: npt.ArrayLike, servers: npt.ArrayLike,
                          arrival_rate: npt.ArrayLike, service_rate: npt.ArrayLike) -> FloatArray:
    """The p-quantile of the response time W + S, by bisection on :func:`response_sf`."""
    q = fraction_array("p", p, open_high=True, error=ServingInputError)
    c, lam, mu = _stable(servers, arrival_rate, service_rate)
    q, c, lam, mu = np.broadcast_arrays(q, c, lam, mu)
    cw, theta, target = erlang_c(c, lam, mu), c * mu - lam, 1.0 - q
    # W + S is stochastically below two exponentials of the slower rate r, whose tail
    # (1 + rt)e^(-rt) is below the target at rt = 2(ln(2/target) + 2)
    lo, hi = np.zeros(q.shape), (np.log(2.0 / target) + 2.0) * 2.0 / np.minimum(mu, theta)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = _response_tail(mid, cw, mu, theta) > target
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        if np.all(hi - lo <= 1e-12 * hi):
            break
    return np.asarray(0.5 * (lo + hi))


# --------------------------------------------------------------------------- capacity


def servers_for_utilization(arrival_rate: npt.ArrayLike, service_rate: npt.ArrayLike,
                            max_utilization: npt.ArrayLike) -> FloatArray:
    """Fewest servers keeping λ/(cμ) <= max_utilization: ⌈a / ρ_max⌉ (at least 1)."""
    lam = positive_array("arrival_rate", arrival_rate, error=ServingInputError)
    a = lam / positive_array("service_rate", service_rate, error=ServingInputError)
    rho = fraction_array("max_utilization", max_utilization, open_low=True, error=ServingInputError)
    return np.asarray(np.maximum(np.ceil(a / rho - 1e-12), 1.0))


def _search(arrival_rate: float, service_rate: float, meets: Any) -> int:
    """Smallest stable c with meets(c) true; meets is monotone in c."""
    a = arrival_rate / service_rate
    lo = int(np.floor(a)) + 1  # smallest stable c
    if lo > MAX_SERVERS:
        raise ServingInputError(f"the offered load ({a:.4g} Erlangs) needs more than "
                                f"{MAX_SERVERS:g} servers")
    if meets(lo):
        return lo
    hi = lo
    while not meets(hi):
        lo, hi = hi, min(MAX_SERVERS, 2 * hi)
        if lo == MAX_SERVERS:
            raise ServingInputError(f"no server count up to {MAX_SERVERS:g} meets the target")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if meets(mid) else (mid, hi)
    return hi


def _rates(arrival_rate: float, service_rate: float) -> tuple[float, float]:
    return (positive("arrival_rate", arrival_rate, error=ServingInputError),
            positive("service_rate", service_rate, error=ServingInputError))


def servers_for_wait(arrival_rate: float, service_rate: float, *, wait_s: float,
                     p: float = 0.99) -> int:
    """Fewest servers with the p-quantile of the queueing delay <= ``wait_s``."""
    lam, mu = _rates(arrival_rate, service_rate)
    target = non_negative("wait_s", wait_s, error=ServingInputError)
    return _search(lam, mu, lambda c: float(wait_percentile_s(p, c, lam, mu)) <= target)


def servers_for_response(arrival_rate: float, service_rate: float, *, response_s: float,
                         p: float = 0.99) -> int:
    """Fewest servers with the p-quantile of wait + service <= ``response_s``.

    Raises ServingInputError when even an empty system misses it (the service-time
    quantile -ln(1-p)/μ alone exceeds the target).
    """
    lam, mu = _rates(arrival_rate, service_rate)
    target = positive("response_s", response_s, error=ServingInputError)
    floor_s = -np.log1p(-fraction("p", p, open_high=True, error=ServingInputError)) / mu
    if floor_s >= target:
        raise ServingInputError(f"response_s(={target:g}) is below the p{100 * p:g} of the "
                                f"service time alone ({floor_s:.4g} s); no server count meets it")
    return _search(lam, mu, lambda c: float(response_percentile_s(p, c, lam, mu)) <= target)


def sqrt_staffing(offered_load: npt.ArrayLike, beta: npt.ArrayLike) -> FloatArray:
    """Square-root staffing: ⌈a + β√a⌉ servers (Halfin & Whitt 1981)."""
    a = positive_array("offered_load", offered_load, error=ServingInputError)
    b = non_negative_array("beta", beta, error=ServingInputError)
    return np.asarray(np.ceil(a + b * np.sqrt(a)))


def halfin_whitt_wait_probability(beta: npt.ArrayLike) -> FloatArray:
    """The heavy-traffic limit of Erlang C at c = a + β√a: [1 + βΦ(β)/φ(β)]⁻¹."""
    from scipy.stats import norm  # here, not at import: scipy.stats costs ~1 s

    b = positive_array("beta", beta, error=ServingInputError)
    return np.asarray(1.0 / (1.0 + b * norm.cdf(b) / norm.pdf(b)))


def resolved(value: float, resolution: float) -> float:
    """``value``, or 0 when it is below ``resolution`` (:data:`PROBABILITY_RESOLUTION`, or
    :data:`RELATIVE_TIME_RESOLUTION` times the service time): a model's 1.98e-235 and a
    simulation's 0 then agree, and no one reads a meaningless 1.98e-232 ns."""
    return 0.0 if abs(value) < resolution else value


@dataclass(frozen=True, kw_only=True)
class MMcSummary:
    """Key figures of one M/M/c system (JSON-ready via :meth:`as_dict`)."""

    servers: int
    arrival_rate_per_s: float
    service_time_s: float
    utilization: float
    wait_probability: float
    mean_wait_s: float
    mean_response_s: float
    wait_percentiles_s: dict[str, float]
    response_percentiles_s: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def summarize(*, servers: int, arrival_rate: float, service_time_s: float,
              percentiles: tuple[float, ...] = (0.5, 0.9, 0.99, 0.999)) -> MMcSummary:
    """Utilisation, P(wait), mean and percentile waits and responses of one M/M/c; P(wait)
    and the mean wait below their resolution (:func:`resolved`) are reported as 0."""
    mu = 1.0 / positive("service_time_s", service_time_s, error=ServingInputError)
    c = positive_int("servers", servers, error=ServingInputError)
    lam = positive("arrival_rate", arrival_rate, error=ServingInputError)
    ps = fraction_array("percentile", percentiles, open_high=True, error=ServingInputError)
    waits, responses = wait_percentile_s(ps, c, lam, mu), response_percentile_s(ps, c, lam, mu)
    keys = [f"p{100 * p:g}" for p in ps]
    mean_w = resolved(float(mean_wait_s(c, lam, mu)), RELATIVE_TIME_RESOLUTION / mu)
    return MMcSummary(servers=c, arrival_rate_per_s=lam, service_time_s=1.0 / mu,
                      utilization=lam / (c * mu),
                      wait_probability=resolved(float(erlang_c(c, lam, mu)),
                                                PROBABILITY_RESOLUTION),
                      mean_wait_s=mean_w, mean_response_s=mean_w + 1.0 / mu,
                      wait_percentiles_s=dict(zip(keys, waits.tolist(), strict=True)),
                      response_percentiles_s=dict(zip(keys, responses.tolist(), strict=True)))
