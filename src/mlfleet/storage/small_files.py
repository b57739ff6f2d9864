"""The small-file problem: per-file and per-request overheads against bandwidth.

Fidelity: model. Reading files of ``s`` bytes with ``Q`` requests in flight, each request pays
a fixed latency ``L`` (metadata lookup plus first byte) and then streams at ``b`` bytes/s per
request; the service caps the request rate at ``I`` per second and the aggregate at ``B``
bytes/s. With deterministic times the delivered bandwidth is the closed-network bound
(Lazowska et al., *Quantitative System Performance*, 1984, Ch. 5, asymptotic bounds):

    X = min(Q s / (L + s / b),  I s,  B)

which a seeded simulation on :mod:`mlfleet.sim` reproduces (``tests/storage/test_small_files.py``).
Per file, HDFS keeps about 150 bytes of NameNode heap for the file and each of its blocks
(Cloudera, "The Small Files Problem", 2009) and serves about 126k opens/s (Shvachko, ;login:
2010); an object store bills every GET (Amazon S3 pricing). Packing files into large shards
(WebDataset tar, Parquet row groups, TFRecord) divides all three overheads by files per shard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.checks import positive, positive_int
from mlfleet.storage.io_budget import StorageModelError


@dataclass(frozen=True, kw_only=True)
class RequestPath:
    """How a storage service serves one read request."""

    latency_s: float
    """Fixed cost per request before data flows: lookup, first byte."""
    stream_bw_bytes_per_s: float
    """Bandwidth of one request once it streams."""
    max_requests_per_s: float = math.inf
    """Cap on requests per second (IOPS, GETs per prefix, NameNode opens)."""
    max_bw_bytes_per_s: float = math.inf
    """Cap on the aggregate bandwidth."""


def delivered_bw_bytes_per_s(path: RequestPath, *, file_bytes: float, in_flight: int) -> float:
    """Bytes/s delivered reading files of ``file_bytes`` with ``in_flight`` requests (closed form)."""
    positive("file_bytes", file_bytes, error=StorageModelError)
    positive_int("in_flight", in_flight, error=StorageModelError)
    per_request_s = path.latency_s + file_bytes / path.stream_bw_bytes_per_s
    return min(in_flight * file_bytes / per_request_s, path.max_requests_per_s * file_bytes,
               path.max_bw_bytes_per_s)


def bottleneck(path: RequestPath, *, file_bytes: float, in_flight: int) -> str:
    """Which term of the minimum binds: 'latency', 'requests' or 'bandwidth'."""
    per_request_s = path.latency_s + file_bytes / path.stream_bw_bytes_per_s
    terms = {"latency": in_flight * file_bytes / per_request_s,
             "requests": path.max_requests_per_s * file_bytes,
             "bandwidth": path.max_bw_bytes_per_s}
    return min(terms, key=lambda k: terms[k])


def efficiency(path: RequestPath, *, file_bytes: float, in_flight: int) -> float:
    """Delivered bandwidth over what the same bytes in huge files would get."""
    big = min(in_flight * path.stream_bw_bytes_per_s, path.max_bw_bytes_per_s)
    return delivered_bw_bytes_per_s(path, file_bytes=file_bytes, in_flight=in_flight) / big


def path_of(medium: str) -> RequestPath:
    """A catalog medium's request path: latency, per-request bandwidth, request-rate cap.

    An object store's and HDFS's bandwidth figure is per request (a connection, a DataNode
    disk) and the aggregate scales out; a device or appliance shares its bandwidth among all
    requests. The request cap is the medium's ``read_iops`` (GETs per prefix for S3), or the
    NameNode's open rate for HDFS.
    """
    e = catalog.get(medium, kind="storage")
    bw, iops = float(e.require("read_bw_bytes_per_s")), e.get("read_iops")
    cap = float(e.get("namenode_open_per_s", iops or math.inf))
    per_request = e.name.startswith("object-storage") or e.name == "hdfs"
    return RequestPath(latency_s=float(e.require("latency_s")), stream_bw_bytes_per_s=bw,
                       max_requests_per_s=cap, max_bw_bytes_per_s=math.inf if per_request else bw)


def namenode_heap_bytes(*, files: float, file_bytes: float) -> float:
    """NameNode heap for ``files`` files of ``file_bytes``: one object per file and per block."""
    e = catalog.get("hdfs", kind="storage")
    block, per_object = float(e.require("block_bytes")), float(e.require("namenode_object_bytes"))
    return files * (1 + math.ceil(file_bytes / block)) * per_object


def get_requests_usd(*, dataset_bytes: float, object_bytes: float, reads: float = 1.0,
                     medium: str = "object-storage") -> float:
    """GET charges for reading a dataset ``reads`` times in objects of ``object_bytes``."""
    positive("object_bytes", object_bytes, error=StorageModelError)
    price = float(catalog.get(medium, kind="storage").get("get_request_usd", 0.0))
    return reads * math.ceil(dataset_bytes / object_bytes) * price
