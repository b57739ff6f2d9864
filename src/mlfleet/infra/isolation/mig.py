"""NVIDIA Multi-Instance GPU profiles: hardware slices of compute and memory.

Source: NVIDIA "Multi-Instance GPU User Guide", section "Supported MIG Profiles"
(A100-SXM4-40GB, A100-SXM4-80GB, H100-SXM5-80GB / H100-PCIe-80GB, H200-SXM5-141GB).
A GPU has 7 compute slices and 8 memory slices; profile ``Ng.Mgb`` takes N compute
slices and the memory slices that hold M GB, with their share of the memory
bandwidth. An instance shares no SM, L2 slice or memory channel with another, so
neighbours do not interfere; what is lost is what no profile of the mix can use.

Modelled: an instance runs at N/7 of the GPU's peak FLOP/s and at (memory slices)/8
of its bandwidth. Simplified: placement is checked by slice counts only (≤ 7
compute, ≤ 8 memory); the guide's placement table forbids some mixes that fit by
count (e.g. it starts each profile at fixed slice offsets). MIG mode on A100 exposes
98 of 108 SMs (14 per slice), a further loss not counted here.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.errors import InputError

COMPUTE_SLICES = 7
MEMORY_SLICES = 8


@dataclass(frozen=True, kw_only=True)
class MigProfile:
    """One GPU instance profile."""

    name: str
    compute_slices: int
    memory_slices: int
    memory_bytes: float

    @property
    def compute_fraction(self) -> float:
        return self.compute_slices / COMPUTE_SLICES

    @property
    def bandwidth_fraction(self) -> float:
        return self.memory_slices / MEMORY_SLICES


def _profiles(gb: tuple[float, float, float, float]) -> tuple[MigProfile, ...]:
    """The six profiles of a GPU whose 1g, 1g-double, 3g/4g and 7g memory is ``gb``."""
    one, two, four, eight = gb
    rows = (("1g", 1, 1, one), ("1g", 1, 2, two), ("2g", 2, 2, two), ("3g", 3, 4, four),
            ("4g", 4, 4, four), ("7g", 7, 8, eight))
    return tuple(MigProfile(name=f"{g}.{m:g}gb", compute_slices=c, memory_slices=s,
                            memory_bytes=m * 1e9) for g, c, s, m in rows)


PROFILES: dict[str, tuple[MigProfile, ...]] = {
    "A100-40GB": _profiles((5, 10, 20, 40)),
    "A100-80GB": _profiles((10, 20, 40, 80)),
    "H100-SXM": _profiles((10, 20, 40, 80)),
    "H100-PCIe": _profiles((10, 20, 40, 80)),
    "H200": _profiles((18, 35, 71, 141)),
}
"""Catalog accelerator name -> its MIG profiles, smallest first."""


def profiles_of(accelerator: str) -> tuple[MigProfile, ...]:
    """The MIG profiles of ``accelerator``; InputError naming the ones that have MIG."""
    if accelerator not in PROFILES:
        raise InputError(f"accelerator(={accelerator!r}) has no MIG profiles here; "
                         f"known: {', '.join(PROFILES)}")
    return PROFILES[accelerator]


def profile_named(accelerator: str, name: str) -> MigProfile:
    """The profile ``name`` (e.g. ``3g.40gb``) of ``accelerator``, else InputError."""
    profiles = profiles_of(accelerator)
    for profile in profiles:
        if profile.name == name:
            return profile
    raise InputError(f"MIG profile(={name!r}) is unknown for {accelerator}; "
                     f"known: {', '.join(p.name for p in profiles)}")


def smallest_fitting(accelerator: str, memory_bytes: float) -> MigProfile | None:
    """The smallest profile whose memory holds ``memory_bytes`` (None: none does)."""
    for profile in profiles_of(accelerator):
        if profile.memory_bytes >= memory_bytes:
            return profile
    return None


@dataclass(frozen=True, kw_only=True)
class Packing:
    """Instances on one GPU and what no instance uses."""

    profiles: tuple[MigProfile, ...]
    fits: bool
    """Whether the slice counts allow the mix on one GPU."""
    idle_compute_fraction: float
    idle_bandwidth_fraction: float


def pack(profiles: tuple[MigProfile, ...]) -> Packing:
    """Slice-count check of a mix on one GPU, and the stranded compute and bandwidth."""
    compute = sum(p.compute_slices for p in profiles)
    memory = sum(p.memory_slices for p in profiles)
    fits = compute <= COMPUTE_SLICES and memory <= MEMORY_SLICES
    return Packing(profiles=profiles, fits=fits,
                   idle_compute_fraction=max(0, COMPUTE_SLICES - compute) / COMPUTE_SLICES,
                   idle_bandwidth_fraction=max(0, MEMORY_SLICES - memory) / MEMORY_SLICES)
