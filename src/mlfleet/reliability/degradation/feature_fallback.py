"""Serving when the feature store is down: fresh, cached (stale by Δt) or default features.

The synthetic ranking world: a request carries context features ``x_c`` (always at hand)
and the store holds entity features ``x_e``; the click latent is
``u = a·x_c + b·x_e + ε`` with ε ~ N(0, σ²) and the label is ``u > 0``. Entity features
drift as an Ornstein-Uhlenbeck process, so a value cached Δt ago has correlation
``ρ(Δt) = exp(−Δt/τ)`` with today's (the OU autocorrelation). The model keeps scoring
``s = a·x_c + b·x̂_e`` with ``x̂_e`` fresh, cached or the default (the mean, 0), so

* fresh:   r = √(a² + b²) / √(a² + b² + σ²)
* cached:  r = (a² + b²·ρ) / √((a² + b²)(a² + b² + σ²))
* default: r = a / √(a² + b² + σ²)

and AUC = 1/2 + (2/π)·arcsin(r/√2) (:mod:`.gaussian_auc`). A cached value older than
Δt* where ρ(Δt*) = (a·√(a²+b²) − a²)/b² ranks worse than the default: past that age the
cache should be dropped.

Availability: with store availability A and a cache that holds a usable value for a
share h of lookups, requests succeed with probability A (no fallback), A + (1 − A)·h
(cache only) or 1 (a default answers everything).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, non_negative, one_of, positive
from mlfleet.reliability.degradation.gaussian_auc import (
    auc_of_correlation,
    empirical_auc,
    mixture_auc,
)
from mlfleet.reliability.degradation.outages import outage_edges, state_at
from mlfleet.reliability.errors import ReliabilityInputError as Bad

FALLBACKS = ("none", "cached", "default", "cached+default")
"""What answers when the store does not: nothing, the cache, the default, cache then default."""


@dataclass(frozen=True, kw_only=True)
class RankingWorld:
    """The synthetic ranking task (module doc)."""

    context_weight: float = 1.0
    """a: weight of the request's own features."""
    entity_weight: float = 1.5
    """b: weight of the features the store serves."""
    noise_sd: float = 1.0
    """σ: label noise no feature explains."""
    decorrelation_s: float = 3600.0
    """τ: the OU time constant of the entity features (seconds)."""

    def __post_init__(self) -> None:
        non_negative("context_weight", self.context_weight, error=Bad)
        positive("entity_weight", self.entity_weight, error=Bad)
        non_negative("noise_sd", self.noise_sd, error=Bad)
        positive("decorrelation_s", self.decorrelation_s, error=Bad)

    @property
    def _total(self) -> float:
        return self.context_weight ** 2 + self.entity_weight ** 2 + self.noise_sd ** 2


def staleness_correlation(staleness_s: npt.ArrayLike, *, decorrelation_s: float) -> npt.NDArray[np.float64]:
    """ρ(Δt) = exp(−Δt/τ): OU autocorrelation of a value cached ``staleness_s`` ago."""
    dt = np.asarray(staleness_s, dtype=np.float64)
    if np.any(dt < 0):
        raise Bad(f"staleness_s(={dt.min()}) must be >= 0")
    return np.asarray(np.exp(-dt / positive("decorrelation_s", decorrelation_s, error=Bad)))


def auc_cached(world: RankingWorld, staleness_s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """AUC with entity features cached ``staleness_s`` ago (0: fresh)."""
    a2, b2 = world.context_weight ** 2, world.entity_weight ** 2
    rho = staleness_correlation(staleness_s, decorrelation_s=world.decorrelation_s)
    return auc_of_correlation((a2 + b2 * rho) / math.sqrt((a2 + b2) * world._total))


def auc_default(world: RankingWorld) -> float:
    """AUC with the entity features replaced by their mean."""
    return float(auc_of_correlation(world.context_weight / math.sqrt(world._total)))


def break_even_staleness_s(world: RankingWorld) -> float:
    """Age past which the default ranks better than the cached value (inf: never)."""
    a, b2 = world.context_weight, world.entity_weight ** 2
    rho = (a * math.sqrt(a * a + b2) - a * a) / b2
    return math.inf if rho <= 0 else -world.decorrelation_s * math.log(rho)


def success_probability(*, store_availability: float, cache_hit: float, fallback: str) -> float:
    """P(a request is answered) with ``fallback`` (module doc)."""
    a = fraction("store_availability", store_availability, error=Bad)
    h = fraction("cache_hit", cache_hit, error=Bad)
    one_of("fallback", fallback, FALLBACKS, error=Bad)
    if "default" in fallback:
        return 1.0
    return a + (1.0 - a) * h if fallback == "cached" else a


@dataclass(frozen=True, kw_only=True)
class FallbackMix:
    """Which source answered, as shares of all requests, and the AUC served."""

    fresh: float
    cached: float
    default: float
    failed: float
    auc_served: float
    """AUC over the answered requests."""


def expected_mix(world: RankingWorld, *, store_availability: float, cache_hit: float,
                 staleness_s: float, fallback: str) -> FallbackMix:
    """Closed-form shares of each source and the pooled AUC they serve (cache ages fixed
    at Δt; :func:`~.gaussian_auc.mixture_auc`: pooling is not the average of the AUCs)."""
    a = fraction("store_availability", store_availability, error=Bad)
    h = fraction("cache_hit", cache_hit, error=Bad) if "cached" in fallback else 0.0
    one_of("fallback", fallback, FALLBACKS, error=Bad)
    cached = (1 - a) * h
    default = (1 - a) * (1 - h) if "default" in fallback else 0.0
    failed = 0.0 if "default" in fallback else (1 - a) * (1 - h)
    a2, b2 = world.context_weight ** 2, world.entity_weight ** 2
    rho = float(staleness_correlation(staleness_s, decorrelation_s=world.decorrelation_s))
    auc = mixture_auc(weights=[a, cached, default], score_var=[a2 + b2, a2 + b2, a2],
                      score_latent_cov=[a2 + b2, a2 + b2 * rho, a2], latent_var=world._total)
    return FallbackMix(fresh=a, cached=cached, default=default, failed=failed, auc_served=auc)


def simulated_auc(world: RankingWorld, *, staleness_s: float, source: str, n: int,
                  rng: np.random.Generator) -> float:
    """Monte-Carlo AUC of ``source`` (fresh, cached, default) on ``n`` sampled requests.

    Entity features evolve as an exact OU step over Δt, labels come from the latent.
    """
    one_of("source", source, ("fresh", "cached", "default"), error=Bad)
    rho = float(staleness_correlation(staleness_s, decorrelation_s=world.decorrelation_s))
    x_c, old, z, eps = rng.standard_normal((4, n))
    x_e = rho * old + math.sqrt(1.0 - rho * rho) * z  # today's value; ``old`` is the cache
    u = world.context_weight * x_c + world.entity_weight * x_e + world.noise_sd * eps
    seen = {"fresh": x_e, "cached": old, "default": np.zeros(n)}[source]
    return empirical_auc(world.context_weight * x_c + world.entity_weight * seen, u > 0)


def simulated_mix(world: RankingWorld, *, mtbf_s: float, mttr_s: float, cache_hit: float,
                  staleness_s: float, fallback: str, n: int, horizon_s: float,
                  rng: np.random.Generator) -> FallbackMix:
    """``n`` Poisson requests over ``horizon_s`` against a failing store: who answered
    and the AUC served."""
    one_of("fallback", fallback, FALLBACKS, error=Bad)
    times = np.sort(rng.uniform(0.0, positive("horizon_s", horizon_s, error=Bad), n))
    edges = outage_edges(horizon_s=horizon_s, mtbf_s=mtbf_s, mttr_s=mttr_s, rng=rng)
    down = state_at(edges, times)[0]
    hit = down & (rng.random(n) < cache_hit) & ("cached" in fallback)
    dflt = down & ~hit & ("default" in fallback)
    rho = float(staleness_correlation(staleness_s, decorrelation_s=world.decorrelation_s))
    x_c, old, z, eps = rng.standard_normal((4, n))
    x_e = rho * old + math.sqrt(1.0 - rho * rho) * z
    u = world.context_weight * x_c + world.entity_weight * x_e + world.noise_sd * eps
    seen = np.where(hit, old, np.where(dflt, 0.0, x_e))
    served = ~down | hit | dflt
    auc = empirical_auc((world.context_weight * x_c + world.entity_weight * seen)[served],
                        u[served] > 0)
    return FallbackMix(fresh=float(np.mean(~down)), cached=float(np.mean(hit)),
                       default=float(np.mean(dflt)), failed=float(np.mean(~served)),
                       auc_served=auc)
