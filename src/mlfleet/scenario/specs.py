"""The scenario's pydantic models: cluster, parallelism, training, serving (with SLOs),
storage, prices and constraints, composed into :class:`Scenario`.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import (
    BaseModel,
    model_validator,
)

from mlfleet import catalog
from mlfleet.catalog.cluster_size import too_many_gpus
from mlfleet.catalog.types import Accelerator, Cluster, Interconnect
from mlfleet.scenario.base import _Spec
from mlfleet.scenario.deployment_spec import DeploymentSpec
from mlfleet.scenario.ops_spec import OpsSpec
from mlfleet.scenario.parsers import (
    _DEFAULTED,
    _MISSING,
    AcceleratorName,
    Bytes,
    ClusterName,
    Epochs,
    Fraction,
    GpuCount,
    InterconnectName,
    LongText,
    PerSecond,
    PositiveInt,
    PriceUsd,
    Pue,
    Ratio,
    SchedulingPolicy,
    Seconds,
    ServingPrecision,
    ShortText,
    StorageName,
    TrainingPrecision,
    Usd,
    UsdPerH,
    UsdPerKwh,
    Watts,
    WorkloadName,
    ZeroStage,
    _catalog_name,
    _Invalid,
    _invalid,
)

# ---------------------------------------------------------------------------------------------
# The model.


class ClusterSpec(_Spec):
    """The machines: a catalog cluster (``cluster: DGX-H100``), optionally with overrides
    (``cluster: {name: H100-1k-fat-tree, gpus: 512, oversubscription: 2}``), or a custom one
    built from catalog parts (``{accelerator: A100-80GB, gpus: 64, gpus_per_node: 8,
    scaleup: ..., scaleout: ...}``). After loading every field but ``name`` is filled in.
    """

    name: ClusterName | None = None
    """Catalog cluster that the fields left out are taken from."""
    accelerator: AcceleratorName
    """Catalog accelerator name, e.g. H100-SXM."""
    gpus: GpuCount
    """Accelerators in the job, a positive integer."""
    gpus_per_node: GpuCount
    """Accelerators per node (the scale-up domain), e.g. 8."""
    scaleup: InterconnectName
    """Catalog interconnect inside a node (NVLink, ICI, ...)."""
    scaleout: InterconnectName
    """Catalog interconnect between nodes (InfiniBand, RoCE, ...)."""
    rails_per_node: GpuCount = 1
    """Scale-out NICs (rails) per node."""
    oversubscription: Ratio = 1.0
    """Leaf-switch downlink:uplink bandwidth ratio; 1 is non-blocking."""

    @model_validator(mode="before")
    @classmethod
    def _from_catalog(cls, data: Any) -> Any:
        """Accept a bare name, and fill fields not given from the named catalog cluster."""
        if isinstance(data, str):
            data = {"name": data}
        if not isinstance(data, dict):
            raise _Invalid("must be a catalog cluster name or a mapping with fields "
                           + _fields(cls))
        if data.get("name") is None:
            return data
        try:
            name = _catalog_name("cluster")(data["name"])
        except _Invalid as exc:
            raise _Invalid(exc.allowed, value=data["name"], path=("name",),
                           verbatim=exc.verbatim) from None
        return {**cluster_defaults(catalog.get(name, kind="cluster")), **data}

    @model_validator(mode="after")
    def _whole_nodes(self) -> ClusterSpec:
        if self.gpus > self.gpus_per_node and self.gpus % self.gpus_per_node:
            raise _invalid(f"must be at most cluster.gpus_per_node ({self.gpus_per_node}) "
                           "or a multiple of it", self.gpus, "gpus")
        return self

    @model_validator(mode="after")
    def _within_catalog_cluster(self) -> ClusterSpec:
        """gpus may not exceed the named catalog cluster's: the rule ``mlfleet comm`` applies."""
        if self.name is None:
            return self
        cluster_gpus = cluster_defaults(catalog.get(self.name, kind="cluster")).get("gpus")
        reason = None if cluster_gpus is None else too_many_gpus(
            cluster=self.name, cluster_gpus=int(cluster_gpus), gpus=self.gpus)
        if reason is not None:
            raise _invalid(reason, self.gpus, "gpus")
        return self

    @property
    def nodes(self) -> int:
        """Nodes the job occupies (a job smaller than a node uses part of one)."""
        return -(-self.gpus // self.gpus_per_node)

    def to_cluster(self) -> Cluster:
        """The typed catalog view the models use (a job smaller than one node gets one
        node of ``gpus`` accelerators). Raises CatalogError if a catalog entry is incomplete."""
        topology = "fat-tree"
        if self.name is not None:
            topology = str(catalog.get(self.name, kind="cluster").get("topology", topology))
        return Cluster(name=self.name or f"custom-{self.accelerator}-x{self.gpus}",
                       accelerator=Accelerator.from_name(self.accelerator), nodes=self.nodes,
                       gpus_per_node=min(self.gpus, self.gpus_per_node),
                       scaleup=Interconnect.from_name(self.scaleup),
                       scaleout=Interconnect.from_name(self.scaleout),
                       rails_per_node=self.rails_per_node,
                       oversubscription=self.oversubscription, topology=topology)


def cluster_defaults(entry: catalog.Entry) -> dict[str, Any]:
    nodes, per_node = entry.get("nodes"), entry.get("gpus_per_node")
    gpus = entry.get("gpus") or (nodes * per_node if nodes and per_node else None)
    fields = {"accelerator": entry.get("accelerator"), "gpus": gpus, "gpus_per_node": per_node,
              "scaleup": entry.get("scaleup"), "scaleout": entry.get("scaleout"),
              "rails_per_node": entry.get("rails_per_node"),
              "oversubscription": entry.get("oversubscription")}
    return {key: value for key, value in fields.items() if value is not None}


class ParallelismSpec(_Spec):
    """Fixed parallelism degrees; a degree left out is for the planner to choose."""

    data: PositiveInt | None = None
    """Data-parallel replicas."""
    tensor: PositiveInt | None = None
    """Tensor-parallel degree (usually within a node)."""
    pipeline: PositiveInt | None = None
    """Pipeline stages."""
    expert: PositiveInt | None = None
    """Expert-parallel degree (MoE); divides ``data``."""

    def product(self) -> int:
        """Product of the data, tensor and pipeline degrees given (1 for those left out)."""
        return math.prod(d for d in (self.data, self.tensor, self.pipeline) if d is not None)

    @model_validator(mode="after")
    def _expert_divides_data(self) -> ParallelismSpec:
        if self.expert is not None and self.data is not None and self.data % self.expert:
            raise _invalid(f"must divide parallelism.data ({self.data})", self.expert, "expert")
        return self


class TrainingSpec(_Spec):
    """A training job: the batch, the precision, fixed parallelism and how much to train."""

    global_batch_tokens: PositiveInt | None = None
    """Tokens per optimizer step, e.g. 16Mi; give this or ``global_batch_samples``."""
    global_batch_samples: PositiveInt | None = None
    """Samples (sequences, images, rows) per optimizer step."""
    seq_len: PositiveInt | None = None
    """Tokens per sequence; required for token workloads."""
    precision: TrainingPrecision = "bf16"
    """Compute precision."""
    parallelism: ParallelismSpec | None = None
    """Fixed parallelism degrees (data x tensor x pipeline must equal cluster.gpus)."""
    zero_stage: ZeroStage | None = None
    """ZeRO / FSDP sharding stage; 0 is plain data parallelism."""
    total_tokens: PositiveInt | None = None
    """Tokens to train on, e.g. 15T."""
    total_samples: PositiveInt | None = None
    """Samples to train on."""
    epochs: Epochs | None = None
    """Passes over the storage section's dataset."""
    duration_s: Seconds | None = None
    """Wall-clock time the job may run, e.g. 30d."""
    mfu: Fraction | None = None
    """Assumed model FLOP utilisation, e.g. 0.4 or 40%; left out, the planner estimates it."""

    @property
    def batch_samples(self) -> int:
        """Samples (sequences) per optimizer step."""
        if self.global_batch_samples is not None:
            return self.global_batch_samples
        assert self.global_batch_tokens is not None and self.seq_len  # checked on load
        return self.global_batch_tokens // self.seq_len

    @property
    def batch_tokens(self) -> int | None:
        """Tokens per optimizer step, or None without a sequence length."""
        if self.global_batch_tokens is not None:
            return self.global_batch_tokens
        return self.batch_samples * self.seq_len if self.seq_len else None

    @model_validator(mode="after")
    def _consistent(self) -> TrainingSpec:
        _check_batch(self)
        amounts = [key for key in ("total_tokens", "total_samples", "epochs")
                   if getattr(self, key) is not None]
        if len(amounts) > 1:
            raise _invalid(f"give at most one of total_tokens, total_samples, epochs "
                           f"(found {', '.join(amounts)})", getattr(self, amounts[1]), amounts[1])
        if self.total_tokens is not None and not self.seq_len:
            raise _Invalid("required with total_tokens (tokens per sequence)", path=("seq_len",),
                           value=_MISSING)
        return self


def _check_batch(spec: TrainingSpec) -> None:
    tokens, samples = spec.global_batch_tokens, spec.global_batch_samples
    if tokens is None and samples is None:
        raise _Invalid("give global_batch_tokens or global_batch_samples",
                       path=("global_batch_tokens",), value=_MISSING)
    if tokens is not None and samples is not None:
        raise _invalid("give global_batch_tokens or global_batch_samples, not both",
                       samples, "global_batch_samples")
    if tokens is not None:
        if not spec.seq_len:
            raise _Invalid("required with global_batch_tokens (tokens per sequence)",
                           path=("seq_len",), value=_MISSING)
        if tokens % spec.seq_len:
            raise _invalid(f"must be a multiple of training.seq_len ({spec.seq_len}), e.g. "
                           f"{max(1, round(tokens / spec.seq_len)) * spec.seq_len}", tokens,
                           "global_batch_tokens")
    data = spec.parallelism.data if spec.parallelism else None
    if data is not None and spec.batch_samples % data:
        raise _invalid(f"must divide the global batch ({spec.batch_samples} samples)", data,
                       "parallelism", "data")


class SloSpec(_Spec):
    """Service-level objectives for serving."""

    p50_s: Seconds | None = None
    """Median end-to-end latency."""
    p99_s: Seconds | None = None
    """99th-percentile end-to-end latency, e.g. 10ms."""
    ttft_p99_s: Seconds | None = None
    """99th-percentile time to first token (LLM)."""
    tpot_p99_s: Seconds | None = None
    """99th-percentile time per output token (LLM)."""
    availability: Fraction | None = None
    """Fraction of requests served within the SLO, e.g. 0.999."""

    @model_validator(mode="after")
    def _ordered(self) -> SloSpec:
        if self.p50_s is not None and self.p99_s is not None and self.p50_s > self.p99_s:
            raise _invalid(f"must not exceed slo.p99_s ({self.p99_s:g} s)", self.p50_s, "p50_s")
        return self


class ServingSpec(_Spec):
    """Serving traffic: the request rate, request sizes and the SLOs."""

    qps: PerSecond
    """Mean requests per second, e.g. 50k."""
    peak_to_mean: Ratio | None = None
    """Peak over mean request rate (capacity headroom), e.g. 2."""
    prompt_tokens: PositiveInt | None = None
    """Prompt tokens per request; required for token workloads."""
    output_tokens: PositiveInt | None = None
    """Generated tokens per request; required for token workloads."""
    items_per_request: PositiveInt = 1
    """Samples scored per request (RecSys candidates, images)."""
    request_bytes: Bytes | None = None
    """Request payload size on the wire."""
    response_bytes: Bytes | None = None
    """Response payload size on the wire."""
    precision: ServingPrecision = "bf16"
    """Inference precision."""
    slo: SloSpec | None = None
    """Latency and availability objectives."""


class StorageSpec(_Spec):
    """The training data and checkpoints."""

    dataset_bytes: Bytes | None = None
    """Dataset size, e.g. 15TB."""
    sample_bytes: Bytes | None = None
    """Mean size of one sample, e.g. 110kB."""
    dataset_samples: PositiveInt | None = None
    """Samples in the dataset, e.g. 1.28M."""
    medium: StorageName | None = None
    """Catalog storage medium holding the dataset."""
    checkpoint_every_s: Seconds | None = None
    """Fixed checkpoint interval; left out, the planner picks the optimum."""

    @property
    def samples(self) -> int | None:
        """Samples in the dataset: given, or dataset_bytes / sample_bytes."""
        if self.dataset_samples is not None:
            return self.dataset_samples
        if self.dataset_bytes and self.sample_bytes:
            return max(1, int(self.dataset_bytes // self.sample_bytes))
        return None

    @model_validator(mode="after")
    def _sample_fits(self) -> StorageSpec:
        size, sample = self.dataset_bytes, self.sample_bytes
        if size is not None and sample is not None and sample > size:
            raise _invalid(f"must not exceed storage.dataset_bytes ({size:g})", sample,
                           "sample_bytes")
        return self


class PricesSpec(_Spec):
    """Prices and power; a field left out takes the catalog's sourced default in the plan."""

    electricity_usd_per_kwh: UsdPerKwh | None = None
    """Electricity price, e.g. $0.10/kWh."""
    pue: Pue | None = None
    """Power usage effectiveness: facility power / IT power, e.g. 1.2."""
    cloud_usd_per_gpu_h: UsdPerH | None = None
    """Cloud price per accelerator-hour, e.g. $2.50/h."""
    purchase_usd_per_gpu: PriceUsd | None = None
    """Purchase price per accelerator including its share of the server."""
    amortization_s: Seconds | None = None
    """Hardware write-off period, e.g. 4year."""


class SchedulingSpec(_Spec):
    """The shared cluster the training job queues on, for the expected queueing delay."""

    shared_gpus: GpuCount
    """GPUs of the shared cluster the job is one of many on, e.g. 1024 (>= cluster.gpus)."""
    policy: SchedulingPolicy = "tiresias"
    """Scheduling policy (`mlfleet sim cluster --policy`), e.g. tiresias, fifo."""
    load: Fraction = 0.8
    """Offered load of the other jobs as a fraction of the shared cluster's GPU-time."""


class ConstraintsSpec(_Spec):
    """Assertions that `mlfleet plan` checks against the plan (exit 3 when one fails)."""

    max_cost_usd: Usd | None = None
    """Total cost of the training job (or of a year of serving)."""
    max_step_time_s: Seconds | None = None
    """Training step time."""
    max_training_time_s: Seconds | None = None
    """Wall-clock time to finish training."""
    min_goodput: Fraction | None = None
    """Useful fraction of training time, after failures and checkpoints."""
    max_power_w: Watts | None = None
    """Facility power draw, e.g. 20MW."""


class Scenario(_Spec):
    """A whole scenario; see the module docstring and ``docs/scenario.md``."""

    name: ShortText
    """Short name, e.g. llama3-70b-pretraining."""
    description: LongText | None = None
    """What this scenario is about."""
    workload: WorkloadName
    """Catalog workload name, e.g. Llama-3-70B."""
    cluster: ClusterSpec
    """Catalog cluster name, or a mapping (a catalog cluster with overrides, or catalog parts)."""
    training: TrainingSpec | None = None
    """The training job."""
    serving: ServingSpec | None = None
    """The serving traffic."""
    storage: StorageSpec | None = None
    """Dataset and checkpoints."""
    scheduling: SchedulingSpec | None = None
    """The shared cluster the training job queues on (queueing delay in the plan)."""
    deployment: DeploymentSpec | None = None
    """The declared `mlfleet serve` deployment (`mlfleet ops diff` checks it for drift)."""
    ops: OpsSpec | None = None
    """The model portfolio and its teams (the operations part of the plan)."""
    prices: PricesSpec = PricesSpec()
    """Prices and power."""
    constraints: ConstraintsSpec = ConstraintsSpec()
    """Assertions checked by `mlfleet plan`."""

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """``prices:`` or ``constraints:`` with nothing under it means the defaults."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k not in _DEFAULTED}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.training is None and self.serving is None:
            raise _Invalid("a scenario needs a training section, a serving section or both",
                           path=("training",), value=_MISSING)
        accelerator = catalog.get(self.cluster.accelerator, kind="accelerator")
        peaks = tuple(accelerator.group("flops_per_s"))
        unit = catalog.get(self.workload, kind="workload").get("unit")
        if self.training is not None:
            _check_training(self, peaks, unit)
        if self.serving is not None:
            _check_precision(self.serving.precision, peaks, self.cluster.accelerator, "serving")
            if unit == "token":
                for key in ("prompt_tokens", "output_tokens"):
                    if getattr(self.serving, key) is None:
                        raise _Invalid(f"required for a token workload ({self.workload})",
                                       path=("serving", key), value=_MISSING)
        _check_scheduling(self)
        return self


def _check_scheduling(scenario: Scenario) -> None:
    """A queueing delay needs a training job no bigger than the shared cluster."""
    sched = scenario.scheduling
    if sched is None:
        return
    if scenario.training is None:
        raise _Invalid("needs a training section (the job that queues)", path=("scheduling",),
                       value=_MISSING)
    if sched.shared_gpus < scenario.cluster.gpus:
        raise _invalid(f"must be at least cluster.gpus ({scenario.cluster.gpus}), the job's size",
                       sched.shared_gpus, "scheduling", "shared_gpus")


def _check_training(scenario: Scenario, peaks: tuple[str, ...], unit: object) -> None:
    training, gpus = scenario.training, scenario.cluster.gpus
    assert training is not None
    _check_precision(training.precision, peaks, scenario.cluster.accelerator, "training")
    if unit == "token" and not training.seq_len:
        raise _Invalid(f"required for a token workload ({scenario.workload})",
                       path=("training", "seq_len"), value=_MISSING)
    par = training.parallelism
    if par is not None:
        given = [d for d in (par.data, par.tensor, par.pipeline) if d is not None]
        if (len(given) == 3 and par.product() != gpus) or gpus % par.product():
            need = "equal" if len(given) == 3 else "divide"
            raise _invalid(f"data x tensor x pipeline = {par.product()} must {need} "
                           f"cluster.gpus ({gpus})", par.model_dump(exclude_none=True),
                           "training", "parallelism")
    samples = scenario.storage.samples if scenario.storage else None
    if training.epochs is not None and samples is None:
        raise _invalid("needs storage.dataset_samples (or dataset_bytes and sample_bytes)",
                       training.epochs, "training", "epochs")


def _check_precision(precision: str, peaks: tuple[str, ...], accelerator: str,
                     section: str) -> None:
    if peaks and precision not in peaks:
        raise _invalid(f"{accelerator} has a catalog peak only for {', '.join(peaks)}",
                       precision, section, "precision")


def _fields(model: type[BaseModel] | None) -> str:
    """The field names of ``model``, comma-separated (for error messages)."""
    return ", ".join(model.model_fields) if model else ""
