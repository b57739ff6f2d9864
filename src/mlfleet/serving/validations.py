"""Validation provider of the serving chapter (``mlfleet validate``).

Erlang B/C (:mod:`mlfleet.serving.models.queueing`) against exact rational arithmetic,
published table values and the seeded M/M/c simulation (:mod:`mlfleet.serving.sim.mmc`);
consistent hashing's remapped share against 1/(n+1). Everything is computed live.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import partial

import numpy as np

from mlfleet.serving.lb.consistent_hash import HashRing, key_hash
from mlfleet.serving.models import queueing
from mlfleet.serving.sim.mmc import simulate_mmc
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="serving")
ERLANG_B_TABLE = ((5, 2.0, 0.0367), (10, 5.0, 0.0184), (10, 10.0, 0.2146), (20, 15.0, 0.0456))
"""(servers, offered load in Erlang, blocking) as printed in Erlang B tables (Kleinrock,
"Queueing Systems" vol. 1, 1975; any teletraffic handbook), to 3-4 significant digits."""
MMC_CASES = ((4, 0.8, {"mean_wait_s": 0.06, "p_wait": 0.02, "p99_wait_s": 0.10}),
             (8, 0.9, {"mean_wait_s": 0.10, "p_wait": 0.03, "p99_wait_s": 0.20}))
"""(servers, utilisation, bound per statistic): about twice the batch-means 95 % CI
half-width of a 10⁶-request run (observed over seeds 0-3: 2.5-3.8 % and 4.7-6.8 % for the
mean, 0.6-1.5 % for P(wait), 4-14 % for p99)."""
MMC_REQUESTS = 1_000_000


def exact_erlang_c(servers: int, offered: Fraction) -> Fraction:
    """C(c, a) = [a^c/c! · c/(c−a)] / [Σ_{k<c} a^k/k! + a^c/c! · c/(c−a)], in rationals."""
    top = offered**servers / math.factorial(servers) * Fraction(servers) / (servers - offered)
    below = sum(offered**k / math.factorial(k) for k in range(servers))
    return top / (below + top)


def erlang_c_exact_checks() -> list[Check]:
    """Erlang C in floating point against the finite sum in exact rationals."""
    out = []
    for servers in (1, 2, 5, 13, 30):
        for rho in (Fraction(1, 2), Fraction(9, 10)):
            a = rho * servers
            out.append(_check(
                id=f"serving.erlang-c.exact.c{servers}-rho{float(rho):g}",
                quantity=f"P(wait) of M/M/{servers} at ρ = {float(rho):g}",
                model="serving.models.queueing.erlang_c",
                reference="the finite-sum formula in exact rationals (fractions.Fraction)",
                reference_kind="exact", reference_value=float(exact_erlang_c(servers, a)),
                predicted=float(queueing.erlang_c(servers, float(a), 1.0)), bound=1e-12))
    return out


def erlang_b_table_checks() -> list[Check]:
    return [_check(id=f"serving.erlang-b.table.c{c}-a{a:g}",
                   quantity=f"blocking B({c}, {a:g} Erlang)",
                   model="serving.models.queueing.erlang_b",
                   reference="Erlang B table (Kleinrock 1975, vol. 1), printed to 3-4 digits",
                   reference_kind="published", reference_value=published,
                   predicted=float(queueing.erlang_b(c, a)), bound=6e-5, absolute=True)
            for c, a, published in ERLANG_B_TABLE]


def mmc_simulation_checks(seed: int) -> list[Check]:
    """Erlang C against the seeded M/M/c simulation, 10⁶ requests."""
    out = []
    for servers, rho, bounds in MMC_CASES:
        run = simulate_mmc(servers=servers, utilization=rho, requests=MMC_REQUESTS, seed=seed)
        for name, bound in bounds.items():
            out.append(_check(
                id=f"serving.erlang-c.sim.c{servers}-rho{rho:g}.{name}",
                quantity=f"{name} of M/M/{servers} at ρ = {rho:g}",
                model="serving.models.queueing (Erlang C)",
                reference=f"seeded M/M/c simulation, {MMC_REQUESTS:.0e} requests, seed {seed}"
                          " (serving.sim.mmc)",
                reference_kind="simulation", reference_value=run.simulated[name].value,
                predicted=run.erlang_c[name], bound=bound))
    return out


def consistent_hash_checks() -> list[Check]:
    """Keys moved when replica n+1 joins a ring of n (100,000 keys) against 1/(n+1)."""
    keys = key_hash(np.arange(100_000))
    out = []
    for n, virtual_nodes in ((5, 100), (10, 100), (20, 200)):
        before = HashRing(range(n), virtual_nodes=virtual_nodes).lookup(keys)
        after = HashRing(range(n + 1), virtual_nodes=virtual_nodes).lookup(keys)
        out.append(_check(
            id=f"serving.consistent-hash.remap.n{n}",
            quantity=f"share of keys moved when replica {n + 1} joins",
            model="serving.lb.consistent_hash.HashRing",
            reference="1/(n+1): the newcomer's expected share of the ring (Karger et al. 1997)",
            reference_kind="exact", reference_value=1 / (n + 1),
            predicted=float(np.mean(before != after)), bound=0.25,
            note="an arc is a sum of virtual-node gaps: relative sd ~ 1/√virtual_nodes"))
    return out


def provide(ctx: Context) -> list[Check]:
    return [*erlang_c_exact_checks(), *erlang_b_table_checks(),
            *mmc_simulation_checks(ctx.seed), *consistent_hash_checks()]
