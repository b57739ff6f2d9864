"""The scenario: what a user plans — workload, cluster, training, serving, storage, prices.

A scenario is a YAML file (see ``docs/scenario.md`` and the bundled ``examples/``)::

    name: llama3-70b-pretraining
    workload: Llama-3-70B              # a catalog workload
    cluster: {name: H100-16k-fat-tree, gpus: 8192}
    training: {global_batch_tokens: 16Mi, seq_len: 8192, precision: bf16, total_tokens: 15T}
    prices: {electricity_usd_per_kwh: $0.10/kWh, pue: 1.2}

Every quantity is written with a unit (``"10ms"``, ``"15TB"``, ``"$2.50/h"``) or as a plain
number in the unit its key names (``dataset_bytes: 1.5e13``); the loaded model holds SI floats
under the same unit-suffixed names (``serving.slo.p99_s``, ``storage.dataset_bytes``).
Catalog names are checked and stored in canonical form (``H100`` becomes ``H100-SXM``).

Loading validates everything and raises :class:`~mlfleet.errors.ScenarioError` with one line::

    cluster.gpus: -8 is not allowed; must be a positive integer

(prefixed with ``FILE:LINE:`` when the scenario came from a file). No other exception escapes
:func:`load_scenario`, :func:`loads_scenario` or :func:`parse_scenario`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import reprlib
import sys
import typing
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from mlfleet import catalog
from mlfleet.catalog.types import PRECISIONS, Accelerator, Cluster, Interconnect
from mlfleet.errors import CatalogError, ScenarioError, UnitError, one_line
from mlfleet.units import parse_quantity

__all__ = [
    "Scenario", "ClusterSpec", "TrainingSpec", "ParallelismSpec", "ServingSpec", "SloSpec",
    "StorageSpec", "PricesSpec", "ConstraintsSpec", "TRAINING_PRECISIONS", "SERVING_PRECISIONS",
    "load_scenario", "loads_scenario", "parse_scenario", "scenario_json_schema",
    "bundled_scenarios", "default_scenario_path",
]

TRAINING_PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8")
"""Precisions a training job may name (the catalog must define a peak for the accelerator)."""
SERVING_PRECISIONS = PRECISIONS
"""Precisions a serving deployment may name (training's plus int8)."""

MAX_FILE_BYTES = 1 << 20
"""Largest scenario file read (a real one is a few kB)."""
MAX_GPUS = 10_000_000
"""Largest accelerator count a cluster may name (well above any cluster built so far)."""
MAX_COUNT = 10**18
"""Largest count elsewhere (tokens, samples, degrees)."""
DEFAULT_SCENARIO = "llm-pretraining"
"""The bundled example `mlfleet plan` runs without an argument."""
_DEFAULTED = ("prices", "constraints")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")

# ---------------------------------------------------------------------------------------------
# Field validators. Each raises _Invalid, which the loader turns into one ScenarioError line.


_INPUT: Any = object()
"""_Invalid.value meaning 'the input pydantic reports for this location'."""
_MISSING: Any = object()
"""_Invalid.value meaning 'the field is absent'."""


class _Invalid(ValueError):
    """A value that is not allowed, raised inside pydantic validation.

    ``path`` extends the location pydantic reports (for checks that span fields);
    ``verbatim`` messages (catalog errors) are printed after the path as they are.
    """

    def __init__(self, allowed: str, *, value: Any = _INPUT, path: tuple[str, ...] = (),
                 verbatim: bool = False) -> None:
        super().__init__(allowed)
        self.allowed, self.value, self.path, self.verbatim = allowed, value, path, verbatim


def _invalid(allowed: str, value: Any, *path: str) -> _Invalid:
    return _Invalid(allowed, value=value, path=path)


def _as_number(raw: Any, target: str) -> float | int | None:
    """``raw`` as a number in ``target`` units, or None when it is not a finite quantity."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().endswith("%") and target == "count":
        number = _as_number(raw.strip()[:-1], target)
        return None if number is None else number / 100.0
    if not isinstance(raw, float | str) or len(str(raw)) > 100:
        return None
    try:
        value = parse_quantity(raw, target)
    except (UnitError, OverflowError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _count(allowed: str, *, minimum: int = 1, maximum: int = MAX_COUNT) -> Callable[[Any], int]:
    """Validator for an integer count; accepts ``16384``, ``"16k"``, ``"4Mi"``, ``1.6e4``."""

    def validate(raw: Any) -> int:
        number = _as_number(raw, "count")
        if number is None or (isinstance(number, float) and not number.is_integer()):
            raise _Invalid(allowed)
        if not minimum <= number <= maximum:
            raise _Invalid(allowed if number < minimum else f"{allowed} no larger than {maximum:,}")
        return int(number)

    return validate


_PHRASES: Mapping[str, str] = {
    "bytes": "size such as 15TB, 80GiB or a number of bytes",
    "s": "duration such as 10ms, 30d or a number of seconds",
    "per_s": "rate such as 50000/s, 50k or a number per second",
    "w": "power such as 20MW or a number of watts",
    "usd": "amount of money such as $250000, 1.5M or a number of USD",
    "usd_per_h": "price per hour such as $2.50/h or a number of USD per hour",
    "usd_per_kwh": "energy price such as $0.10/kWh or a number of USD per kWh",
}


def _quantity(target: str, *, allow_zero: bool = False) -> Callable[[Any], float]:
    """Validator for a quantity in SI units: a unit string or a number in ``target`` units."""
    allowed = f"must be a {'non-negative' if allow_zero else 'positive'} {_PHRASES[target]}"

    def validate(raw: Any) -> float:
        number = _as_number(raw, target)
        if number is None or number < 0 or (number == 0 and not allow_zero):
            raise _Invalid(allowed)
        return float(number)

    return validate


def _ratio(lo: float, hi: float, *, lo_open: bool = False, what: str) -> Callable[[Any], float]:
    """Validator for a dimensionless number in [lo, hi] (or (lo, hi]); ``"40%"`` is 0.4."""
    bracket = "(" if lo_open else "["
    allowed = f"must be {what}, a number in {bracket}{lo:g}, {hi:g}]"

    def validate(raw: Any) -> float:
        number = _as_number(raw, "count")
        if number is None or number > hi or number < lo or (lo_open and number == lo):
            raise _Invalid(allowed)
        return float(number)

    return validate


def _catalog_name(kind: str) -> Callable[[Any], str]:
    """Validator for a catalog name of ``kind``; returns the canonical name."""

    def validate(raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
            raise _Invalid(f"must be a catalog {kind} name (see `mlfleet catalog list {kind}`)")
        try:
            return catalog.get(raw.strip(), kind=kind).name
        except CatalogError as exc:
            raise _Invalid(str(exc), verbatim=True) from None

    return validate


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def validate(raw: Any) -> str:
        if not isinstance(raw, str) or raw.strip().lower() not in choices:
            raise _Invalid(f"must be one of {', '.join(choices)}")
        return raw.strip().lower()

    return validate


def _text(*, max_chars: int, single_line: bool) -> Callable[[Any], str]:
    line = "a single line of text" if single_line else "text"
    allowed = f"must be {line} of 1 to {max_chars:,} characters"

    def validate(raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > max_chars:
            raise _Invalid(allowed)
        if single_line and len(raw.splitlines()) > 1:
            raise _Invalid(allowed)
        return raw.strip()

    return validate


_QUANTITY_SCHEMA = WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]})
_COUNT_SCHEMA = WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]})
_RATIO_SCHEMA = WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}]})


def _names_schema(kind: str) -> WithJsonSchema:
    known = catalog.names(kind)
    return WithJsonSchema({"type": "string", **({"examples": known} if known else {})})


# The vocabulary of field types: what the file may say, and the SI value the model holds.
PositiveInt = Annotated[int, BeforeValidator(_count("must be a positive integer")), _COUNT_SCHEMA]
GpuCount = Annotated[int, BeforeValidator(_count("must be a positive integer", maximum=MAX_GPUS)),
                     _COUNT_SCHEMA]
ZeroStage = Annotated[int, BeforeValidator(_count("must be 0, 1, 2 or 3", minimum=0, maximum=3)),
                      WithJsonSchema({"enum": [0, 1, 2, 3]})]
Bytes = Annotated[float, BeforeValidator(_quantity("bytes")), _QUANTITY_SCHEMA]
Seconds = Annotated[float, BeforeValidator(_quantity("s")), _QUANTITY_SCHEMA]
PerSecond = Annotated[float, BeforeValidator(_quantity("per_s")), _QUANTITY_SCHEMA]
Watts = Annotated[float, BeforeValidator(_quantity("w")), _QUANTITY_SCHEMA]
Usd = Annotated[float, BeforeValidator(_quantity("usd")), _QUANTITY_SCHEMA]
PriceUsd = Annotated[float, BeforeValidator(_quantity("usd", allow_zero=True)), _QUANTITY_SCHEMA]
UsdPerH = Annotated[float, BeforeValidator(_quantity("usd_per_h", allow_zero=True)),
                    _QUANTITY_SCHEMA]
UsdPerKwh = Annotated[float, BeforeValidator(_quantity("usd_per_kwh", allow_zero=True)),
                      _QUANTITY_SCHEMA]
Fraction = Annotated[float, BeforeValidator(_ratio(0.0, 1.0, lo_open=True, what="a fraction")),
                     _RATIO_SCHEMA]
Ratio = Annotated[float, BeforeValidator(_ratio(1.0, 1000.0, what="a ratio")), _RATIO_SCHEMA]
Pue = Annotated[float, BeforeValidator(_ratio(1.0, 3.0, what="a power usage effectiveness")),
                _RATIO_SCHEMA]
Epochs = Annotated[float, BeforeValidator(_ratio(0.0, 1e6, lo_open=True,
                                                 what="a number of epochs")), _RATIO_SCHEMA]
ShortText = Annotated[str, BeforeValidator(_text(max_chars=100, single_line=True)),
                      WithJsonSchema({"type": "string", "maxLength": 100})]
LongText = Annotated[str, BeforeValidator(_text(max_chars=10_000, single_line=False)),
                     WithJsonSchema({"type": "string"})]
TrainingPrecision = Annotated[str, BeforeValidator(_choice(TRAINING_PRECISIONS)),
                              WithJsonSchema({"enum": list(TRAINING_PRECISIONS)})]
ServingPrecision = Annotated[str, BeforeValidator(_choice(SERVING_PRECISIONS)),
                             WithJsonSchema({"enum": list(SERVING_PRECISIONS)})]
WorkloadName = Annotated[str, BeforeValidator(_catalog_name("workload")), _names_schema("workload")]
AcceleratorName = Annotated[str, BeforeValidator(_catalog_name("accelerator")),
                            _names_schema("accelerator")]
InterconnectName = Annotated[str, BeforeValidator(_catalog_name("interconnect")),
                             _names_schema("interconnect")]
ClusterName = Annotated[str, BeforeValidator(_catalog_name("cluster")), _names_schema("cluster")]
StorageName = Annotated[str, BeforeValidator(_catalog_name("storage")), _names_schema("storage")]

# ---------------------------------------------------------------------------------------------
# The model.


class _Spec(BaseModel):
    # Field docstrings become the JSON Schema descriptions and the 'required:' hints.
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


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
        return {**_cluster_defaults(catalog.get(name, kind="cluster")), **data}

    @model_validator(mode="after")
    def _whole_nodes(self) -> ClusterSpec:
        if self.gpus > self.gpus_per_node and self.gpus % self.gpus_per_node:
            raise _invalid(f"must be at most cluster.gpus_per_node ({self.gpus_per_node}) "
                           "or a multiple of it", self.gpus, "gpus")
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


def _cluster_defaults(entry: catalog.Entry) -> dict[str, Any]:
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
        return self


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


# ---------------------------------------------------------------------------------------------
# Loading, and turning every failure into one ScenarioError line.


def load_scenario(source: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a file path, a bundled example's name (``"llm-pretraining"``) or,
    when ``source`` is a str holding a newline or starting with ``{``, from YAML text.

    Raises ScenarioError (one line) for any defect: missing file, bad YAML, bad field.
    """
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return loads_scenario(source)
    if not isinstance(source, str | os.PathLike):
        raise ScenarioError(f"{source!r} is not a scenario path or YAML text")
    path = Path(source)
    bundled = {p.stem: p for p in bundled_scenarios()}
    if isinstance(source, str) and source in bundled and not _exists(path):
        path = bundled[source]
    return loads_scenario(_read(path, bundled), source=str(path))


def loads_scenario(text: str, *, source: str = "<string>") -> Scenario:
    """Parse and validate scenario YAML text; ``source`` names it in error messages."""
    if not isinstance(text, str):
        raise ScenarioError(f"{source}: scenario text must be a str, not {type(text).__name__}")
    node, raw = _parse_yaml(text, source)
    return _validate(raw, source=source, node=node)


def parse_scenario(raw: Any, *, source: str | None = None) -> Scenario:
    """Validate an already-parsed scenario (a mapping, as from ``yaml.safe_load``)."""
    return _validate(raw, source=source, node=None)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the scenario file format."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlfleet scenario"
    cluster = schema["properties"]["cluster"]
    schema["properties"]["cluster"] = {
        "anyOf": [{"type": "string", "description": "a catalog cluster name"},
                  {"$ref": cluster.get("$ref", "#/$defs/ClusterSpec")}],
        "description": cluster.get("description", ""),
    }
    return schema


def bundled_scenarios() -> list[Path]:
    """The example scenarios shipped with mlfleet, sorted by file name."""
    folder = resources.files("mlfleet").joinpath("examples")
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".yaml"))


def default_scenario_path() -> Path:
    """The scenario `mlfleet plan` runs without an argument (LLM pretraining at scale)."""
    return Path(str(resources.files("mlfleet").joinpath("examples", DEFAULT_SCENARIO + ".yaml")))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _read(path: Path, bundled: Mapping[str, Path]) -> str:
    try:
        if not path.is_file():
            what = "is not a regular file" if _exists(path) else "does not exist"
            names = ", ".join(bundled) or "none"
            raise ScenarioError(f"scenario file {str(path)!r} {what}; give a YAML file or a "
                                f"bundled example ({names})")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a scenario")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text; a scenario is a YAML file") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(f"cannot read scenario file {str(path)!r}: {reason}") from None


def read_stdin() -> str:
    """Scenario text from standard input (for ``mlfleet scenario check -``)."""
    try:
        return sys.stdin.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"cannot read a scenario from stdin: {exc}") from None


# libyaml's parser when PyYAML was built with it (about 10x faster), else the pure-Python one.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """SafeLoader that rejects duplicate keys (a silently ignored ``gpus:`` is a classic bug)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"{source}: larger than {MAX_FILE_BYTES:,} characters; not a scenario")
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.reader.ReaderError as exc:
        raise ScenarioError(f"{source}: invalid YAML: character {chr(exc.character)!r} at "
                            f"position {exc.position} is not allowed in YAML") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = exc.problem or exc.context
        raise ScenarioError(one_line(f"{where}: invalid YAML: {problem}")) from None
    except RecursionError:
        raise ScenarioError(f"{source}: invalid YAML: nested too deeply") from None
    except Exception as exc:  # PyYAML's constructors raise assorted built-ins on bad tagged scalars
        problem = f"{type(exc).__name__}: {exc}"
        raise ScenarioError(one_line(f"{source}: invalid YAML: {problem}")) from None
    finally:
        if loader is not None:
            loader.dispose()


def _validate(raw: Any, *, source: str | None, node: yaml.Node | None) -> Scenario:
    prefix = f"{source}: " if source else ""
    if raw is None:
        raise ScenarioError(f"{prefix}empty scenario; expected a mapping with fields "
                            f"{_fields(Scenario)}")
    if not isinstance(raw, dict):
        raise ScenarioError(f"{prefix}top level: {_render(raw)} is not allowed; must be a mapping "
                            f"with fields {_fields(Scenario)}")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        loc, message = _describe(errors[0])
        line = _line_of(node, loc)
        where = f"{source}:{line}: " if source and line else prefix
        more = len(errors) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise ScenarioError(one_line(f"{where}{message}{suffix}")) from None
    except RecursionError:
        raise ScenarioError(f"{prefix}scenario nested too deeply") from None


def _describe(error: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
    """(location, one-line message) for one pydantic error."""
    loc, kind = tuple(error["loc"]), error["type"]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, _Invalid):
        loc = loc + cause.path
        value = error.get("input") if cause.value is _INPUT else cause.value
        if cause.verbatim:
            return loc, f"{_dotted(loc)}: {cause.allowed}"
        if value is _MISSING:
            return loc, f"{_dotted(loc)}: missing; {cause.allowed}"
        return loc, f"{_dotted(loc)}: {_render(value)} is not allowed; {cause.allowed}"
    if kind == "missing":
        return loc, f"{_dotted(loc)}: missing; required: {_description(loc)}"
    if kind in ("extra_forbidden", "invalid_key"):
        return loc, f"{_dotted(loc)}: unknown field is not allowed; {_known_fields(loc)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(loc)
        fields = f" with fields {_fields(model)}" if model else ""
        value = _render(error.get("input"))
        return loc, f"{_dotted(loc)}: {value} is not allowed; must be a mapping{fields}"
    return loc, f"{_dotted(loc)}: {_render(error.get('input'))} is not allowed; {error['msg']}"


def _dotted(loc: tuple[Any, ...]) -> str:
    """``serving.slo.p99_s``; a key that is not a plain word is quoted (``'my key'``)."""
    parts = [part if isinstance(part, str) and _PLAIN_KEY.fullmatch(part) else repr(part)
             for part in loc]
    return ".".join(parts) or "top level"


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 60, 60, 2, 4, 4


def _render(value: Any) -> str:
    """A short one-line rendering of a bad value, YAML-flavoured for scalars."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"{float(value):.3e}" if abs(value) < 10**300 else "a huge integer"
    try:
        return _REPR.repr(value)
    except ValueError:  # ints beyond Python's int-to-str digit limit, nested in a container
        return f"a {type(value).__name__}"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Scenario
    for key in loc:
        field = model.model_fields.get(key) if model and isinstance(key, str) else None
        if field is None:
            return None
        model = next((t for t in (field.annotation, *typing.get_args(field.annotation))
                      if isinstance(t, type) and issubclass(t, BaseModel)), None)
    return model


def _description(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc[:-1])
    field = model.model_fields.get(loc[-1]) if model and loc else None
    text = field.description if field and field.description else "see `mlfleet scenario schema`"
    text = text[:1].lower() + text[1:].rstrip(".")
    if model is ClusterSpec:
        text += " (taken from the catalog cluster when cluster.name is given)"
    return text


def _fields(model: type[BaseModel] | None) -> str:
    return ", ".join(model.model_fields) if model else ""


def _known_fields(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return "see `mlfleet scenario schema`"
    near = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? " if near else ""
    section = f"{_dotted(loc[:-1])} has" if loc[:-1] else "allowed at the top level are"
    return f"{hint}{section} fields {_fields(model)}"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc`` (the bad key or value)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(key)), None)
        if match is None:
            break
        line = match[0].start_mark.line + 1
        node = match[1]
        if not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1
    return line
