"""Validation provider of the storage chapter (``mlfleet validate``).

Cache hit rates in closed form — Che's approximation for LRU, the static top-C for LFU
(:mod:`mlfleet.storage.cache.che`) — against seeded replays of the real cache policies on
independent-reference Zipf traces. Computed live.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from mlfleet.storage.cache import policy, replay
from mlfleet.storage.cache.che import lru_hit_rate, top_c_hit_rate, zipf_popularity
from mlfleet.storage.cache.traces import irm
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="storage")
ITEMS, ACCESSES, WARMUP = 100_000, 500_000, 100_000
CASES = (("lru", 0.8, 1_000), ("lru", 0.9, 1_000), ("lru", 1.2, 10_000), ("lfu", 0.9, 1_000),
         ("lfu", 1.2, 1_000))
"""(policy, Zipf exponent, capacity in items)."""
QUICK_SKIPS = (("lfu", 0.9, 1_000),)
"""Left out of a quick run: the LFU replay at Zipf 0.9 takes about 2 s."""
BOUND = 0.02
"""tests/storage/cache/test_che.py holds 1 % on 10⁶ accesses; half the accesses here."""
MODELS = {"lru": ("storage.cache.che.lru_hit_rate", "Che et al. 2002 approximation"),
          "lfu": ("storage.cache.che.top_c_hit_rate", "the static top-C")}


def cache_checks(seed: int, *, quick: bool) -> list[Check]:
    out = []
    for name, alpha, capacity in CASES:
        if quick and (name, alpha, capacity) in QUICK_SKIPS:
            continue
        popularity = zipf_popularity(ITEMS, alpha)
        trace = irm(popularity, ACCESSES, np.random.default_rng(seed))
        simulated = float(replay(policy(name, capacity), trace)[WARMUP:].mean())
        predict = lru_hit_rate if name == "lru" else top_c_hit_rate
        model, formula = MODELS[name]
        out.append(_check(
            id=f"storage.cache.{name}.zipf{alpha:g}-c{capacity}",
            quantity=f"{name.upper()} hit rate, Zipf {alpha:g}, {capacity} of {ITEMS} items",
            model=f"{model} ({formula})",
            reference=f"replay of the {name.upper()} cache, {ACCESSES} seeded IRM accesses"
                      f" (seed {seed}), first {WARMUP} dropped",
            reference_kind="simulation", reference_value=simulated,
            predicted=float(predict(popularity, capacity)), bound=BOUND))
    return out


def provide(ctx: Context) -> list[Check]:
    return cache_checks(ctx.seed, quick=ctx.quick)
