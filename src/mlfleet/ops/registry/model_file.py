"""A YAML file of model cards to register in one go (``register --file``, the demo).

``models:`` is a list of ``{name, source, team, inputs, outputs, metrics, resources}``;
``inputs``/``outputs`` map column name -> type, ``metrics`` name -> number, ``resources``
has ``replicas``, ``gpus_per_replica``, ``cpus_per_replica``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlfleet.ops.registry.card import Column, ModelCard, Resources, model_name, parse_metrics
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.yaml_file import read_yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ensembles"
"""The bundled 12-model recommendation pipeline: ``recsys-models.yaml`` and ``recsys-12.yaml``."""
_KEYS = {"name", "source", "team", "inputs", "outputs", "metrics", "resources"}


def load_cards(path: Path) -> list[ModelCard]:
    """The cards in ``path`` (version 0: MLflow numbers them on registration)."""
    data = read_yaml("file", path)
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise RegistryInputError(f"file(={str(path)!r}) must be a mapping with a 'models' list")
    return [card_from_data(item) for item in data["models"]]


def card_from_data(item: Any) -> ModelCard:
    """One card from its parsed YAML mapping."""
    if not isinstance(item, dict) or "name" not in item:
        raise RegistryInputError(f"model(={item!r}) must be a mapping with at least a name")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise RegistryInputError(f"model {item['name']!r} has unknown key {unknown[0]!r}; "
                                 f"known: {', '.join(sorted(_KEYS))}")
    metrics = _mapping(item, "metrics")
    try:
        resources = Resources(**_mapping(item, "resources"))
    except TypeError:
        raise RegistryInputError(f"model {item['name']!r} resources(={item['resources']!r}) "
                                 "may only have replicas, gpus_per_replica, "
                                 "cpus_per_replica") from None
    return ModelCard(
        name=model_name("name", item["name"]), version=0,
        source_uri=str(item.get("source") or f"models/{item['name']}"),
        inputs=_columns(item, "inputs"), outputs=_columns(item, "outputs"),
        metrics=parse_metrics([f"{k}={v}" for k, v in metrics.items()]),
        resources=resources, team=str(item.get("team", "")))


def _mapping(item: dict[str, Any], key: str) -> dict[str, Any]:
    value = item.get(key) or {}
    if not isinstance(value, dict):
        raise RegistryInputError(f"model {item['name']!r} {key}(={value!r}) must be a mapping")
    return value


def _columns(item: dict[str, Any], key: str) -> tuple[Column, ...]:
    return tuple(Column(name=str(n), dtype=str(t)) for n, t in _mapping(item, key).items())
