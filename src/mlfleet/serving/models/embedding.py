"""Embedding-lookup latency of a recommendation model with sharded tables.

A DLRM-style request scores ``items`` candidates; each sample looks up
``pooling[t]`` rows of ``dim`` elements in each table t and sum-pools them (an
EmbeddingBag). Bytes gathered per request are

    gather_bytes = items · Σ_t pooling[t] · dim · b            (every row read whole)
    pooled_bytes = items · n_tables · dim · b                  (one vector per table)

The tables are spread over ``shards`` GPUs (Naumov et al. 2019, "Deep Learning
Recommendation Model for Personalization and Recommendation Systems", §4: model-parallel
embeddings, data-parallel MLPs; TorchRec's "table-wise" and "row-wise" sharding):

* table-wise: whole tables go to shards, balanced by longest-processing-time-first
  (Graham 1969: within 4/3 of the optimum); skew = busiest shard / mean.
* row-wise: every table's rows are hashed over all shards, so each shard serves
  ~1/shards of every table's lookups, but returns a partial pooled vector of *every*
  table: n_tables·dim·b per sample from each shard. The busiest of s shards among N
  uniform lookups gets about N/s + sqrt(2·(N/s)·ln s) (Raab & Steger 1998, "Balls into
  bins", m ≫ n log n).

Latency = sparse ids AlltoAll + slowest shard's gather (HBM at ``memory_efficiency``,
misses of a hot-row cache from a slower tier) + pooled-vector AlltoAll back
(:func:`mlfleet.comm.cost.alltoall.pairwise_alltoall_time`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet import catalog
from mlfleet.catalog.types import Workload
from mlfleet.checks import (
    FloatArray,
    fraction,
    non_negative,
    non_negative_array,
    one_of,
    positive,
    positive_array,
    whole_array,
)
from mlfleet.comm.cost.alltoall import pairwise_alltoall_time
from mlfleet.errors import ServingInputError

SHARDINGS = ("table", "row")
"""Embedding sharding schemes :func:`embedding_lookup` models."""

ID_BYTES = 8.0
"""Bytes of one sparse feature id on the wire (int64, as TorchRec's KeyedJaggedTensor)."""


@dataclass(frozen=True, kw_only=True)
class EmbeddingTables:
    """The embedding tables of a recommendation model."""

    rows: tuple[int, ...]
    """Rows of each table."""
    pooling: tuple[float, ...]
    """Lookups per sample in each table (multi-hot size)."""
    dim: int
    """Embedding dimension."""
    bytes_per_element: float

    def __post_init__(self) -> None:
        if not self.rows or len(self.rows) != len(self.pooling):
            raise ServingInputError(f"need one pooling factor per table: {len(self.rows)} "
                                    f"tables, {len(self.pooling)} pooling factors")
        whole_array("rows", np.asarray(self.rows), error=ServingInputError)
        non_negative_array("pooling", np.asarray(self.pooling), error=ServingInputError)
        whole_array("dim", self.dim, error=ServingInputError)
        positive_array("bytes_per_element", self.bytes_per_element, error=ServingInputError)

    @property
    def lookups_per_sample(self) -> float:
        return float(sum(self.pooling))

    @property
    def row_bytes(self) -> float:
        return self.dim * self.bytes_per_element

    @property
    def table_bytes(self) -> float:
        """All tables' bytes at this precision."""
        return float(sum(self.rows)) * self.row_bytes

    @classmethod
    def from_workload(cls, workload: str | Workload, *, bytes_per_element: float) -> EmbeddingTables:
        """Tables of a catalog RecSys workload (its ``table_rows`` and ``multi_hot_sizes``)."""
        w = Workload.from_name(workload) if isinstance(workload, str) else workload
        entry = catalog.get(w.name, kind="workload")
        rows, pooling = entry.get("table_rows"), entry.get("multi_hot_sizes")
        dim = w.shape.get("embedding_dim")
        if rows is None or pooling is None or dim is None:
            raise ServingInputError(f"workload {w.name!r} has no table_rows / multi_hot_sizes / "
                                    "shape.embedding_dim; the embedding model needs them")
        return cls(rows=tuple(int(r) for r in rows), pooling=tuple(float(p) for p in pooling),
                   dim=int(dim), bytes_per_element=bytes_per_element)


def table_wise_loads(loads: npt.ArrayLike, shards: int) -> tuple[FloatArray, FloatArray]:
    """Longest-processing-time-first placement of tables with ``loads`` on ``shards``.

    Returns (shard of each table, total load of each shard). Graham 1969: the busiest
    shard is within 4/3 - 1/(3·shards) of the optimal makespan.
    """
    w = non_negative_array("loads", loads, error=ServingInputError)
    s = int(whole_array("shards", shards, error=ServingInputError))
    heap = [(0.0, i) for i in range(s)]
    owner = np.empty(w.size)
    totals = np.zeros(s)
    for t in np.argsort(-w, kind="stable"):
        load, shard = heapq.heappop(heap)
        owner[t] = shard
        totals[shard] = load + w[t]
        heapq.heappush(heap, (totals[shard], shard))
    return owner, totals


def balls_in_bins_skew(lookups: npt.ArrayLike, shards: npt.ArrayLike) -> FloatArray:
    """Expected busiest-shard load over the mean when ``lookups`` hash uniformly onto
    ``shards``: 1 + sqrt(2·s·ln s / N) (Raab & Steger 1998; 1 for one shard)."""
    n = positive_array("lookups", lookups, error=ServingInputError)
    s = whole_array("shards", shards, error=ServingInputError)
    return np.asarray(1.0 + np.sqrt(2.0 * s * np.log(s) / n))


@dataclass(frozen=True, kw_only=True)
class EmbeddingLatency:
    """Embedding part of one request (or batch of ``items`` samples)."""

    gather_bytes: float
    """Bytes of embedding rows read, all shards together."""
    pooled_bytes: float
    """Pooled vectors returned to the dense part (row-wise: partial sums from every shard)."""
    skew: float
    """Busiest shard's gather over the mean."""
    ids_alltoall_s: float
    lookup_s: float
    """The busiest shard's gather time (HBM, plus cache misses)."""
    pooled_alltoall_s: float
    time_s: float
    """ids AlltoAll + lookup + pooled AlltoAll."""
    bound: str
    """'lookup' or 'network', whichever term is larger."""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _shard_loads(tables: EmbeddingTables, shards: int, sharding: str) -> tuple[float, float]:
    """(lookups per sample on the busiest shard, its skew over the mean)."""
    total = tables.lookups_per_sample
    if shards == 1:
        return total, 1.0
    if sharding == "table":
        _, loads = table_wise_loads(np.asarray(tables.pooling), shards)
        return float(loads.max()), float(loads.max() / (total / shards))
    skew = float(balls_in_bins_skew(total, shards))
    return total / shards * skew, skew


def embedding_lookup(tables: EmbeddingTables, *, items: float, shards: int, hbm_bw_bytes_per_s: float,
                     link_alpha_s: float = 0.0, link_bw_bytes_per_s: float | None = None,
                     sharding: str = "table", memory_efficiency: float = 1.0,
                     cache_hit_rate: float = 1.0, miss_bw_bytes_per_s: float | None = None,
                     miss_latency_s: float = 0.0) -> EmbeddingLatency:
    """Latency of the embedding lookups of ``items`` samples on ``shards`` GPUs.

    ``cache_hit_rate`` is the share of rows found in HBM; misses are read from a tier
    of ``miss_bw_bytes_per_s`` (e.g. host memory over PCIe) after ``miss_latency_s``.
    Raises ServingInputError for bad numbers, an unknown sharding, several shards
    without a link bandwidth, or misses without a miss tier.
    """
    one_of("sharding", sharding, SHARDINGS, error=ServingInputError)
    n_items = positive("items", items, error=ServingInputError)
    s = int(whole_array("shards", shards, error=ServingInputError))
    hit = fraction("cache_hit_rate", cache_hit_rate, error=ServingInputError)
    if hit < 1.0 and miss_bw_bytes_per_s is None:
        raise ServingInputError(f"cache_hit_rate(={hit:g}) < 1 needs miss_bw_bytes_per_s, the "
                                "bandwidth misses are read at")
    hot_lookups, skew = _shard_loads(tables, s, sharding)
    shard_bytes = n_items * hot_lookups * tables.row_bytes
    eff_bw = positive("hbm_bw_bytes_per_s", hbm_bw_bytes_per_s, error=ServingInputError) \
        * fraction("memory_efficiency", memory_efficiency, open_low=True, error=ServingInputError)
    lookup = hit * shard_bytes / eff_bw
    if hit < 1.0:
        assert miss_bw_bytes_per_s is not None
        miss_bw = positive("miss_bw_bytes_per_s", miss_bw_bytes_per_s, error=ServingInputError)
        miss_s = non_negative("miss_latency_s", miss_latency_s, error=ServingInputError)
        lookup += (1.0 - hit) * shard_bytes / miss_bw + miss_s
    n_tables = len(tables.rows)
    pooled = n_items * n_tables * tables.row_bytes * (s if sharding == "row" else 1)
    ids_s, pooled_s = 0.0, 0.0
    if s > 1:  # each shard sends its share of ids in, and its pooled vectors out
        if link_bw_bytes_per_s is None:
            raise ServingInputError(f"shards(={s}) > 1 needs link_bw_bytes_per_s, the "
                                    "bandwidth between the shards")
        kw = {"alpha_s": link_alpha_s, "bw_bytes_per_s": link_bw_bytes_per_s}
        ids_s = float(pairwise_alltoall_time(s, n_items * tables.lookups_per_sample * ID_BYTES / s,
                                             skew=skew, **kw))
        pooled_s = float(pairwise_alltoall_time(s, pooled / s, skew=skew, **kw))
    net = ids_s + pooled_s
    return EmbeddingLatency(gather_bytes=n_items * tables.lookups_per_sample * tables.row_bytes,
                            pooled_bytes=pooled, skew=skew, ids_alltoall_s=ids_s,
                            lookup_s=lookup, pooled_alltoall_s=pooled_s, time_s=net + lookup,
                            bound="lookup" if lookup >= net else "network")
