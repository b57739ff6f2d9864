"""Access traces of ML storage, as arrays of block ids, from an explicit seed.

* ``sequential``: epoch after epoch over the dataset in order (a full scan per epoch);
* ``shuffle``: each epoch a fresh random permutation (what a shuffling loader reads);
* ``zipf``: feature/embedding lookups under the independent reference model, block ``i``
  requested with probability proportional to ``(i + 1) ** -alpha``;
* ``checkpoint``: Zipf lookups interrupted every ``every`` requests by a checkpoint that writes
  ``shards`` never-reused blocks (a scan that pollutes a recency-only cache).

A spec reads ``name:key=value,...`` (``zipf:alpha=0.9,items=1e6``); :func:`parse` rejects an
unknown name or key with the list of known ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive, positive_int
from mlfleet.storage.cache import CacheInputError
from mlfleet.storage.cache.che import zipf_popularity

Blocks = npt.NDArray[np.int64]

DEFAULTS: dict[str, dict[str, float]] = {
    "sequential": {"items": 10_000, "epochs": 3},
    "shuffle": {"items": 10_000, "epochs": 3},
    "zipf": {"items": 100_000, "alpha": 0.9, "accesses": 1_000_000},
    "checkpoint": {"items": 10_000, "alpha": 0.9, "accesses": 200_000, "every": 20_000,
                   "shards": 5_000},
}
"""Each trace's parameters and their defaults."""
CHUNK = 1 << 22
"""Draws generated at a time."""
MAX_ACCESSES = 100_000_000
"""Largest trace (accesses, or items x epochs) accepted: 0.8 GB of block ids."""


@dataclass(frozen=True, kw_only=True)
class Trace:
    """A generated trace: its block ids and, for IRM traces, each block's popularity."""

    spec: str
    blocks: Blocks
    distinct_blocks: int
    popularity: npt.NDArray[np.float64] | None
    """``p_i`` of the independent reference model (zipf only), for the closed forms."""


def sequential(items: int, epochs: int) -> Blocks:
    """Blocks ``0..items-1`` in order, ``epochs`` times."""
    return np.tile(np.arange(items, dtype=np.int64), epochs)


def shuffle(items: int, epochs: int, rng: np.random.Generator) -> Blocks:
    """A fresh permutation of ``0..items-1`` per epoch."""
    return np.concatenate([rng.permutation(items).astype(np.int64) for _ in range(epochs)])


def irm(popularity: npt.NDArray[np.float64], accesses: int, rng: np.random.Generator) -> Blocks:
    """``accesses`` independent draws of block ``i`` with probability ``popularity[i]``."""
    cdf = np.cumsum(popularity)
    out: Blocks = np.empty(accesses, dtype=np.int64)
    for start in range(0, accesses, CHUNK):  # chunks bound the temporaries' memory
        draws = rng.random(min(CHUNK, accesses - start)) * cdf[-1]
        picks = np.searchsorted(cdf, draws, side="right")
        out[start:start + len(draws)] = np.minimum(picks, len(popularity) - 1)
    return out


def checkpoint_mix(*, items: int, alpha: float, accesses: int, every: int, shards: int,
                   rng: np.random.Generator) -> Blocks:
    """Zipf lookups with a burst of ``shards`` fresh checkpoint blocks after every ``every``."""
    reads = irm(zipf_popularity(items, alpha), accesses, rng)
    parts: list[Blocks] = []
    next_id = items
    for start in range(0, accesses, every):
        parts.append(reads[start:start + every])
        parts.append(np.arange(next_id, next_id + shards, dtype=np.int64))
        next_id += shards
    return np.concatenate(parts)


def parse(spec: str, *, seed: int) -> Trace:
    """The trace a spec names; CacheInputError naming a bad name, key or value."""
    name, _, rest = spec.partition(":")
    if name not in DEFAULTS:
        raise CacheInputError(
            f"trace(={name!r}) must be one of {', '.join(DEFAULTS)} (e.g. zipf:alpha=0.9)")
    params = dict(DEFAULTS[name])
    for pair in filter(None, rest.split(",")):
        key, _, value = pair.partition("=")
        if key not in params:
            raise CacheInputError(f"trace {name} key(={key!r}) must be one of {', '.join(params)}")
        params[key] = _number(key, value)
    return _build(spec, name, params, np.random.default_rng(seed))


def _number(key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise CacheInputError(f"trace {key}(={value!r}) must be a number, e.g. 1e6") from None
    return positive(key, number, error=CacheInputError)


def _count(params: dict[str, float], key: str) -> int:
    value = params[key]
    if value != int(value):
        raise CacheInputError(f"trace {key}(={value:g}) must be a whole number")
    return positive_int(key, int(value), error=CacheInputError)


def _bounded(params: dict[str, float]) -> None:
    total = params.get("accesses", params["items"] * params.get("epochs", 1))
    if params["items"] > MAX_ACCESSES or total > MAX_ACCESSES:
        raise CacheInputError(f"trace of {total:g} accesses over {params['items']:g} items is too "
                              f"large: at most {MAX_ACCESSES:.0e} of each")


def _build(spec: str, name: str, params: dict[str, float], rng: np.random.Generator) -> Trace:
    items = _count(params, "items")
    _bounded(params)
    if name in ("sequential", "shuffle"):
        epochs = _count(params, "epochs")
        blocks = sequential(items, epochs) if name == "sequential" else shuffle(items, epochs, rng)
        return Trace(spec=spec, blocks=blocks, distinct_blocks=items, popularity=None)
    alpha, accesses = params["alpha"], _count(params, "accesses")
    if name == "zipf":
        popularity = zipf_popularity(items, alpha)
        return Trace(spec=spec, blocks=irm(popularity, accesses, rng), distinct_blocks=items,
                     popularity=popularity)
    every, shards = _count(params, "every"), _count(params, "shards")
    blocks = checkpoint_mix(items=items, alpha=alpha, accesses=accesses, every=every,
                            shards=shards, rng=rng)
    return Trace(spec=spec, blocks=blocks, distinct_blocks=int(blocks.max()) + 1, popularity=None)
