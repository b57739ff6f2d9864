"""The one mapping between a scenario's ``deployment:`` section and the server's
``ServerConfig``: ``mlfleet serve --scenario`` applies it, ``mlfleet ops diff`` compares
through it, so the two cannot disagree.

Both sides use the same dotted field paths (``rank.max_batch_size``,
``default_deadline_s``) and the same SI units; a value is flattened to a plain JSON
value (``admission_params`` to a mapping) before it is compared or applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mlfleet.scenario.deployment_spec import DeploymentSpec
from mlfleet.serving.server.config import ServerConfig

PATHS: tuple[str, ...] = (
    "model_version", "device", "max_body_bytes", "default_deadline_s", "admission",
    "admission_params",
    "rank.max_batch_size", "rank.max_queue_delay_s", "rank.queue_capacity",
    "rank.max_items_per_request",
    "generate.max_running", "generate.queue_capacity", "generate.max_prompt_tokens",
    "generate.max_new_tokens",
)
"""Every ``deployment`` field that is a ``ServerConfig`` field, by its dotted path in both
(``replicas`` is the one that is not: it counts servers)."""

SERVE_OPTIONS: Mapping[str, str] = {
    "device": "device", "max_batch": "rank.max_batch_size",
    "max_delay_ms": "rank.max_queue_delay_s", "queue_capacity": "rank.queue_capacity",
    "max_running": "generate.max_running", "generate_queue_capacity": "generate.queue_capacity",
    "max_body_bytes": "max_body_bytes", "default_deadline_ms": "default_deadline_s",
    "admission": "admission", "admission_params": "admission_params",
    "model_version": "model_version",
}
"""``mlfleet serve`` option (its click parameter name) -> the field path it sets."""


def _lookup(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _plain(path: str, value: Any) -> Any:
    """One comparable JSON value: admission parameters as a mapping, bytes as an int."""
    if value is None:
        return None
    if path == "admission_params":
        pairs = value.items() if isinstance(value, Mapping) else value
        return {str(key): item for key, item in pairs}
    if path == "max_body_bytes":
        return int(value)
    return value


def declared_values(spec: DeploymentSpec) -> dict[str, Any]:
    """The fields ``spec`` declares (left-out ones are not), path -> server value."""
    tree = spec.model_dump(mode="json")
    return {path: _plain(path, _lookup(tree, path)) for path in PATHS
            if _lookup(tree, path) is not None}


def running_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """A server's configuration (``/v1/info``'s ``config``) as path -> value, every path
    the mapping knows; a field the server does not report is None."""
    return {path: _plain(path, _lookup(config, path)) for path in PATHS}


def config_values(config: ServerConfig) -> dict[str, Any]:
    """:func:`running_values` of a ``ServerConfig`` object."""
    return running_values(dataclasses.asdict(config))


def apply_deployment(spec: DeploymentSpec, base: ServerConfig, *,
                     keep: frozenset[str] = frozenset()) -> ServerConfig:
    """``base`` with every declared field of ``spec`` set, except the paths in ``keep``
    (options given explicitly on the command line). Raises InputError if the result is
    not a valid server configuration."""
    values = {path: value for path, value in declared_values(spec).items() if path not in keep}
    if "admission_params" in values:
        values["admission_params"] = tuple(values["admission_params"].items())
    top = {path: value for path, value in values.items() if "." not in path}
    parts = {section: {path.split(".", 1)[1]: value for path, value in values.items()
                       if path.startswith(section + ".")} for section in ("rank", "generate")}
    return dataclasses.replace(base, **top,
                               rank=dataclasses.replace(base.rank, **parts["rank"]),
                               generate=dataclasses.replace(base.generate, **parts["generate"]))
