"""A judge config file (YAML) and the bundled example.

::

    metrics:
      - {name: latency_p99_s, direction: increase, group: latency, shape_test: ks}
      - {name: errors, direction: increase, group: errors, criticality: critical,
         rate_test: poisson, exposure: requests}
    group_weights: {latency: 60, errors: 40}     # percent; optional
    thresholds: {pass: 95, marginal: 75}         # optional (these are the defaults)

Metric keys are the fields of :class:`~.judge_config.MetricSpec`. Every problem is one
:class:`CanaryInputError` line naming the file and the value.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.judge_config import JudgeConfig, MetricSpec

TOP_KEYS = ("metrics", "group_weights", "thresholds", "tolerance", "confidence", "alpha")
METRIC_KEYS = tuple(MetricSpec.__dataclass_fields__)
EXAMPLE = "example_config.yaml"


def example_path() -> Path:
    """The bundled example config (``mlfleet/ops/canary/data/example_config.yaml``)."""
    return Path(str(resources.files("mlfleet.ops.canary") / "data" / EXAMPLE))


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CanaryInputError(f"{what}(={value!r}) must be a mapping")
    return value


def _unknown(keys: Any, known: tuple[str, ...], what: str) -> None:
    extra = sorted(set(map(str, keys)) - set(known))
    if extra:
        raise CanaryInputError(f"{what} key {extra[0]!r} is unknown; known: {', '.join(known)}")


def _metric(raw: Any, index: int) -> MetricSpec:
    data = _mapping(raw, f"metrics[{index}]")
    _unknown(data, METRIC_KEYS, f"metrics[{index}]")
    try:
        return MetricSpec(**data)
    except TypeError as exc:  # a missing name
        raise CanaryInputError(f"metrics[{index}](={raw!r}) needs a name") from exc


def parse_config(data: Any) -> JudgeConfig:
    """A :class:`JudgeConfig` from parsed YAML."""
    top = _mapping(data, "config")
    _unknown(top, TOP_KEYS, "config")
    metrics = top.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise CanaryInputError(f"metrics(={metrics!r}) must be a non-empty list")
    thresholds = _mapping(top.get("thresholds", {}), "thresholds")
    _unknown(thresholds, ("pass", "marginal"), "thresholds")
    extra = {k: top[k] for k in ("tolerance", "confidence", "alpha") if k in top}
    return JudgeConfig(metrics=tuple(_metric(m, i) for i, m in enumerate(metrics)),
                       group_weights=_mapping(top.get("group_weights", {}), "group_weights"),
                       pass_threshold=thresholds.get("pass", 95.0),
                       marginal_threshold=thresholds.get("marginal", 75.0), **extra)


def load_config(path: str | Path) -> JudgeConfig:
    """Read and validate a judge config file.

    Raises:
        CanaryInputError: unreadable, not YAML, or an invalid field (prefixed by the path).
    """
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CanaryInputError(f"config {str(path)!r} cannot be read as YAML: "
                               f"{type(exc).__name__}") from exc
    try:
        return parse_config(data)
    except CanaryInputError as exc:
        raise CanaryInputError(f"{path}: {exc}") from exc
