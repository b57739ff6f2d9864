"""Meta-style recommendation inference: where embeddings and the dense MLP run best.

Fidelity: model (the roofline of :mod:`mlfleet.infra.roofline`, reused, on catalog
devices). A DLRM (Naumov et al., "Deep Learning Recommendation Model for Personalization
and Recommendation Systems", 2019) has two parts with opposite needs:

* **embeddings**: per sample, ``lookups`` rows of ``dim`` elements gathered from tables of
  ``embedding_bytes`` in all and sum-pooled per table. FLOP = B·lookups·dim; bytes =
  B·(lookups + tables)·dim·e (rows read, pooled vectors written). At 0.25 FLOP/byte in fp32
  it is memory-bound on every device, and the tables must first *fit*: DLRM-DCNv2's
  104.5 GB do not fit one H100's 80 GB, and Meta's production models reach 12 trillion
  parameters (Mudigere et al., ISCA'22), far beyond any GPU's HBM.
* **dense MLP** (bottom MLP, feature interaction, top MLP): FLOP = B·fwd_flop, bytes = the
  dense weights once per batch; compute-bound once the batch is large.

Three placements of one inference server (one host CPU socket always present):

* ``cpu-only``: both parts on the CPU socket, one after the other (Gupta et al., HPCA'20,
  characterise Meta's recommendation inference on CPU servers);
* ``gpu-only``: tables sharded over the fewest GPUs that hold them; the host sends ids and
  dense features over PCIe, pooled vectors are exchanged over NVLink (AlltoAll), each GPU
  runs the MLP on its share of the batch;
* ``hybrid``: tables in host DRAM, the CPU pools them, the pooled vectors cross PCIe, one
  GPU runs the MLP (host memory as the tier below HBM, as Mudigere et al. use DDR for
  tables that exceed HBM).

Stages on different resources pipeline, so throughput = B / (busiest resource's time) and
latency = sum of stage times. Cost per hour is owned hardware: purchase price over the
4-year refresh cycle of :mod:`mlfleet.infra.tco.ownership` plus power at TDP × PUE ×
electricity price (catalog). The roofline is at full efficiency: random 512-byte row
gathers reach less than streaming bandwidth, so real embedding times are longer on both
devices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.checks import positive_int
from mlfleet.errors import InputError
from mlfleet.infra import roofline as rl

SPLITS = ("cpu-only", "gpu-only", "hybrid")
"""Placements of embeddings and dense MLP, in table order."""
ID_BYTES = 8.0
"""One sparse feature id on the wire (int64)."""
DENSE_FEATURE_BYTES = 4.0
"""One dense feature (fp32)."""


@dataclass(frozen=True, kw_only=True)
class RecsysShape:
    """What one sample of a DLRM costs; from a ``recsys`` workload of the catalog."""

    name: str
    embedding_bytes: float
    tables: int
    lookups_per_sample: int
    embedding_dim: int
    embedding_element_bytes: float
    dense_params: float
    dense_features: int
    fwd_flop_per_sample: float

    @classmethod
    def from_workload(cls, name: str) -> RecsysShape:
        """Raises InputError for a workload that is not a recommendation model."""
        w = Workload.from_name(name)
        if w.family != "recsys" or w.embedding_bytes is None:
            raise InputError(f"workload {w.name!r} is not a recommendation model "
                             "(family recsys with embedding tables), e.g. DLRM-DCNv2")
        s = w.shape
        rows, dim = s["rows_total"], int(s["embedding_dim"])
        return cls(name=w.name, embedding_bytes=w.embedding_bytes, tables=int(s["tables"]),
                   lookups_per_sample=int(s["lookups_per_sample"]), embedding_dim=dim,
                   embedding_element_bytes=w.embedding_bytes / (rows * dim),
                   dense_params=w.params - rows * dim,
                   dense_features=int(s["dense_features"]), fwd_flop_per_sample=w.fwd_flop)

    @property
    def pooled_bytes_per_sample(self) -> float:
        return self.tables * self.embedding_dim * self.embedding_element_bytes

    @property
    def input_bytes_per_sample(self) -> float:
        """Ids and dense features of one sample as the host sends them."""
        return self.lookups_per_sample * ID_BYTES + self.dense_features * DENSE_FEATURE_BYTES


def embedding_cost(shape: RecsysShape, batch: int) -> rl.OpCost:
    """Gather and sum-pool one batch's rows (module docstring)."""
    elems = batch * shape.lookups_per_sample * shape.embedding_dim
    moved = batch * (shape.lookups_per_sample + shape.tables) * shape.embedding_dim
    flop = float(elems)
    return rl.OpCost(flop=_a(flop), mem_bytes=_a(moved * shape.embedding_element_bytes),
                     model_flop=_a(flop))


def dense_cost(shape: RecsysShape, batch: float, bytes_per_param: float) -> rl.OpCost:
    """The dense MLP over one batch: FLOP per sample × batch, weights read once."""
    flop = batch * shape.fwd_flop_per_sample
    return rl.OpCost(flop=_a(flop), mem_bytes=_a(shape.dense_params * bytes_per_param),
                     model_flop=_a(flop))


def _a(x: float) -> rl.FloatArray:
    return np.asarray(x, dtype=np.float64)


def devices_to_hold(need_bytes: float, accelerator: str | Accelerator) -> int:
    """Fewest devices whose memory holds ``need_bytes`` split evenly."""
    acc = Accelerator.from_name(accelerator) if isinstance(accelerator, str) else accelerator
    return max(1, math.ceil(need_bytes / acc.hbm_bytes))


@dataclass(frozen=True, kw_only=True)
class PartRow:
    """One part of the model on one device: does it fit, how long, what binds it."""

    part: str
    """'embeddings' or 'dense MLP'."""
    device: str
    need_bytes: float
    device_bytes: float
    fits: bool
    devices_to_fit: int
    time_s: float
    """Roofline time of one batch on one device (as if it fitted)."""
    bound: str
    """'memory capacity' when it does not fit one device, else 'compute' or 'memory
    bandwidth'."""
    arithmetic_intensity: float


def _part_row(part: str, cost: rl.OpCost, device: rl.Device, need_bytes: float) -> PartRow:
    result = rl.predict(cost, device)
    assert device.hbm_bytes is not None  # catalog devices always have a memory size
    fits = need_bytes <= device.hbm_bytes
    bound = str(result.bound.item())
    return PartRow(part=part, device=device.name, need_bytes=need_bytes,
                   device_bytes=device.hbm_bytes, fits=fits,
                   devices_to_fit=max(1, math.ceil(need_bytes / device.hbm_bytes)),
                   time_s=float(result.time_s), arithmetic_intensity=float(
                       result.arithmetic_intensity),
                   bound="memory capacity" if not fits else
                   "memory bandwidth" if bound == "memory" else bound)


def part_table(shape: RecsysShape, *, cpu: str, gpu: str, batch: int,
               precision: str) -> list[PartRow]:
    """Embeddings and dense MLP on the CPU and on the GPU (the bound table)."""
    positive_int("batch", batch)
    rows = []
    for acc in (cpu, gpu):
        emb_dev = rl.Device.from_accelerator(acc, "fp32")
        mlp_dev = rl.Device.from_accelerator(acc, precision)
        rows.append(_part_row("embeddings", embedding_cost(shape, batch), emb_dev,
                              shape.embedding_bytes))
        rows.append(_part_row("dense MLP", dense_cost(shape, batch, mlp_dev.bytes_per_element),
                              mlp_dev, shape.dense_params * mlp_dev.bytes_per_element))
    return rows


@dataclass(frozen=True, kw_only=True)
class Stage:
    """One step of serving a batch, on one resource."""

    name: str
    resource: str
    """'cpu', 'pcie', 'gpu' or 'nvlink': stages on one resource run one after another."""
    time_s: float


@dataclass(frozen=True, kw_only=True)
class SplitResult:
    """One placement of a batch: stages, throughput, latency, devices and cost."""

    split: str
    batch: int
    stages: tuple[Stage, ...]
    cpu_sockets: int
    gpus: int
    usd_per_h: float
    samples_per_s: float
    """batch / the busiest resource's time (stages on distinct resources pipeline)."""
    latency_s: float
    """Sum of the stage times of one batch."""
    bottleneck: str

    @property
    def usd_per_million_samples(self) -> float:
        return self.usd_per_h / (self.samples_per_s * 3600.0) * 1e6


def _time(cost: rl.OpCost, device: rl.Device) -> float:
    return float(rl.predict(cost, device).time_s)


def _stages(split: str, shape: RecsysShape, *, cpu: str, gpu: Accelerator, batch: int,
            precision: str, n_gpus: int) -> list[Stage]:
    cpu_f32, cpu_mlp = (rl.Device.from_accelerator(cpu, p) for p in ("fp32", precision))
    gpu_f32, gpu_mlp = (rl.Device.from_accelerator(gpu, p) for p in ("fp32", precision))
    pcie = pcie_bytes_per_s()
    emb = embedding_cost(shape, batch)
    if split == "cpu-only":
        return [Stage(name="embeddings", resource="cpu", time_s=_time(emb, cpu_f32)),
                Stage(name="dense MLP", resource="cpu", time_s=_time(
                    dense_cost(shape, batch, cpu_mlp.bytes_per_element), cpu_mlp))]
    if split == "hybrid":
        return [Stage(name="embeddings", resource="cpu", time_s=_time(emb, cpu_f32)),
                Stage(name="pooled vectors to GPU", resource="pcie",
                      time_s=batch * (shape.pooled_bytes_per_sample
                                      + shape.dense_features * DENSE_FEATURE_BYTES) / pcie),
                Stage(name="dense MLP", resource="gpu", time_s=_time(
                    dense_cost(shape, batch, gpu_mlp.bytes_per_element), gpu_mlp))]
    share = batch / n_gpus  # each GPU: its table shard's lookups, its slice of the batch
    alltoall = batch * shape.pooled_bytes_per_sample * (n_gpus - 1) / n_gpus / n_gpus
    link = gpu.scaleup_bw_bytes_per_s or pcie
    return [Stage(name="ids and dense features to GPUs", resource="pcie",
                  time_s=share * shape.input_bytes_per_sample / pcie),
            Stage(name="embeddings", resource="gpu", time_s=_time(emb, gpu_f32) / n_gpus),
            Stage(name="pooled-vector AlltoAll", resource="nvlink", time_s=alltoall / link),
            Stage(name="dense MLP", resource="gpu", time_s=_time(
                dense_cost(shape, share, gpu_mlp.bytes_per_element), gpu_mlp))]


def pcie_bytes_per_s() -> float:
    """Host-to-GPU bandwidth per direction: the catalog's PCIe 5.0 x16."""
    from mlfleet.catalog.types import Interconnect

    return Interconnect.from_name("PCIe5-x16").bw_bytes_per_s


def split(name: str, shape: RecsysShape, *, cpu: str = "host-cpu", gpu: str = "H100",
          batch: int = 512, precision: str = "bf16") -> SplitResult:
    """One placement (module docstring); InputError for an unknown split or a CPU whose
    memory cannot hold the tables where the split keeps them there."""
    from mlfleet.checks import one_of
    from mlfleet.infra.cases.hourly_cost import device_hour

    one_of("split", name, SPLITS)
    positive_int("batch", batch)
    gpu_acc, cpu_acc = Accelerator.from_name(gpu), Accelerator.from_name(cpu)
    if name != "gpu-only" and shape.embedding_bytes > cpu_acc.hbm_bytes:
        raise InputError(f"{shape.name}'s tables ({shape.embedding_bytes / 1e9:.1f} GB) do "
                         f"not fit {cpu_acc.name}'s memory ({cpu_acc.hbm_bytes / 1e9:.0f} GB)")
    gpus = {"cpu-only": 0, "hybrid": 1}.get(
        name, devices_to_hold(shape.embedding_bytes
                              + shape.dense_params * rl.BYTES_PER_ELEMENT[precision],
                              gpu_acc))
    stages = _stages(name, shape, cpu=cpu_acc.name, gpu=gpu_acc, batch=batch,
                     precision=precision, n_gpus=max(gpus, 1))
    busy: dict[str, float] = {}
    for s in stages:
        busy[s.resource] = busy.get(s.resource, 0.0) + s.time_s
    bottleneck = max(busy, key=lambda r: busy[r])
    usd_per_h = device_hour(cpu_acc.name).usd_per_h + gpus * (
        device_hour(gpu_acc.name).usd_per_h if gpus else 0.0)
    return SplitResult(split=name, batch=batch, stages=tuple(stages), cpu_sockets=1, gpus=gpus,
                       usd_per_h=usd_per_h, samples_per_s=batch / busy[bottleneck],
                       latency_s=sum(s.time_s for s in stages), bottleneck=bottleneck)


def compare_splits(workload: str = "DLRM-DCNv2", **kwargs: object) -> list[SplitResult]:
    """All three placements of ``workload`` (keyword arguments as :func:`split`)."""
    shape = RecsysShape.from_workload(workload)
    return [split(s, shape, **kwargs) for s in SPLITS]  # type: ignore[arg-type]
