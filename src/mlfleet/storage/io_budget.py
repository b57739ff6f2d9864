"""I/O bandwidth a training job needs, per model type, against what a storage system delivers.

Fidelity: model. A job consuming ``R`` units (samples, or tokens for LLMs) per second of
``b`` stored bytes each reads ``R * b`` bytes/s from storage, sustained for the whole epoch
(Mohan et al., "Analyzing and Mitigating Data Stalls in DNN Training", VLDB 2021, Sec. 2:
a job is I/O-bound when storage delivers less than this). ``R`` comes from the compute
roofline: ``R = gpus * mfu * peak_flops / (fwd + bwd FLOP per unit)`` (the plan's training
step model). Decoding and augmenting costs ``d`` CPU-seconds per sample, so the job needs
``R * d`` cores of decode. A storage medium whose one unit (drive, appliance, connection)
reads ``B`` bytes/s and serves ``I`` requests/s needs ``ceil(R b / B)`` units for bandwidth and
``ceil(requests/s / I)`` for request rate; the larger is what must be deployed.

LLM tokens are stored as token ids of the smallest whole number of bytes that hold the
vocabulary, rounded to 2 or 4 (``uint16`` holds 65,536 ids; Llama 3's 128,256 need ``uint32``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.catalog.types import StorageMedium, Workload
from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.errors import InputError


class StorageModelError(InputError):
    """A storage-model argument out of range (a size, a rate, a count, a tier name)."""


def token_id_bytes(vocab: float) -> int:
    """Bytes per stored token id: 2 when the vocabulary fits ``uint16``, else 4."""
    return 2 if vocab <= 2 ** 16 else 4


def stored_bytes_per_unit(workload: Workload) -> float:
    """Stored bytes per unit of work: a token id for LLM/MoE, else the catalog's
    ``bytes_per_sample``; StorageModelError when the catalog has none."""
    if workload.unit == "token":
        return float(token_id_bytes(workload.shape.get("vocab", 2 ** 17)))
    from mlfleet import catalog

    value = catalog.get(workload.name, kind="workload").get("bytes_per_sample")
    if value is None:
        raise StorageModelError(f"workload(={workload.name!r}) has no bytes_per_sample in the "
                                "catalog; give the sample size explicitly")
    return float(value)


def units_per_s(*, gpus: float, peak_flops_per_s: float, mfu: float,
                flop_per_unit: float) -> float:
    """Units (samples or tokens) per second a compute-bound job consumes."""
    positive("gpus", gpus, error=StorageModelError)
    positive("mfu", mfu, error=StorageModelError)
    return gpus * mfu * peak_flops_per_s / flop_per_unit


@dataclass(frozen=True, kw_only=True)
class IoBudget:
    """What a job reads and what one storage medium gives."""

    workload: str
    family: str
    unit: str
    units_per_s: float
    bytes_per_unit: float
    read_bw_bytes_per_s: float
    """Bytes/s the job reads from storage: units_per_s x bytes_per_unit."""
    requests_per_s: float
    """Read requests/s: one per ``units_per_request`` units (a file, a shard read)."""
    decode_cores: float
    """CPU cores of decoding/augmentation: units_per_s x decode_s_per_unit."""
    medium: str
    medium_read_bw_bytes_per_s: float
    medium_read_iops: float | None
    units_for_bandwidth: int
    units_for_requests: int
    """0 when the medium has no request-rate figure."""

    @property
    def medium_units(self) -> int:
        """Units of the medium to deploy: whichever of bandwidth or request rate needs more."""
        return max(self.units_for_bandwidth, self.units_for_requests, 1)

    @property
    def bound_by(self) -> str:
        return "requests" if self.units_for_requests > self.units_for_bandwidth else "bandwidth"


def default_units_per_request(workload: Workload) -> float:
    """Units one read request fetches: one sample, or one ``seq_len``-token sequence."""
    return float(workload.shape.get("seq_len", 1)) if workload.unit == "token" else 1.0


def io_budget(*, workload: Workload, units_per_s: float, bytes_per_unit: float,
              medium: StorageMedium, units_per_request: float | None = None,
              decode_s_per_unit: float = 0.0) -> IoBudget:
    """The job's read bandwidth, request rate and decode cores, and the medium units it needs.

    ``units_per_request`` defaults to :func:`default_units_per_request`.
    """
    positive("bytes_per_unit", bytes_per_unit, error=StorageModelError)
    if units_per_request is None:
        units_per_request = default_units_per_request(workload)
    positive("units_per_request", units_per_request, error=StorageModelError)
    non_negative("decode_s_per_unit", decode_s_per_unit, error=StorageModelError)
    bw = units_per_s * bytes_per_unit
    requests = units_per_s / units_per_request
    iops = medium.read_iops
    return IoBudget(
        workload=workload.name, family=workload.family, unit=workload.unit,
        units_per_s=units_per_s, bytes_per_unit=bytes_per_unit, read_bw_bytes_per_s=bw,
        requests_per_s=requests, decode_cores=units_per_s * decode_s_per_unit,
        medium=medium.name, medium_read_bw_bytes_per_s=medium.read_bw_bytes_per_s,
        medium_read_iops=iops,
        units_for_bandwidth=math.ceil(bw / medium.read_bw_bytes_per_s),
        units_for_requests=0 if not iops else math.ceil(requests / float(iops)))


def gpus_checked(gpus: int) -> int:
    """``gpus`` if it is a whole number >= 1, else StorageModelError."""
    return positive_int("gpus", gpus, error=StorageModelError)
