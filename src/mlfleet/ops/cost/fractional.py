"""Fractional GPUs: what a MIG slice or a time-sliced share is charged for.

* **MIG** (NVIDIA Multi-Instance GPU User Guide, profiles in
  :mod:`mlfleet.infra.isolation.mig`): an instance ``Ng.Mgb`` holds N of the GPU's 7
  compute slices, so it is charged ``N / 7`` of a GPU (an A100 ``1g.10gb`` is 1/7) at the
  GPU's rate; seven 1g slices cost exactly one GPU.
* **Time-slicing** (the NVIDIA device plugin's ``timeSlicing.replicas``): requests are not
  enforced, so jobs sharing a GPU are charged their measured share of its time; when the
  shares add up to more than the GPUs (oversubscription), they are scaled down so the
  jobs on it are charged exactly the GPUs, never more.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlfleet.checks import non_negative, positive
from mlfleet.errors import InputError
from mlfleet.infra.isolation.mig import COMPUTE_SLICES, profile_named


def mig_gpu_fraction(spec: str) -> float:
    """``"A100-80GB:1g.10gb"`` -> 1/7: the GPUs a MIG instance is charged for."""
    accelerator, sep, profile = spec.partition(":")
    if not sep:
        raise InputError(f"mig(={spec!r}) must look like ACCELERATOR:PROFILE, "
                         "e.g. A100-80GB:1g.10gb")
    return profile_named(accelerator.strip(), profile.strip()).compute_slices / COMPUTE_SLICES


def time_sliced_gpus(used_gpus: Sequence[float], *, gpus: float = 1.0) -> list[float]:
    """GPUs each of the jobs time-sliced on ``gpus`` GPUs is charged: its used share, scaled
    down so the shares never total more than ``gpus``."""
    positive("gpus", gpus)
    used = [non_negative(f"used_gpus[{i}]", u) for i, u in enumerate(used_gpus)]
    total = sum(used)
    scale = gpus / total if total > gpus else 1.0
    return [u * scale for u in used]
