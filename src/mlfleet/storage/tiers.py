"""Hot/warm/cold storage tiers: monthly cost, break-even access rates, automatic tiering.

Fidelity: model. One month of a tier holding ``S`` bytes and serving ``k`` reads of ``s``
bytes costs ``S c + k (g + s r)``: capacity at ``c`` $/GB-month, ``g`` $ per GET request and
``r`` $ per GB retrieved (Amazon S3 pricing, the catalog's ``aws-s3-request-pricing``). An
object of ``s`` bytes read ``k`` times a month is cheaper in tier ``a`` than in ``b`` when ``k``
exceeds the break-even rate ``k* = s (c_a - c_b) / ((g_b + s r_b) - (g_a + s r_a))``.

Automatic tiering by age: an object not read for ``T_warm`` moves to the warm tier, for
``T_cold`` to the cold tier, and a read brings it back to hot (Amazon S3 Intelligent-Tiering
moves objects after 30 and 90 days without access). For reads as a Poisson process of rate
``lam``, the gap after a read exceeds ``T`` with probability ``exp(-lam T)``, so in the long run
the object sits beyond ``T`` a fraction ``exp(-lam T)`` of the time, and ``lam exp(-lam T)``
reads a month find it there (memorylessness). :func:`tiered_cost_per_month` is that closed
form; ``tests/storage/test_tiers.py`` checks it against a seeded Monte-Carlo replay.
Automatic tiering by access frequency: an object sits in tier ``i`` while it has had at least
``m_i`` reads in the last window ``W`` (``m`` decreasing, the last tier below them all). The
count is Poisson with mean ``lam W`` at any instant, and by PASTA also just before a read,
so the time share and the read share of tier ``i`` are both ``P(m_i <= N < m_(i-1))``
(:func:`frequency_cost_per_month`, checked the same way).
Minimum-storage-duration charges and per-object monitoring fees are not modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet import catalog
from mlfleet.checks import non_negative, positive
from mlfleet.storage.io_budget import StorageModelError

GB = 1e9
MONTH_S = 30 * 86_400.0
"""A billing month: 30 days (prices are quoted per GB-month)."""
DEFAULT_TIERS = ("object-storage", "object-storage-ia", "object-storage-glacier-ir")
"""Hot, warm, cold: S3 Standard, Standard-IA, Glacier Instant Retrieval."""
INTELLIGENT_TIERING_IDLE_S = (30 * 86_400.0, 90 * 86_400.0)
"""Days without access before S3 Intelligent-Tiering moves an object down (30, then 90)."""
FREQUENCY_MIN_READS = (2, 1)
"""Reads in the last 30 days that keep an object hot (2) or warm (1) under the frequency rule."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class Tier:
    """A storage class's prices and access path, from the catalog."""

    name: str
    usd_per_gb_month: float
    get_request_usd: float
    retrieval_usd_per_gb: float
    latency_s: float
    read_bw_bytes_per_s: float

    @classmethod
    def from_name(cls, name: str) -> Tier:
        """A catalog storage medium as a tier; StorageModelError when it has no capacity price."""
        e = catalog.get(name, kind="storage")
        price = e.get("cost_usd_per_gb_month")
        if price is None:
            raise StorageModelError(f"tier(={name!r}) has no cost_usd_per_gb_month in the catalog; "
                                    f"tiers with one: {', '.join(priced_media())}")
        return cls(name=e.name, usd_per_gb_month=float(price),
                   get_request_usd=float(e.get("get_request_usd", 0.0)),
                   retrieval_usd_per_gb=float(e.get("retrieval_usd_per_gb", 0.0)),
                   latency_s=float(e.require("latency_s")),
                   read_bw_bytes_per_s=float(e.require("read_bw_bytes_per_s")))

    def read_usd(self, object_bytes: npt.ArrayLike) -> FloatArray:
        """Price of one read of an object: the request plus its retrieval fee."""
        return np.asarray(self.get_request_usd + np.asarray(object_bytes) / GB
                          * self.retrieval_usd_per_gb, dtype=np.float64)


def priced_media() -> list[str]:
    """Catalog storage entries with a capacity price (usable as tiers)."""
    return [e.name for e in catalog.entries("storage") if e.get("cost_usd_per_gb_month")]


@dataclass(frozen=True, kw_only=True)
class TierCost:
    """One month of a dataset in one tier."""

    tier: str
    storage_usd: float
    request_usd: float
    retrieval_usd: float

    @property
    def total_usd(self) -> float:
        return self.storage_usd + self.request_usd + self.retrieval_usd


def month_cost(tier: Tier, *, stored_bytes: float, reads_per_month: float,
               read_bytes: float) -> TierCost:
    """A month of ``stored_bytes`` in ``tier`` with ``reads_per_month`` reads of ``read_bytes``."""
    non_negative("stored_bytes", stored_bytes, error=StorageModelError)
    non_negative("reads_per_month", reads_per_month, error=StorageModelError)
    return TierCost(tier=tier.name, storage_usd=stored_bytes / GB * tier.usd_per_gb_month,
                    request_usd=reads_per_month * tier.get_request_usd,
                    retrieval_usd=reads_per_month * read_bytes / GB * tier.retrieval_usd_per_gb)


def dataset_costs(tiers: list[Tier], *, dataset_bytes: float, epochs_per_month: float,
                  object_bytes: float) -> list[TierCost]:
    """A month of a dataset read ``epochs_per_month`` times in objects of ``object_bytes``."""
    positive("object_bytes", object_bytes, error=StorageModelError)
    reads = epochs_per_month * dataset_bytes / object_bytes
    return [month_cost(t, stored_bytes=dataset_bytes, reads_per_month=reads,
                       read_bytes=object_bytes) for t in tiers]


def break_even_reads_per_month(hot: Tier, cold: Tier, object_bytes: float) -> float:
    """Reads a month above which ``hot`` is cheaper than ``cold`` for one object (inf if never)."""
    saved_capacity = object_bytes / GB * (hot.usd_per_gb_month - cold.usd_per_gb_month)
    extra_per_read = float(cold.read_usd(object_bytes) - hot.read_usd(object_bytes))
    if extra_per_read <= 0:
        return float("inf")
    return saved_capacity / extra_per_read


def cheapest_tier(tiers: list[Tier], *, object_bytes: float,
                  reads_per_month: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Index into ``tiers`` of the cheapest tier per access rate (the oracle placement)."""
    k = np.asarray(reads_per_month, dtype=np.float64)[..., None]
    cost = np.stack([object_bytes / GB * t.usd_per_gb_month + k[..., 0] * t.read_usd(object_bytes)
                     for t in tiers], axis=-1)
    out: npt.NDArray[np.int64] = np.argmin(cost, axis=-1).astype(np.int64)
    return out


@dataclass(frozen=True, kw_only=True)
class TieringPolicy:
    """Move an object down after ``idle_s[i]`` without a read; a read brings it back to hot."""

    tiers: tuple[Tier, ...]
    """Hot first; one more tier than thresholds."""
    idle_s: tuple[float, ...]
    """Increasing idle times at which the object moves to ``tiers[1]``, ``tiers[2]``, ..."""

    def __post_init__(self) -> None:
        if len(self.tiers) != len(self.idle_s) + 1 or list(self.idle_s) != sorted(self.idle_s):
            raise StorageModelError(f"idle_s(={self.idle_s}) must be increasing, one fewer than "
                                    f"the {len(self.tiers)} tiers")


def tiered_cost_per_month(policy: TieringPolicy, *, object_bytes: float,
                          reads_per_month: npt.ArrayLike) -> FloatArray:
    """Long-run monthly cost of one object read as a Poisson process (module docstring)."""
    lam = np.asarray(reads_per_month, dtype=np.float64) / MONTH_S  # reads per second
    beyond = [np.ones_like(lam)] + [np.exp(-lam * t) for t in policy.idle_s] + [np.zeros_like(lam)]
    cost = np.zeros_like(lam)
    for i, tier in enumerate(policy.tiers):
        share = beyond[i] - beyond[i + 1]  # fraction of time the object sits in tier i
        cost += share * object_bytes / GB * tier.usd_per_gb_month
        cost += lam * MONTH_S * share * tier.read_usd(object_bytes)  # PASTA: reads see tier i
    return cost


@dataclass(frozen=True, kw_only=True)
class FrequencyPolicy:
    """Tier ``i`` while the last ``window_s`` holds at least ``min_reads[i]`` reads."""

    tiers: tuple[Tier, ...]
    """Hot first; one more tier than thresholds."""
    window_s: float
    min_reads: tuple[int, ...]
    """Strictly decreasing read counts, each >= 1."""

    def __post_init__(self) -> None:
        m = list(self.min_reads)
        if len(self.tiers) != len(m) + 1 or m != sorted(set(m), reverse=True) or min(m) < 1:
            raise StorageModelError(f"min_reads(={self.min_reads}) must be strictly decreasing "
                                    f"counts >= 1, one fewer than the {len(self.tiers)} tiers")
        positive("window_s", self.window_s, error=StorageModelError)


def _poisson_at_least(m: int, mean: FloatArray) -> FloatArray:
    """P(N >= m) for N ~ Poisson(mean), elementwise."""
    below = np.zeros_like(mean)
    for k in range(m):
        below += np.exp(-mean) * mean ** k / math.factorial(k)
    return np.asarray(1.0 - below, dtype=np.float64)


def frequency_cost_per_month(policy: FrequencyPolicy, *, object_bytes: float,
                             reads_per_month: npt.ArrayLike) -> FloatArray:
    """Long-run monthly cost of one object read as a Poisson process (module docstring)."""
    lam = np.asarray(reads_per_month, dtype=np.float64) / MONTH_S
    mean = lam * policy.window_s
    at_least = [np.zeros_like(lam)] + [_poisson_at_least(m, mean) for m in policy.min_reads] \
        + [np.ones_like(lam)]
    cost = np.zeros_like(lam)
    for i, tier in enumerate(policy.tiers):
        share = at_least[i + 1] - at_least[i]
        cost += share * (object_bytes / GB * tier.usd_per_gb_month
                         + lam * MONTH_S * tier.read_usd(object_bytes))
    return cost
