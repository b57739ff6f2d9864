"""What the registry records about one model version, and how it is kept in MLflow tags.

MLflow stores a version's ``source`` (artifact URI) itself; everything else mlfleet needs to
gate and retire a version lives in version tags under the ``mlfleet.`` prefix, JSON where
the value is structured: the input and output schema (named, typed columns), metrics,
resource needs, the owning team and the lifecycle status.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlfleet.checks import non_negative, positive_int
from mlfleet.ops.registry.errors import RegistryInputError

STATUSES = ("active", "deprecated", "retired")
"""Lifecycle of a version: deprecated still serves but may not be pinned anew; retired is gone."""
TAG_PREFIX = "mlfleet."
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def model_name(what: str, name: str) -> str:
    """``name`` if it is a registry name (letters, digits, ``_.-``; at most 100), else an error."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RegistryInputError(f"{what}(={name!r}) must be 1-100 letters, digits, '_', '.' "
                                 "or '-', starting with a letter or digit")
    return name


@dataclass(frozen=True, kw_only=True)
class Column:
    """One named, typed column of a model's input or output."""

    name: str
    dtype: str
    """A type name compared by equality (``int64``, ``float32[64]``, ``string``)."""


@dataclass(frozen=True, kw_only=True)
class Resources:
    """What one deployed version needs; retirement reclaims it."""

    replicas: int = 1
    gpus_per_replica: float = 0.0
    cpus_per_replica: float = 1.0

    def __post_init__(self) -> None:
        positive_int("replicas", self.replicas, error=RegistryInputError)
        non_negative("gpus", self.gpus_per_replica, error=RegistryInputError)
        non_negative("cpus", self.cpus_per_replica, error=RegistryInputError)

    @property
    def gpus(self) -> float:
        """GPUs over all replicas."""
        return self.replicas * self.gpus_per_replica

    @property
    def cpus(self) -> float:
        """CPUs over all replicas."""
        return self.replicas * self.cpus_per_replica


@dataclass(frozen=True, kw_only=True)
class ModelCard:
    """One registered model version as mlfleet sees it."""

    name: str
    version: int
    source_uri: str
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    metrics: Mapping[str, float] = field(default_factory=dict)
    resources: Resources = Resources()
    team: str = ""
    status: str = "active"
    status_reason: str = ""

    @property
    def ref(self) -> str:
        """``name@vN``, as messages quote a version."""
        return f"{self.name}@v{self.version}"


def parse_columns(what: str, text: str) -> tuple[Column, ...]:
    """``"user_id:int64,emb:float32[64]"`` -> columns; a bad entry raises RegistryInputError."""
    columns = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        name, sep, dtype = item.partition(":")
        if not sep or not name.strip() or not dtype.strip():
            raise RegistryInputError(f"{what}(={item!r}) must be NAME:TYPE, e.g. user_id:int64")
        columns.append(Column(name=name.strip(), dtype=dtype.strip()))
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise RegistryInputError(f"{what}(={text!r}) names a column twice")
    return tuple(columns)


def parse_metrics(items: tuple[str, ...] | list[str]) -> dict[str, float]:
    """``["ndcg=0.31", "auc=0.8"]`` -> ``{"ndcg": 0.31, "auc": 0.8}``; finite values only."""
    metrics: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name.strip() or not math.isfinite(number):
            raise RegistryInputError(f"metric(={item!r}) must be NAME=NUMBER, e.g. ndcg=0.31")
        metrics[name.strip()] = number
    return metrics


def card_tags(card: ModelCard) -> dict[str, str]:
    """The version tags that record ``card`` (all but name, version and source)."""
    res = card.resources
    return {
        f"{TAG_PREFIX}inputs": _columns_json(card.inputs),
        f"{TAG_PREFIX}outputs": _columns_json(card.outputs),
        f"{TAG_PREFIX}metrics": json.dumps(dict(card.metrics), sort_keys=True),
        f"{TAG_PREFIX}resources": json.dumps({"replicas": res.replicas,
                                              "gpus_per_replica": res.gpus_per_replica,
                                              "cpus_per_replica": res.cpus_per_replica}),
        f"{TAG_PREFIX}team": card.team,
        f"{TAG_PREFIX}status": card.status,
    }


def card_from_tags(*, name: str, version: int, source_uri: str,
                   tags: Mapping[str, str]) -> ModelCard:
    """The inverse of :func:`card_tags`; a version registered outside mlfleet reads as empty."""
    def tag(key: str, default: str) -> str:
        return tags.get(TAG_PREFIX + key, default)

    resources = json.loads(tag("resources", "{}"))
    return ModelCard(
        name=name, version=version, source_uri=source_uri,
        inputs=_columns(tag("inputs", "[]")), outputs=_columns(tag("outputs", "[]")),
        metrics={k: float(v) for k, v in json.loads(tag("metrics", "{}")).items()},
        resources=Resources(**resources), team=tag("team", ""),
        status=tag("status", "active"), status_reason=tag("status_reason", ""))


def _columns_json(columns: tuple[Column, ...]) -> str:
    return json.dumps([[c.name, c.dtype] for c in columns])


def _columns(text: str) -> tuple[Column, ...]:
    return tuple(Column(name=n, dtype=t) for n, t in json.loads(text))
