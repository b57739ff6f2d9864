"""Fallacy: "all ML infrastructure should be GPU-based", computed.

Fidelity: model. Two places where the CPU decides the bill:

1. **Recommendation inference at a given table size and query rate.** Per-device rates
   come from :mod:`mlfleet.infra.cases.recsys_hybrid` (roofline stage times of one batch).
   A fleet serving ``samples_per_s`` with ``table_bytes`` of embeddings needs, per placement,

       cpu-only: sockets = max(ceil(T / DRAM), ceil(R / r_cpu))
       gpu-only: gpus    = max(ceil(T / HBM),  ceil(R / r_gpu))     (+ one host socket per
                                                                      8 GPUs)
       hybrid:   sockets = max(ceil(T / DRAM), ceil(R / r_cpu_emb)),
                 gpus    = ceil(R / r_gpu_mlp)

   and costs the owned device-hours of :mod:`mlfleet.infra.cases.hourly_cost`. Small tables
   at a high rate favour GPUs; tables of terabytes at a modest rate are capacity-bound,
   and GPU HBM is the most expensive way to buy capacity. Cross-socket and cross-node
   traffic of sharded tables is not modelled (it would add to every sharded placement).
2. **Preprocessing.** A GPU consuming ``gpu_samples_per_s`` needs
   ``gpu_samples_per_s / core_samples_per_s`` CPU cores of decode and augmentation; a
   DGX H100 has 112 cores for 8 GPUs (14 per GPU). The per-core rate is measured on this
   host (:func:`measure_preprocess_rate`) or given.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlfleet.catalog.types import Accelerator
from mlfleet.checks import one_of, positive
from mlfleet.infra.cases import recsys_hybrid as rh
from mlfleet.infra.cases.hourly_cost import device_hour

GPUS_PER_HOST_SOCKET = 4
"""An 8-GPU server has two host sockets."""


@dataclass(frozen=True, kw_only=True)
class Rates:
    """Samples per second one device sustains, per role (from one batch's stage times)."""

    cpu_all: float
    """One CPU socket doing embeddings and MLP."""
    cpu_embeddings: float
    gpu_all: float
    """One GPU doing its share of embeddings, AlltoAll and MLP (gpu-only)."""
    gpu_mlp: float
    """One GPU fed pooled vectors over PCIe (hybrid): min of MLP and PCIe."""


def rates(shape: rh.RecsysShape, *, cpu: str, gpu: str, batch: int,
          precision: str) -> Rates:
    """Per-device rates from the three placements of :func:`recsys_hybrid.split`."""
    kw = {"cpu": cpu, "gpu": gpu, "batch": batch, "precision": precision}
    cpu_only, gpu_only, hybrid = (rh.split(s, shape, **kw) for s in rh.SPLITS)  # type: ignore[arg-type]
    per = {s.resource: 0.0 for s in hybrid.stages}
    for s in hybrid.stages:
        per[s.resource] += s.time_s
    return Rates(cpu_all=cpu_only.samples_per_s, cpu_embeddings=batch / per["cpu"],
                 gpu_all=gpu_only.samples_per_s / gpu_only.gpus,
                 gpu_mlp=batch / max(per["gpu"], per["pcie"]))


@dataclass(frozen=True, kw_only=True)
class FleetCost:
    """Devices and owned cost of one placement serving a rate with a table size."""

    split: str
    table_bytes: float
    samples_per_s: float
    cpu_sockets: int
    gpus: int
    usd_per_h: float
    capacity_bound: bool
    """True when memory, not throughput, sets the device count."""


def fleet_cost(split: str, *, table_bytes: float, samples_per_s: float, rate: Rates,
               cpu: str = "host-cpu", gpu: str = "H100") -> FleetCost:
    """Devices and USD per hour for ``split`` (module docstring, item 1)."""
    one_of("split", split, rh.SPLITS)
    positive("table_bytes", table_bytes)
    positive("samples_per_s", samples_per_s)
    dram = Accelerator.from_name(cpu).hbm_bytes
    hbm = Accelerator.from_name(gpu).hbm_bytes
    sockets, gpus, by_capacity = 0, 0, False
    if split == "gpu-only":
        need_mem, need_rate = math.ceil(table_bytes / hbm), math.ceil(samples_per_s / rate.gpu_all)
        gpus, by_capacity = max(need_mem, need_rate), need_mem > need_rate
        sockets = math.ceil(gpus / GPUS_PER_HOST_SOCKET)
    else:
        cpu_rate = rate.cpu_all if split == "cpu-only" else rate.cpu_embeddings
        need_mem, need_rate = math.ceil(table_bytes / dram), math.ceil(samples_per_s / cpu_rate)
        sockets, by_capacity = max(need_mem, need_rate), need_mem > need_rate
        gpus = math.ceil(samples_per_s / rate.gpu_mlp) if split == "hybrid" else 0
    usd = sockets * device_hour(cpu).usd_per_h + (gpus * device_hour(gpu).usd_per_h
                                                   if gpus else 0.0)
    return FleetCost(split=split, table_bytes=table_bytes, samples_per_s=samples_per_s,
                     cpu_sockets=sockets, gpus=gpus, usd_per_h=usd, capacity_bound=by_capacity)


def fleet_grid(*, table_bytes: list[float], samples_per_s: list[float],
               workload: str = "DLRM-DCNv2", cpu: str = "host-cpu", gpu: str = "H100",
               batch: int = 512, precision: str = "bf16") -> list[list[FleetCost]]:
    """For each (table size, rate): the three placements, in :data:`recsys_hybrid.SPLITS`
    order."""
    shape = rh.RecsysShape.from_workload(workload)
    rate = rates(shape, cpu=cpu, gpu=gpu, batch=batch, precision=precision)
    return [[fleet_cost(s, table_bytes=t, samples_per_s=r, rate=rate, cpu=cpu, gpu=gpu)
             for s in rh.SPLITS] for t in table_bytes for r in samples_per_s]


def preprocess_image(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The standard training augmentation after decode: random 224x224 crop, random
    horizontal flip, scale to [0, 1], normalise per channel, HWC -> CHW."""
    h, w, _ = image.shape  # (H, W, C) uint8
    y, x = int(rng.integers(0, h - 223)), int(rng.integers(0, w - 223))
    crop = image[y:y + 224, x:x + 224]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    out = (crop.astype(np.float32) / 255.0 - _MEAN) / _STD
    return np.ascontiguousarray(out.transpose(2, 0, 1))  # (C, H, W)


_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # ImageNet channel means
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def measure_preprocess_rate(*, images: int = 100, seed: int = 0,
                            clock: Callable[[], float] = time.process_time) -> float:
    """Samples per second one core runs :func:`preprocess_image` on 256x256 images (real
    measurement on this host, process CPU time so other jobs' time is not charged)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
    preprocess_image(image, rng)  # warm-up
    start = clock()
    for _ in range(images):
        preprocess_image(image, rng)
    return images / max(clock() - start, 1e-9)


def cores_per_gpu(*, gpu_samples_per_s: float, core_samples_per_s: float) -> float:
    """CPU cores one GPU's input pipeline needs (module docstring, item 2)."""
    return positive("gpu_samples_per_s", gpu_samples_per_s) / positive(
        "core_samples_per_s", core_samples_per_s)
