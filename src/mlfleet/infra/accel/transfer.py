"""Host<->device copies over PCIe and device<->device copies over NVLink.

A copy of ``n`` bytes over a link costs

    time_s = latency_s + n / (raw_bw * achievable_fraction)              (pinned host memory)
    time_s = latency_s + n / (raw_bw * achievable_fraction) + n / host_copy_bw   (pageable)

PCIe raw bandwidth per direction is the signalling rate times lanes times the line-code
efficiency, over 8 bits (PCI-SIG base specifications): generations 3, 4 and 5 signal at 8, 16
and 32 GT/s per lane with 128b/130b encoding; generation 6 signals at 64 GT/s (PAM4) in FLIT
mode, where 242 of every 256 FLIT bytes carry transaction and link-layer payload. A pageable
copy is staged by the driver through a pinned buffer (NVIDIA, "How to Optimize Data Transfers
in CUDA C/C++", 2012), so it also pays a host memcpy at ``host_copy_bw``; the staging is
modelled as serial, an upper bound where the driver pipelines chunks.

The achievable fraction of a pinned PCIe copy, 0.82, is the mean of four published pinned
H2D measurements (published.yaml: nvbandwidth on H100 and H200 over PCIe 5.0 x16, 51 and
52 GB/s; on A100 over PCIe 4.0 x16, 26.28 GB/s; bandwidthTest on A100-PCIe, 1 GB, 25.8 GB/s):
0.810, 0.825, 0.834, 0.819. The latency, 17 us, is the excess of the 1 MB bandwidthTest point
over its bandwidth term (the cudaMemcpy call and DMA setup, not the wire's ~1 us). NVLink
copies use the catalog's per-GPU per-direction bandwidth and NCCL's per-hop latency; their
achievable fraction, 0.77, is the NCCL all-reduce bus bandwidth at 8 GB on 8x A100 (231.58 of
300 GB/s, Azure AI benchmarking guide, ND A100 v4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlfleet.catalog.types import Interconnect
from mlfleet.errors import InputError

PCIE_GT_PER_S = {3: 8.0e9, 4: 16.0e9, 5: 32.0e9, 6: 64.0e9}
"""Signalling rate per lane (transfers/s) by PCIe generation (PCI-SIG base specifications)."""

PCIE_ENCODING = {3: 128 / 130, 4: 128 / 130, 5: 128 / 130, 6: 242 / 256}
"""Payload fraction of the line code: 128b/130b for gen 3-5, FLIT mode (242/256) for gen 6."""

PCIE_LANES = (1, 2, 4, 8, 16)

PINNED_PCIE_FRACTION = 0.82
"""Achievable fraction of raw PCIe bandwidth for a large pinned copy (module docstring)."""

PCIE_COPY_LATENCY_S = 17e-6
"""Fixed cost of one cudaMemcpy over PCIe (module docstring)."""

NVLINK_FRACTION = 0.77
"""Achievable fraction of NVLink per-direction bandwidth (module docstring)."""

DEFAULT_HOST_COPY_BW_BYTES_PER_S = 10e9
"""Assumed single-threaded host memcpy bandwidth for the pageable staging copy (an assumption:
measure this host's with ``mlfleet infra probe`` and pass ``host_copy_bw_bytes_per_s``)."""

_PCIE_RE = re.compile(r"^pcie(\d)-?x(\d+)$")
_NVLINK_RE = re.compile(r"^nvlink-?(\d)$")


@dataclass(frozen=True, kw_only=True)
class Link:
    """One direction of a copy link and what a large copy over it reaches."""

    name: str
    kind: str
    """``pcie`` (host<->device) or ``nvlink`` (device<->device)."""
    raw_bw_bytes_per_s: float
    """Per-direction payload bandwidth after line coding."""
    achievable_fraction: float
    latency_s: float


@dataclass(frozen=True, kw_only=True)
class TransferTime:
    """One copy's time and its terms (seconds)."""

    time_s: float
    latency_s: float
    wire_s: float
    """bytes / (raw bandwidth * achievable fraction)."""
    staging_s: float
    """Host memcpy into the pinned staging buffer (pageable copies only)."""
    achieved_bytes_per_s: float
    bound: str
    """The largest term: ``latency``, ``wire`` or ``staging``."""


def pcie_raw_bytes_per_s(generation: int, lanes: int) -> float:
    """Per-direction payload bandwidth of a PCIe link (PCI-SIG rates and line codes)."""
    if generation not in PCIE_GT_PER_S:
        raise InputError(f"PCIe generation {generation} is not one of "
                         f"{', '.join(map(str, PCIE_GT_PER_S))}")
    if lanes not in PCIE_LANES:
        raise InputError(f"PCIe lanes x{lanes} is not one of "
                         f"{', '.join(f'x{n}' for n in PCIE_LANES)}")
    return PCIE_GT_PER_S[generation] * lanes * PCIE_ENCODING[generation] / 8.0


def parse_link(text: str) -> Link:
    """``pcie5x16``, ``pcie4x8``, ``nvlink4`` (case-insensitive) -> :class:`Link`."""
    key = text.strip().lower()
    if match := _PCIE_RE.match(key):
        gen, lanes = int(match[1]), int(match[2])
        try:
            raw = pcie_raw_bytes_per_s(gen, lanes)
        except InputError as exc:
            raise InputError(f"--link {text!r}: {exc}") from None
        return Link(name=f"pcie{gen}x{lanes}", kind="pcie", raw_bw_bytes_per_s=raw,
                    achievable_fraction=PINNED_PCIE_FRACTION, latency_s=PCIE_COPY_LATENCY_S)
    if match := _NVLINK_RE.match(key):
        return _nvlink(int(match[1]))
    raise InputError(f"--link {text!r} must look like pcie<3-6>x<1|2|4|8|16> (e.g. pcie5x16) "
                     "or nvlink<3-5> (e.g. nvlink4)")


def _nvlink(generation: int) -> Link:
    name = f"NVLink{generation}"
    try:
        ic = Interconnect.from_name(name)
    except InputError as exc:
        raise InputError(f"NVLink generation {generation} is not in the catalog; "
                         "known: nvlink3, nvlink4, nvlink5") from exc
    return Link(name=name.lower(), kind="nvlink", raw_bw_bytes_per_s=ic.bw_bytes_per_s,
                achievable_fraction=NVLINK_FRACTION, latency_s=ic.latency_s)


def transfer_time(*, n_bytes: float, link: Link, pinned: bool = True,
                  host_copy_bw_bytes_per_s: float = DEFAULT_HOST_COPY_BW_BYTES_PER_S
                  ) -> TransferTime:
    """Time of one copy of ``n_bytes`` over ``link`` (formula in the module docstring).

    Raises InputError for a negative size, a non-positive host copy bandwidth, or a pageable
    copy over NVLink (pageable memory is host memory).
    """
    if not n_bytes >= 0:
        raise InputError(f"bytes(={n_bytes:g}) must be >= 0")
    if not host_copy_bw_bytes_per_s > 0:
        raise InputError(f"host copy bandwidth(={host_copy_bw_bytes_per_s:g}) must be > 0")
    if not pinned and link.kind != "pcie":
        raise InputError(f"a pageable copy is a host-to-device copy; {link.name} links devices")
    wire = n_bytes / (link.raw_bw_bytes_per_s * link.achievable_fraction)
    staging = 0.0 if pinned else n_bytes / host_copy_bw_bytes_per_s
    total = link.latency_s + wire + staging
    terms = {"latency": link.latency_s, "wire": wire, "staging": staging}
    return TransferTime(time_s=total, latency_s=link.latency_s, wire_s=wire, staging_s=staging,
                        achieved_bytes_per_s=n_bytes / total,
                        bound=max(terms, key=lambda k: terms[k]))
