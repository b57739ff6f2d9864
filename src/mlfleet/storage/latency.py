"""Latency breakdown of one read by access pattern and medium.

Fidelity: model. A read is metadata (one lookup per file opened: a directory/inode access
on a device or parallel file system, a NameNode RPC on HDFS, nothing extra on an object store
whose GET carries the lookup), then first byte (the medium's ``latency_s``), then transfer
(``request_bytes / read_bw``). The patterns are the chapter's:

* sequential scan: 1 file opened per 1 GiB read in 8 MiB requests (training epochs over shards);
* random small reads: 4 KiB at random offsets of open files (feature/embedding lookups);
* small files: one 100 kB file per sample, opened each time (JPEG-per-file datasets);
* object GETs: one 1 MiB object per request (a shard read from S3).

Device latencies are datasheet access latencies at queue depth 1; queueing is not included
(:mod:`mlfleet.storage.small_files` adds concurrency and request-rate caps).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.catalog.types import StorageMedium

KiB, MiB, GiB = 1024.0, 1024.0 ** 2, 1024.0 ** 3


@dataclass(frozen=True, kw_only=True)
class AccessPattern:
    """A way of reading: request size and how many files are opened per request."""

    name: str
    request_bytes: float
    opens_per_request: float
    """Files opened (metadata lookups) per request: 1 for file-per-sample, small for scans."""


PATTERNS = (
    AccessPattern(name="sequential scan", request_bytes=8 * MiB, opens_per_request=8 * MiB / GiB),
    AccessPattern(name="random 4 KiB reads", request_bytes=4 * KiB, opens_per_request=0.0),
    AccessPattern(name="small files (100 kB)", request_bytes=100e3, opens_per_request=1.0),
    AccessPattern(name="object GET (1 MiB)", request_bytes=1 * MiB, opens_per_request=1.0),
)


@dataclass(frozen=True, kw_only=True)
class LatencyBreakdown:
    """Seconds of one request, by component."""

    pattern: str
    medium: str
    request_bytes: float
    metadata_s: float
    first_byte_s: float
    transfer_s: float

    @property
    def total_s(self) -> float:
        return self.metadata_s + self.first_byte_s + self.transfer_s

    @property
    def bw_bytes_per_s(self) -> float:
        """Bandwidth of one request stream issuing requests back to back."""
        return self.request_bytes / self.total_s


def metadata_lookup_s(medium: StorageMedium) -> float:
    """One file lookup: one extra access of the medium; none for an object store (GET has it)."""
    return 0.0 if medium.name.startswith("object-storage") else medium.latency_s


def breakdown(medium: StorageMedium, pattern: AccessPattern) -> LatencyBreakdown:
    """One request of ``pattern`` on ``medium``, split into its components."""
    return LatencyBreakdown(
        pattern=pattern.name, medium=medium.name, request_bytes=pattern.request_bytes,
        metadata_s=pattern.opens_per_request * metadata_lookup_s(medium),
        first_byte_s=medium.latency_s,
        transfer_s=pattern.request_bytes / medium.read_bw_bytes_per_s)


def table(media: list[StorageMedium]) -> list[LatencyBreakdown]:
    """Every pattern on every medium, pattern-major."""
    return [breakdown(m, p) for p in PATTERNS for m in media]
